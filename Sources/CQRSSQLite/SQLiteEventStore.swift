import CQRS
import CQRSSchema
import Foundation

/// The embedded default `EventStore`: one SQLite file, one transaction per commit.
///
/// Global order: positions are `AUTOINCREMENT` row ids assigned inside the write transaction, and
/// SQLite admits one writer at a time, so positions are committed in increasing order. A WAL reader
/// sees a consistent snapshot of whole commits, so once it has seen position P no event below P can
/// appear later: no skipped events, even with several processes sharing the file.
public final class SQLiteEventStore: EventStore {
    /// The database the store writes to.
    public let database: SQLiteDatabase

    /// A store over an open database (which may also hold read models).
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    /// A store over the file at `path`, created and migrated if needed.
    public convenience init(path: String, durability: SQLiteDatabase.Durability = .process) throws {
        self.init(database: try SQLiteDatabase(path: path, durability: durability))
    }

    private static let eventColumns =
        "position, event_id, aggregate_type, aggregate_id, version, event_type, payload, metadata, occurred_at"

    public func loadStream<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws
        -> StreamSlice<A.Event>
    {
        let rows = try await database.read { connection -> (StoredSnapshot?, [StoredEventRow], Int) in
            let snapshot = useSnapshot ? try Self.snapshot(connection, A.aggregateType, id) : nil
            let events = try Self.events(connection, A.aggregateType, id, after: snapshot?.version ?? 0, limit: -1)
            let version = try Self.version(connection, A.aggregateType, id)
            return (snapshot, events, version)
        }
        return StreamSlice(snapshot: rows.0, events: try StoredEventRow.decode(rows.1, as: A.Event.self), version: rows.2)
    }

    /// Reads only the versions and payloads, joined into one JSON array as they come off the rows.
    public func loadReplay<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamReplay<A.Event> {
        let read = try await database.read { connection -> (snapshot: StoredSnapshot?, payloads: [UInt8], count: Int, last: Int?, version: Int) in
            let snapshot = useSnapshot ? try Self.snapshot(connection, A.aggregateType, id) : nil
            var payloads: [UInt8] = [UInt8(ascii: "[")]
            var last: Int?
            let count = try connection.statement(
                "SELECT version, payload FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND version > ? ORDER BY version"
            ).rows([.text(A.aggregateType), .text(id), .integer(Int64(snapshot?.version ?? 0))]) { row in
                if last != nil { payloads.append(UInt8(ascii: ",")) }
                row.withBytes(1) { payloads.append(contentsOf: $0) }
                last = Int(row.int(0))
            }.count
            payloads.append(UInt8(ascii: "]"))
            return (snapshot, payloads, count, last, try Self.version(connection, A.aggregateType, id))
        }
        guard let events = read.count == 0 ? [] : StoredEventRow.decodePayloads(read.payloads, count: read.count, as: A.Event.self) else {
            // A payload that does not decode: the full read names it in its error.
            return StreamReplay(try await loadStream(type, id: id, useSnapshot: useSnapshot))
        }
        return StreamReplay(snapshot: read.snapshot, events: events, lastEventVersion: read.last, version: read.version)
    }

    public func loadEvents<A: Aggregate>(_ type: A.Type, id: String, afterVersion: Int, limit: Int?) async throws
        -> [EventEnvelope<A.Event>]
    {
        let rows = try await database.read(singleStatement: true) { connection in
            try Self.events(connection, A.aggregateType, id, after: afterVersion, limit: limit ?? -1)
        }
        return try StoredEventRow.decode(rows, as: A.Event.self)
    }

    public func streamVersion(aggregateType: String, id: String) async throws -> Int {
        try await database.read(singleStatement: true) { connection in try Self.version(connection, aggregateType, id) }
    }

    public func commit<A: Aggregate>(_ commit: PendingCommit<A>) async throws -> CommitOutcome<A.Event> {
        // Encode before taking the writer, so the single writer only does I/O.
        let (payloads, metadata, snapshot) = try commit.encoded()
        let type = A.aggregateType
        let occurredAt = commit.occurredAt.millisecondsSince1970
        // Group commit: concurrent commands share one write transaction, each in its own savepoint.
        let inserted = try await database.writeInGroup { connection -> WriteOutcome in
            do {
                if let claim = commit.idempotency, let record = try Self.idempotency(connection, type, claim.key) {
                    return .duplicate(record)
                }
                let current = try Self.version(connection, type, commit.aggregateId)
                guard current == commit.expectedVersion else {
                    throw commit.conflict(currentVersion: current)
                }
                let insert = try connection.statement(
                    "INSERT INTO events (event_id, aggregate_type, aggregate_id, version, event_type, payload, metadata, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                )
                var positions: [Int64] = []
                for (offset, event) in commit.events.enumerated() {
                    try insert.run([
                        .text(event.eventId.uuidString.lowercased()), .text(type), .text(commit.aggregateId),
                        .integer(Int64(current + offset + 1)), .text(event.payload.eventType),
                        .text(payloads[offset]), .text(metadata), .integer(occurredAt),
                    ])
                    positions.append(connection.lastInsertRowId)
                }
                if let snapshot {
                    try connection.statement(
                        "INSERT OR REPLACE INTO snapshots (aggregate_type, aggregate_id, version, state) VALUES (?, ?, ?, ?)"
                    ).run([.text(type), .text(commit.aggregateId), .integer(Int64(commit.newVersion)), .text(snapshot)])
                }
                if let claim = commit.idempotency, let last = positions.last {
                    try connection.statement(
                        "INSERT INTO idempotency_keys (aggregate_type, key, fingerprint, aggregate_id, first_version, version, global_position) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ).run([
                        .text(type), .text(claim.key), .text(claim.fingerprint), .text(commit.aggregateId),
                        .integer(Int64(current + 1)), .integer(Int64(commit.newVersion)), .integer(last),
                    ])
                }
                return .inserted(positions)
            } catch let failure as SQLiteFailure where failure.isUniqueViolation {
                // Another process committed the same version first (the check above saw an older state).
                let current = (try? Self.version(connection, type, commit.aggregateId)) ?? commit.expectedVersion + 1
                throw commit.conflict(currentVersion: current)
            }
        }
        switch inserted {
        case .duplicate(let record): return .duplicate(record)
        case .inserted(let positions):
            return .committed(commit.envelopes(positions: positions))
        }
    }

