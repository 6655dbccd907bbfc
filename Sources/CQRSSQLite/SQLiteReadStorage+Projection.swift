import CQRS
import CQRSSchema
import Foundation

/// Checkpoints live in `projection_checkpoints` of the same file, so a batch's documents and its
/// checkpoint commit in one transaction of the single writer. Lease times are this machine's clock
/// (every process sharing a SQLite file runs on it).
extension SQLiteReadStorage {
    public func find(keys: [ViewKey]) async throws -> [ViewKey: Model] {
        for key in keys { try Model.checkKey(id: key.id, parentId: key.parentId) }
        let type = Model.modelType
        let rows = try await database.read { connection in
            let statement = try connection.statement("SELECT data FROM read_models WHERE model_type = ? AND parent_id = ? AND id = ?")
            return try keys.compactMap { key -> (ViewKey, Data)? in
                try statement.rows([.text(type), .text(key.parentId ?? ""), .text(key.id)]) { (key, $0.data(0)) }.first
            }
        }
        var found: [ViewKey: Model] = [:]
        for (key, data) in rows { found[key] = try Self.decode(data) }
        return found
    }

    public func checkpoint(_ projection: String) async throws -> ProjectionCheckpoint {
        try await database.read(singleStatement: true) { connection in
            try Self.checkpoint(connection, projection) ?? ProjectionCheckpoint(name: projection, position: 0)
        }
    }

    public func claim(_ projection: String, owner: String, lease: Duration) async throws -> ProjectionCheckpoint {
        let type = Model.modelType
        return try await database.write { connection in
            try connection.transaction(immediate: true) {
                let now = Date().millisecondsSince1970
                if try Self.checkpoint(connection, projection) == nil {
                    // A projection without a checkpoint owns no documents.
                    try connection.statement("DELETE FROM read_models WHERE model_type = ?").run([.text(type)])
                    try connection.statement("INSERT INTO projection_checkpoints (name, position) VALUES (?, 0)").run([.text(projection)])
                }
                try connection.statement(
                    """
                    UPDATE projection_checkpoints SET owner = ?, lease_expires_at = ?
                    WHERE name = ? AND (owner IS NULL OR owner = ? OR lease_expires_at < ?)
                    """
                ).run([.text(owner), .integer(now + Int64(lease.inSeconds * 1000)), .text(projection), .text(owner), .integer(now)])
                return try Self.checkpoint(connection, projection)!
            }
        }
    }

    public func commit(_ commit: ProjectionCommit<Model>) async throws -> Bool {
        let type = Model.modelType
        let writes: [(key: ViewKey, data: String?)] = try commit.writes.map { key, document in
            try Model.checkKey(id: key.id, parentId: key.parentId)
            return (key, try document.map { String(decoding: try CQRSJSON.encode($0), as: UTF8.self) })
        }
        let leaseUntil = Date().millisecondsSince1970 + Int64(commit.lease.inSeconds * 1000)
        return try await database.write { connection in
            try connection.transaction(immediate: true) {
                try connection.statement(
                    """
                    UPDATE projection_checkpoints SET position = ?, lease_expires_at = ?, last_error = NULL
                    WHERE name = ? AND position = ? AND owner = ?
                    """
                ).run([.integer(commit.to), .integer(leaseUntil), .text(commit.projection), .integer(commit.from), .text(commit.owner)])
                guard connection.changes == 1 else { return false }
                let upsert = try connection.statement(
                    "INSERT OR REPLACE INTO read_models (model_type, parent_id, id, data) VALUES (?, ?, ?, ?)")
                let delete = try connection.statement("DELETE FROM read_models WHERE model_type = ? AND parent_id = ? AND id = ?")
                for write in writes {
                    let key: [SQLiteValue] = [.text(type), .text(write.key.parentId ?? ""), .text(write.key.id)]
                    if let data = write.data { try upsert.run(key + [.text(data)]) } else { try delete.run(key) }
                }
                return true
            }
        }
    }

    public func reset(_ projection: String) async throws {
        let type = Model.modelType
        try await database.write { connection in
            try connection.transaction(immediate: true) {
                try connection.statement("DELETE FROM read_models WHERE model_type = ?").run([.text(type)])
                try connection.statement(
                    """
                    INSERT INTO projection_checkpoints (name, position) VALUES (?, 0)
                    ON CONFLICT (name) DO UPDATE SET position = 0, last_error = NULL
                    """
                ).run([.text(projection)])
            }
        }
    }

    public func release(_ projection: String, owner: String) async throws {
        try await database.write { connection in
            try connection.statement("UPDATE projection_checkpoints SET owner = NULL, lease_expires_at = NULL WHERE name = ? AND owner = ?")
                .run([.text(projection), .text(owner)])
        }
    }

    public func recordError(_ projection: String, message: String?) async throws {
        try await database.write { connection in
            try connection.statement("UPDATE projection_checkpoints SET last_error = ? WHERE name = ?")
                .run([message.map { .text($0) } ?? .null, .text(projection)])
        }
    }

    private static func checkpoint(_ connection: SQLiteConnection, _ projection: String) throws -> ProjectionCheckpoint? {
        try connection.statement(
            "SELECT position, owner, lease_expires_at, last_error FROM projection_checkpoints WHERE name = ?"
        ).rows([.text(projection)]) { row in
            ProjectionCheckpoint(
                name: projection, position: row.int(0), owner: row.isNull(1) ? nil : row.text(1),
                leaseExpiresAt: row.isNull(2) ? nil : Date(millisecondsSince1970: row.int(2)),
                lastError: row.isNull(3) ? nil : row.text(3))
        }.first
    }
}
