import CQRS
import CQRSSchema
import Foundation
import PostgresNIO

/// An `EventStore` in PostgreSQL: one statement (one transaction) per commit, acknowledged only once
/// its commit is known to be done; no store-wide lock.
///
/// **Global position.** An event's position is `xid × 2²⁰ + n`, where `xid` is the 64-bit id of the
/// transaction that wrote it (`pg_current_xact_id()`) and `n` its index in the commit (1…2²⁰−1).
/// Positions are unique and increase within a commit. ``readAll(after:limit:)`` returns only events
/// whose transaction id is below `pg_snapshot_xmin` of its own snapshot: every such transaction has
/// finished, so every event it committed is already visible to that read, and any transaction still
/// running, or starting later, has a larger id and therefore larger positions. A reader that has seen
/// position P thus never later finds a committed event below P. A commit becomes readable in the
/// global log once every transaction older than it has finished (see `docs/postgres.md`).
///
/// Per aggregate, log order is version order: a command's transaction gets its id *after* its
/// statement snapshot saw the previous version committed, so its id is the larger one.
public final class PostgresEventStore: EventStore {
    /// The schema holding the tables.
    public let schema: PostgresSchema
    private let sql: Statements
    /// How long ``readAll(after:limit:)`` waits for older transactions before returning the safe prefix.
    public let readAllWait: Duration
    /// The batcher of concurrent commits (nil: one statement per commit).
    private let batches: PostgresGroupCommit?

    /// The number of events one commit may hold (2²⁰ − 1).
    public static let maximumEventsPerCommit = (1 << 20) - 1

    /// How concurrent commits share transactions.
    public struct GroupCommit: Sendable, Hashable {
        /// How many batch transactions may run at once (each on its own connection); a commit that
        /// finds them all busy waits for the next batch.
        public var concurrentBatches: Int
        /// The most commits in one batch (each writing commit is a subtransaction; beyond 64 in one
        /// transaction PostgreSQL's per-backend subtransaction cache overflows and every snapshot
        /// taken meanwhile becomes slower).
        public var maximumBatch: Int
        /// About the most bytes of events, metadata and snapshots in one batch.
        public var maximumBytes: Int

        /// Creates settings.
        public init(concurrentBatches: Int = 4, maximumBatch: Int = 64, maximumBytes: Int = 8 << 20) {
            self.concurrentBatches = max(1, concurrentBatches)
            self.maximumBatch = max(1, maximumBatch)
            self.maximumBytes = max(1, maximumBytes)
        }
    }

    /// A store in `schema` (see ``PostgresDatabase/schema(_:)``).
    /// - Parameters:
    ///   - schema: the schema holding the tables.
    ///   - readAllWait: how long ``readAll(after:limit:)`` waits for older transactions.
    ///   - groupCommit: how concurrent commits are batched into shared transactions (one round trip
    ///     each); nil commits each in its own statement followed by a `SELECT 1` (two round trips).
    public init(schema: PostgresSchema, readAllWait: Duration = .seconds(2), groupCommit: GroupCommit? = GroupCommit()) {
        self.schema = schema
        self.readAllWait = readAllWait
        self.sql = Statements(schema)
        self.batches = groupCommit.map { PostgresGroupCommit(schema: schema, options: $0) }
    }

    /// A store in the schema `schemaName` of `database`, created and migrated if needed.
    public convenience init(database: PostgresDatabase, schema schemaName: String = "public") async throws {
        self.init(schema: try await database.schema(schemaName))
    }

    private var database: PostgresDatabase { schema.database }

    public func loadStream<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws
        -> StreamSlice<A.Event>
    {
        var binds = PostgresBindings()
        binds.append(A.aggregateType)
        binds.append(id)
        binds.append(useSnapshot)
        // One statement, so the version, the snapshot and the events come from one snapshot of the data.
        let rows = try await database.rows(PostgresQuery(unsafeSQL: sql.loadStream, binds: binds)) { row in
            let (part, version, position, eventId, eventType, text, metadata, occurredAt) = try row.decode(
                (Int, Int, Int64?, UUID?, String?, String?, String?, Int64?).self)
            return StreamRow(
                part: part, version: version, position: position, eventId: eventId, eventType: eventType, text: text,
                metadata: metadata, occurredAt: occurredAt)
        }
        var version = 0
        var snapshot: StoredSnapshot?
        var events: [StoredEventRow] = []
        for row in rows {
            switch row.part {
            case 0: version = row.version
            case 1: snapshot = StoredSnapshot(version: row.version, state: Data((row.text ?? "null").utf8))
            default:
                guard let position = row.position, let eventId = row.eventId, let eventType = row.eventType,
                    let payload = row.text, let metadata = row.metadata, let occurredAt = row.occurredAt
                else { throw CqrsError.database("Incomplete event row in \(A.aggregateType) '\(id)'") }
                events.append(
                    StoredEventRow(
                        position: position, eventId: eventId, aggregateType: A.aggregateType, aggregateId: id,
                        version: row.version, eventType: eventType, payload: Data(payload.utf8),
                        metadata: Data(metadata.utf8), occurredAt: occurredAt))
            }
        }
        return StreamSlice(snapshot: snapshot, events: try StoredEventRow.decode(events, as: A.Event.self), version: version)
    }