    public func idempotencyRecord(aggregateType: String, key: String) async throws -> IdempotencyRecord? {
        try await database.read(singleStatement: true) { connection in try Self.idempotency(connection, aggregateType, key) }
    }

    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope<JSONValue>] {
        let rows = try await database.read(singleStatement: true) { connection in
            try connection.statement(
                "SELECT \(Self.eventColumns) FROM events WHERE position > ? ORDER BY position LIMIT ?"
            ).rows([.integer(position), .integer(Int64(max(limit, 0)))], StoredEventRow.init)
        }
        return try StoredEventRow.decode(rows, as: JSONValue.self)
    }

    public func logExtent(after position: Int64) async throws -> LogExtent {
        try await database.read { connection in
            let head = try connection.statement("SELECT coalesce(max(position), 0) FROM events").rows([]) { $0.int(0) }.first ?? 0
            let after = try connection.statement("SELECT count(*) FROM events WHERE position > ?").rows([.integer(position)]) {
                Int($0.int(0))
            }.first ?? 0
            return LogExtent(head: head, eventsAfter: after)
        }
    }

    // MARK: - Queries shared by reads and writes

    private static func version(_ connection: SQLiteConnection, _ type: String, _ id: String) throws -> Int {
        Int(
            try connection.statement(
                "SELECT coalesce(max(version), 0) FROM events WHERE aggregate_type = ? AND aggregate_id = ?"
            ).rows([.text(type), .text(id)]) { $0.int(0) }.first ?? 0)
    }

    private static func snapshot(_ connection: SQLiteConnection, _ type: String, _ id: String) throws -> StoredSnapshot? {
        try connection.statement("SELECT version, state FROM snapshots WHERE aggregate_type = ? AND aggregate_id = ?")
            .rows([.text(type), .text(id)]) { StoredSnapshot(version: Int($0.int(0)), state: $0.data(1)) }.first
    }

    private static func events(_ connection: SQLiteConnection, _ type: String, _ id: String, after: Int, limit: Int)
        throws -> [StoredEventRow]
    {
        try connection.statement(
            "SELECT \(eventColumns) FROM events WHERE aggregate_type = ? AND aggregate_id = ? AND version > ? ORDER BY version LIMIT ?"
        ).rows([.text(type), .text(id), .integer(Int64(after)), .integer(Int64(limit))]) {
            // The rows' type and id are the ones asked for: sharing those strings saves two per row.
            try StoredEventRow($0, aggregateType: type, aggregateId: id)
        }
    }

    private static func idempotency(_ connection: SQLiteConnection, _ type: String, _ key: String) throws
        -> IdempotencyRecord?
    {
        try connection.statement(
            "SELECT fingerprint, aggregate_id, first_version, version, global_position FROM idempotency_keys WHERE aggregate_type = ? AND key = ?"
        ).rows([.text(type), .text(key)]) { row in
            IdempotencyRecord(
                aggregateType: type, key: key, fingerprint: row.text(0), aggregateId: row.text(1),
                firstVersion: Int(row.int(2)), version: Int(row.int(3)), globalPosition: row.int(4))
        }.first
    }

}

private enum WriteOutcome: Sendable {
    case inserted([Int64])
    case duplicate(IdempotencyRecord)
}

extension StoredEventRow {
    /// The row of an `eventColumns` query, read on the SQLite queue.
    fileprivate init(_ row: SQLiteStatement) throws {
        try self.init(row, aggregateType: row.text(2), aggregateId: row.text(3))
    }

    fileprivate init(_ row: SQLiteStatement, aggregateType: String, aggregateId: String) throws {
        guard let eventId = row.withBytes(1, parseUUID) else {
            throw CqrsError.serialization("Event at position \(row.int(0)) has an invalid id '\(row.text(1))'")
        }
        self.init(
            position: row.int(0), eventId: eventId, aggregateType: aggregateType, aggregateId: aggregateId,
            version: Int(row.int(4)), eventType: row.text(5), payload: row.data(6), metadata: row.data(7),
            occurredAt: row.int(8))
    }
}

/// Parses a canonical UUID (`8-4-4-4-12` hex digits) without allocating. Foundation's parser goes
/// through `sscanf`, which dominated replay time.
func parseUUID(_ text: UnsafeBufferPointer<UInt8>) -> UUID? {
    guard text.count == 36 else { return nil }
    var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    let parsed = withUnsafeMutableBytes(of: &uuid) { bytes -> Bool in
        var offset = 0
        for byte in 0..<16 {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard text[offset] == UInt8(ascii: "-") else { return false }
                offset += 1
            }
            guard let high = hexValue(text[offset]), let low = hexValue(text[offset + 1]) else { return false }
            bytes[byte] = high << 4 | low
            offset += 2
        }
        return true
    }
    return parsed ? UUID(uuid: uuid) : nil
}

private func hexValue(_ char: UInt8) -> UInt8? {
    switch char {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
    default: nil
    }
}
