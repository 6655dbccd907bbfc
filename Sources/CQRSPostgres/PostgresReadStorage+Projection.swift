import CQRS
import CQRSSchema
import Foundation
import PostgresNIO

/// Checkpoints live in `projection_checkpoints` of the same schema. A batch commits as one statement:
/// the compare-and-set of the checkpoint (position and lease holder) gates the document writes, so
/// they happen together or not at all; a concurrent holder's commit makes the compare fail. Lease
/// times are the server's clock.
extension PostgresReadStorage {
    private var checkpoints: String { schema.table("projection_checkpoints") }

    public func find(keys: [ViewKey]) async throws -> [ViewKey: Model] {
        for key in keys { try Model.checkKey(id: key.id, parentId: key.parentId) }
        guard !keys.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(Model.modelType)
        binds.append(keys.map { $0.parentId ?? "" })
        binds.append(keys.map(\.id))
        let rows = try await database.rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT r.parent_id, r.id, r.data::text FROM \(table) r
                    JOIN unnest($2::text[], $3::text[]) AS k(parent_id, id) ON r.parent_id = k.parent_id AND r.id = k.id
                    WHERE r.model_type = $1
                    """, binds: binds)
        ) { try $0.decode((String, String, String).self) }
        var found: [ViewKey: Model] = [:]
        for (parent, id, text) in rows {
            found[ViewKey(id: id, parentId: Model.isChild ? parent : nil)] = try Self.decode(text)
        }
        return found
    }

    public func checkpoint(_ projection: String) async throws -> ProjectionCheckpoint {
        var binds = PostgresBindings()
        binds.append(projection)
        let rows = try await database.rows(PostgresQuery(unsafeSQL: selectCheckpoint, binds: binds), Self.checkpoint)
        return rows.first ?? ProjectionCheckpoint(name: projection, position: 0)
    }

    public func claim(_ projection: String, owner: String, lease: Duration) async throws -> ProjectionCheckpoint {
        let (table, checkpoints, select, logger) = (table, checkpoints, selectCheckpoint, database.logger)
        let milliseconds = Int64(lease.inSeconds * 1000)
        return try await database.withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in
                var created = false
                var binds = PostgresBindings()
                binds.append(projection)
                for try await _ in try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO \(checkpoints) (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING RETURNING 1",
                        binds: binds), logger: logger)
                { created = true }
                if created {
                    // A projection without a checkpoint owns no documents.
                    var type = PostgresBindings()
                    type.append(Model.modelType)
                    _ = try await connection.query(
                        PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE model_type = $1", binds: type), logger: logger)
                }
                var update = PostgresBindings()
                update.append(projection)
                update.append(owner)
                update.append(milliseconds)
                _ = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            UPDATE \(checkpoints) SET owner = $2, lease_expires_at = clock_timestamp() + $3 * interval '1 millisecond'
                            WHERE name = $1 AND (owner IS NULL OR owner = $2 OR lease_expires_at < clock_timestamp())
                            """, binds: update), logger: logger)
                var result: ProjectionCheckpoint?
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: select, binds: binds), logger: logger) {
                    result = try Self.checkpoint(row)
                }
                guard let result else { throw CqrsError.database("The checkpoint of \(projection) vanished") }
                return result
            }
        }
    }

    public func commit(_ commit: ProjectionCommit<Model>) async throws -> Bool {
        var deletes: [ViewKey] = []
        var upserts: [(key: ViewKey, data: String)] = []
        for (key, document) in commit.writes {
            try Model.checkKey(id: key.id, parentId: key.parentId)
            if let document {
                upserts.append((key, String(decoding: try CQRSJSON.encode(document), as: UTF8.self)))
            } else {
                deletes.append(key)
            }
        }
        var binds = PostgresBindings()
        binds.append(commit.projection)
        binds.append(commit.from)
        binds.append(commit.owner)
        binds.append(commit.to)
        binds.append(Int64(commit.lease.inSeconds * 1000))
        binds.append(Model.modelType)
        binds.append(deletes.map { $0.parentId ?? "" })
        binds.append(deletes.map(\.id))
        binds.append(upserts.map { $0.key.parentId ?? "" })
        binds.append(upserts.map(\.key.id))
        binds.append(upserts.map(\.data))
        let rows = try await database.rowsCommitted(
            PostgresQuery(
                unsafeSQL: """
                    WITH moved AS (
                        UPDATE \(checkpoints) SET position = $4, last_error = NULL,
                            lease_expires_at = clock_timestamp() + $5 * interval '1 millisecond'
                        WHERE name = $1 AND position = $2 AND owner = $3 RETURNING 1
                    ), removed AS (
                        DELETE FROM \(table) r USING unnest($7::text[], $8::text[]) AS d(parent_id, id)
                        WHERE EXISTS (SELECT 1 FROM moved) AND r.model_type = $6 AND r.parent_id = d.parent_id AND r.id = d.id
                    ), written AS (
                        INSERT INTO \(table) (model_type, parent_id, id, data)
                        SELECT $6, u.parent_id, u.id, u.data::jsonb FROM unnest($9::text[], $10::text[], $11::text[]) AS u(parent_id, id, data)
                        WHERE EXISTS (SELECT 1 FROM moved)
                        ON CONFLICT (model_type, parent_id, id) DO UPDATE SET data = excluded.data
                    )
                    SELECT count(*) FROM moved
                    """, binds: binds)
        ) { try $0.decode(Int.self) }
        return rows.first == 1
    }

    public func reset(_ projection: String) async throws {
        let (table, checkpoints, logger) = (table, checkpoints, database.logger)
        let type = Model.modelType
        try await database.withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in
                // The checkpoint first: its row lock waits for a batch commit in flight, so that the
                // DELETE (a new statement, a new snapshot) also removes what that batch wrote.
                var binds = PostgresBindings()
                binds.append(projection)
                _ = try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            INSERT INTO \(checkpoints) (name, position) VALUES ($1, 0)
                            ON CONFLICT (name) DO UPDATE SET position = 0, last_error = NULL
                            """, binds: binds), logger: logger)
                var model = PostgresBindings()
                model.append(type)
                _ = try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE model_type = $1", binds: model), logger: logger)
            }
        }
    }

    public func release(_ projection: String, owner: String) async throws {
        var binds = PostgresBindings()
        binds.append(projection)
        binds.append(owner)
        try await database.execute(
            PostgresQuery(
                unsafeSQL: "UPDATE \(checkpoints) SET owner = NULL, lease_expires_at = NULL WHERE name = $1 AND owner = $2", binds: binds))
    }

    public func recordError(_ projection: String, message: String?) async throws {
        var binds = PostgresBindings()
        binds.append(projection)
        binds.append(message)
        try await database.execute(
            PostgresQuery(unsafeSQL: "UPDATE \(checkpoints) SET last_error = $2 WHERE name = $1", binds: binds))
    }

    private var selectCheckpoint: String {
        """
        SELECT name, position, owner, (extract(epoch FROM lease_expires_at) * 1000)::bigint, last_error
        FROM \(checkpoints) WHERE name = $1
        """
    }

    private static func checkpoint(_ row: PostgresRow) throws -> ProjectionCheckpoint {
        let (name, position, owner, lease, error) = try row.decode((String, Int64, String?, Int64?, String?).self)
        return ProjectionCheckpoint(
            name: name, position: position, owner: owner, leaseExpiresAt: lease.map { Date(millisecondsSince1970: $0) },
            lastError: error)
    }
}