    public func loadEvents<A: Aggregate>(_ type: A.Type, id: String, afterVersion: Int, limit: Int?) async throws
        -> [EventEnvelope<A.Event>]
    {
        var binds = PostgresBindings()
        binds.append(A.aggregateType)
        binds.append(id)
        binds.append(afterVersion)
        binds.append(limit.map { max($0, 0) })
        let rows = try await database.rows(PostgresQuery(unsafeSQL: sql.loadEvents, binds: binds), StoredEventRow.init)
        return try StoredEventRow.decode(rows, as: A.Event.self)
    }

    public func streamVersion(aggregateType: String, id: String) async throws -> Int {
        var binds = PostgresBindings()
        binds.append(aggregateType)
        binds.append(id)
        return try await database.rows(PostgresQuery(unsafeSQL: sql.streamVersion, binds: binds)) {
            try $0.decode(Int.self)
        }.first ?? 0
    }

    public func commit<A: Aggregate>(_ commit: PendingCommit<A>) async throws -> CommitOutcome<A.Event> {
        try commit.checkEventCount(atMost: Self.maximumEventsPerCommit)
        let (payloads, metadata, snapshot) = try commit.encoded()
        guard let batches, commit.idempotency?.key.isEmpty != true else {
            return try await commitAlone(commit, payloads: payloads, metadata: metadata, snapshot: snapshot)
        }
        let outcome = try await batches.submit(
            PostgresGroupCommit.Commit(
                type: A.aggregateType, id: commit.aggregateId, expected: commit.expectedVersion,
                eventIds: commit.events.map { $0.eventId }, eventTypes: commit.events.map { $0.payload.eventType }, payloads: payloads,
                metadata: metadata, occurredAt: commit.occurredAt.millisecondsSince1970, snapshot: snapshot,
                key: commit.idempotency?.key, fingerprint: commit.idempotency?.fingerprint))
        switch outcome {
        case .written(let first):
            return .committed(commit.envelopes(positions: (0..<Int64(commit.events.count)).map { first + $0 }))
        case .refused(let fresh, let current):
            return try await refused(commit, freshKey: fresh, currentVersion: current)
        case .failed(let sqlState, let constraint, let message):
            let error = PostgresDatabase.serverError(sqlState: sqlState, constraint: constraint)
            let raced: [PostgresError.Code] = [.uniqueViolation, .deadlockDetected]
            guard raced.contains(PostgresError.Code(raw: sqlState)) else {
                // Clients get the SQLSTATE only; the server's message belongs in the log.
                if error.status == 500 { database.logger.error("PostgreSQL commit failed in a batch: \(sqlState) \(message)") }
                throw error
            }
            return try await lostRace(commit, error)
        }
    }

    /// One commit in its own statement (`cqrs_commit`), acknowledged after a `SELECT 1`.
    private func commitAlone<A: Aggregate>(
        _ commit: PendingCommit<A>, payloads: [String], metadata: String, snapshot: String?
    ) async throws -> CommitOutcome<A.Event> {
        var binds = PostgresBindings()
        binds.append(A.aggregateType)
        binds.append(commit.aggregateId)
        binds.append(commit.expectedVersion)
        binds.append(commit.events.map { $0.eventId })
        binds.append(commit.events.map { $0.payload.eventType })
        binds.append(payloads)
        binds.append(metadata)
        binds.append(commit.occurredAt.millisecondsSince1970)
        binds.append(snapshot)
        binds.append(commit.idempotency?.key)
        binds.append(commit.idempotency?.fingerprint)
        let query = PostgresQuery(unsafeSQL: sql.commit, binds: binds)
        let rows: [CommitRow]
        do {
            rows = try await database.rowsCommitted(query) { row in
                // The fourth column, each event's version, is implied by the order of the positions.
                let (freshKey, current, position, _) = try row.decode((Bool, Int, Int64?, Int?).self)
                return CommitRow(freshKey: freshKey, current: current, position: position)
            }
        } catch let error as CqrsError where error.details?["sqlState"]?.stringValue == PostgresError.Code.uniqueViolation.raw {
            return try await lostRace(commit, error)
        }
        let positions = rows.compactMap(\.position)
        if positions.count == commit.events.count {
            return .committed(commit.envelopes(positions: positions))
        }
        guard let guardRow = rows.first, positions.isEmpty else {
            throw CqrsError.database(
                "The commit of \(A.aggregateType) '\(commit.aggregateId)' wrote \(positions.count) of \(commit.events.count) events")
        }
        return try await refused(commit, freshKey: guardRow.freshKey, currentVersion: guardRow.current)
    }

    /// A commit its checks refused: the key's earlier result, or a conflict.
    private func refused<A: Aggregate>(_ commit: PendingCommit<A>, freshKey: Bool, currentVersion: Int) async throws
        -> CommitOutcome<A.Event>
    {
        if !freshKey, let claim = commit.idempotency,
            let record = try await idempotencyRecord(aggregateType: A.aggregateType, key: claim.key)
        {
            return .duplicate(record)
        }
        throw commit.conflict(currentVersion: currentVersion)
    }

    /// A concurrent commit won a race the statement's snapshot could not see (the same version of the
    /// stream, or the same idempotency key; a deadlock between two processes' batches): re-read to
    /// report what happened.
    private func lostRace<A: Aggregate>(_ commit: PendingCommit<A>, _ error: CqrsError) async throws -> CommitOutcome<A.Event> {
        let type = A.aggregateType
        if let claim = commit.idempotency, let record = try await idempotencyRecord(aggregateType: type, key: claim.key) {
            return .duplicate(record)
        }
        let current = try await streamVersion(aggregateType: type, id: commit.aggregateId)
        if current != commit.expectedVersion || error.details?["constraint"] == "events_stream_version_key" {
            throw commit.conflict(currentVersion: max(current, commit.expectedVersion + 1))
        }
        throw error
    }

    public func idempotencyRecord(aggregateType: String, key: String) async throws -> IdempotencyRecord? {
        var binds = PostgresBindings()
        binds.append(aggregateType)
        binds.append(key)
        return try await database.rows(PostgresQuery(unsafeSQL: sql.idempotency, binds: binds)) { row in
            let (fingerprint, aggregateId, first, version, position) = try row.decode((String, String, Int, Int, Int64).self)
            return IdempotencyRecord(
                aggregateType: aggregateType, key: key, fingerprint: fingerprint, aggregateId: aggregateId,
                firstVersion: first, version: version, globalPosition: position)
        }.first
    }

    public func logExtent(after position: Int64) async throws -> LogExtent {
        var binds = PostgresBindings()
        binds.append(position)
        let events = schema.table("events")
        let rows = try await database.rows(
            PostgresQuery(
                unsafeSQL: """
                    SELECT (SELECT coalesce(max(position), 0) FROM \(events)
                            WHERE position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1048576),
                        (SELECT count(*) FROM \(events) WHERE position > $1)
                    """,
                binds: binds)
        ) { try $0.decode((Int64, Int).self) }
        return LogExtent(head: rows.first?.0 ?? 0, eventsAfter: rows.first?.1 ?? 0)
    }

    /// Events above `position` in position order, only from transactions older than every transaction
    /// still running (see the type's documentation), so a reader never skips an event.
    ///
    /// When a younger commit is held back by an older transaction that is still running, the read
    /// polls (every 2 ms, for at most ``readAllWait``) until every transaction that was running when
    /// it was called has finished, so a caller always finds its own committed events.
    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope<JSONValue>] {
        var binds = PostgresBindings()
        binds.append(position)
        binds.append(max(limit, 0))
        let query = PostgresQuery(unsafeSQL: sql.readAll, binds: binds)
        var target: Int64?
        let deadline = ContinuousClock.now + readAllWait
        while true {
            let rows = try await database.rows(query) { row in
                let (xmin, xmax, heldBack, position, eventId, aggregateType, aggregateId, version, eventType, payload, metadata, occurredAt) =
                    try row.decode((Int64, Int64, Bool, Int64?, UUID?, String?, String?, Int?, String?, String?, String?, Int64?).self)
                var event: StoredEventRow?
                if let position, let eventId, let aggregateType, let aggregateId, let version, let eventType, let payload,
                    let metadata, let occurredAt
                {
                    event = StoredEventRow(
                        position: position, eventId: eventId, aggregateType: aggregateType, aggregateId: aggregateId,
                        version: version, eventType: eventType, payload: Data(payload.utf8), metadata: Data(metadata.utf8),
                        occurredAt: occurredAt)
                }
                return (xmin: xmin, xmax: xmax, heldBack: heldBack, event: event)
            }
            let events = rows.compactMap(\.event)
            guard let first = rows.first else { return [] }
            let goal = target ?? first.xmax
            target = goal
            // Complete when nothing visible was held back, the page is full, or every transaction that was
            // running at the first attempt has finished.
            if !first.heldBack || events.count >= limit || first.xmin >= goal || ContinuousClock.now >= deadline {
                return try StoredEventRow.decode(events, as: JSONValue.self)
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }


}

/// The SQL of a store, with its schema's quoted name spliced in once.
private struct Statements: Sendable {
    let loadStream: String
    let loadEvents: String
    let streamVersion: String
    let commit: String
    let idempotency: String
    let readAll: String

    static let columns =
        "position, event_id, aggregate_type, aggregate_id, version, event_type, payload::text, metadata::text, (extract(epoch FROM occurred_at) * 1000)::bigint"

    init(_ schema: PostgresSchema) {
        let events = schema.table("events")
        let snapshots = schema.table("snapshots")
        let keys = schema.table("idempotency_keys")
        let columns = Self.columns
        loadStream = """
            WITH snap AS (
                SELECT version, state FROM \(snapshots) WHERE aggregate_type = $1 AND aggregate_id = $2 AND $3
            )
            SELECT 0 AS part, (SELECT coalesce(max(version), 0) FROM \(events) WHERE aggregate_type = $1 AND aggregate_id = $2)::bigint AS version,
                NULL::bigint, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::bigint
            UNION ALL
            SELECT 1, version, NULL, NULL, NULL, state::text, NULL, NULL FROM snap
            UNION ALL
            SELECT 2, version, position, event_id, event_type, payload::text, metadata::text, (extract(epoch FROM occurred_at) * 1000)::bigint
            FROM \(events)
            WHERE aggregate_type = $1 AND aggregate_id = $2 AND version > coalesce((SELECT version FROM snap), 0)
            ORDER BY 1, 2
            """
        loadEvents = """
            SELECT \(columns) FROM \(events)
            WHERE aggregate_type = $1 AND aggregate_id = $2 AND version > $3 ORDER BY version LIMIT $4
            """
        streamVersion = "SELECT coalesce(max(version), 0) FROM \(events) WHERE aggregate_type = $1 AND aggregate_id = $2"
        // The commit runs the schema's `cqrs_commit` function (migration 2 in `PostgresSchema`), whose
        // one statement PL/pgSQL plans once per connection instead of on every call.
        commit = "SELECT * FROM \(schema.quoted).cqrs_commit($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        idempotency = """
            SELECT fingerprint, aggregate_id, first_version, version, global_position FROM \(keys)
            WHERE aggregate_type = $1 AND key = $2
            """
        // Only events of transactions older than the oldest one still running: those are final. The
        // snapshot's bounds and whether a visible event was held back come with the rows.
        readAll = """
            WITH h AS (
                SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
                    pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
            )
            SELECT h.xmin, h.xmax, EXISTS (SELECT 1 FROM \(events) WHERE position > greatest($1, h.xmin * 1048576)) AS held_back,
                e.position, e.event_id, e.aggregate_type, e.aggregate_id, e.version, e.event_type, e.payload, e.metadata, e.occurred_at
            FROM h LEFT JOIN LATERAL (
                SELECT position, event_id, aggregate_type, aggregate_id, version, event_type, payload::text AS payload,
                    metadata::text AS metadata, (extract(epoch FROM occurred_at) * 1000)::bigint AS occurred_at
                FROM \(events)
                WHERE position > $1 AND position < h.xmin * 1048576
                ORDER BY position LIMIT $2
            ) AS e ON true
            ORDER BY e.position
            """
    }
}

private struct StreamRow: Sendable {
    var part: Int
    var version: Int
    var position: Int64?
    var eventId: UUID?
    var eventType: String?
    var text: String?
    var metadata: String?
    var occurredAt: Int64?
}

private struct CommitRow: Sendable {
    var freshKey: Bool
    var current: Int
    var position: Int64?
}

extension StoredEventRow {
    /// The row of a `columns` query.
    fileprivate init(_ row: PostgresRow) throws {
        let (position, eventId, aggregateType, aggregateId, version, eventType, payload, metadata, occurredAt) =
            try row.decode((Int64, UUID, String, String, Int, String, String, String, Int64).self)
        self.init(
            position: position, eventId: eventId, aggregateType: aggregateType, aggregateId: aggregateId,
            version: version, eventType: eventType, payload: Data(payload.utf8), metadata: Data(metadata.utf8),
            occurredAt: occurredAt)
    }
}
