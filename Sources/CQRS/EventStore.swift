import CQRSSchema
import Foundation

/// When the engine stores a snapshot of an aggregate's state with a commit.
public enum SnapshotPolicy: Sendable, Hashable {
    /// Never: every load replays the whole stream.
    case never
    /// With every commit.
    case everyCommit
    /// When a commit crosses a multiple of `n` events.
    case every(Int)

    /// Whether a commit moving the stream from `oldVersion` to `newVersion` takes a snapshot.
    public func shouldSnapshot(from oldVersion: Int, to newVersion: Int) -> Bool {
        switch self {
        case .never: return false
        case .everyCommit: return newVersion > oldVersion
        case .every(let n): return n > 0 && oldVersion / n != newVersion / n
        }
    }
}

/// A stored snapshot, still encoded: the engine decodes it and falls back to a full replay when the
/// aggregate's shape has changed since it was written.
public struct StoredSnapshot: Sendable, Hashable {
    /// The version of the aggregate the snapshot was taken at.
    public var version: Int
    /// The aggregate encoded as JSON.
    public var state: Data

    /// Creates a stored snapshot.
    public init(version: Int, state: Data) {
        self.version = version
        self.state = state
    }
}

/// What loading a stream returns: the latest snapshot (if asked for) and the events after it.
public struct StreamSlice<Event: Sendable>: Sendable {
    /// The latest snapshot, or nil.
    public var snapshot: StoredSnapshot?
    /// The events after the snapshot (all events when there is none), in version order.
    public var events: [EventEnvelope<Event>]
    /// The current version of the stream according to the journal (0: the aggregate does not exist).
    public var version: Int

    /// Creates a slice.
    public init(snapshot: StoredSnapshot?, events: [EventEnvelope<Event>], version: Int) {
        self.snapshot = snapshot
        self.events = events
        self.version = version
    }
}

/// What replaying an aggregate needs, without the envelopes of ``StreamSlice``: the latest snapshot
/// (if asked for) and the payloads of the events after it.
public struct StreamReplay<Event: Sendable>: Sendable {
    /// The latest snapshot, or nil.
    public var snapshot: StoredSnapshot?
    /// The payloads of the events after the snapshot, in version order.
    public var events: [Event]
    /// The version of the last event in ``events`` (nil when there is none).
    public var lastEventVersion: Int?
    /// The current version of the stream according to the journal (0: the aggregate does not exist).
    public var version: Int

    /// Creates a replay.
    public init(snapshot: StoredSnapshot?, events: [Event], lastEventVersion: Int?, version: Int) {
        self.snapshot = snapshot
        self.events = events
        self.lastEventVersion = lastEventVersion
        self.version = version
    }

    /// The payloads of a slice.
    public init(_ slice: StreamSlice<Event>) {
        self.init(
            snapshot: slice.snapshot, events: slice.events.map { $0.payload }, lastEventVersion: slice.events.last?.version,
            version: slice.version)
    }
}

/// One event about to be committed.
public struct PendingEvent<Event: DomainEvent>: Sendable {
    /// The id the event will have.
    public var eventId: UUID
    /// The event.
    public var payload: Event

    /// Creates a pending event.
    public init(eventId: UUID, payload: Event) {
        self.eventId = eventId
        self.payload = payload
    }
}

/// An idempotency key claimed by a commit, with the fingerprint of the command that used it.
public struct IdempotencyClaim: Sendable, Hashable {
    /// The caller's key (unique per aggregate type).
    public var key: String
    /// A canonical text of the command, to tell a retry from a reuse of the key.
    public var fingerprint: String

    /// Creates a claim.
    public init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }
}

/// The stored result of a command that carried an idempotency key.
public struct IdempotencyRecord: Sendable, Hashable, Codable {
    /// The aggregate type the key belongs to.
    public var aggregateType: String
    /// The key.
    public var key: String
    /// The fingerprint of the first command with this key.
    public var fingerprint: String
    /// The aggregate the command ran on.
    public var aggregateId: String
    /// The first version the command wrote.
    public var firstVersion: Int
    /// The version after the command.
    public var version: Int
    /// The global position of the command's last event.
    public var globalPosition: Int64

    /// Creates a record.
    public init(
        aggregateType: String, key: String, fingerprint: String, aggregateId: String, firstVersion: Int,
        version: Int, globalPosition: Int64
    ) {
        self.aggregateType = aggregateType
        self.key = key
        self.fingerprint = fingerprint
        self.aggregateId = aggregateId
        self.firstVersion = firstVersion
        self.version = version
        self.globalPosition = globalPosition
    }
}

/// Everything one command writes, committed atomically or not at all.
public struct PendingCommit<A: Aggregate>: Sendable {
    /// The aggregate's id.
    public var aggregateId: String
    /// The version the command's decision was based on (0 for a create). The commit fails with
    /// 409 when the stream's version differs at commit time.
    public var expectedVersion: Int
    /// The events, at least one.
    public var events: [PendingEvent<A.Event>]
    /// The metadata stored with every event.
    public var metadata: [String: String]
    /// The commit time, already truncated to milliseconds.
    public var occurredAt: Date
    /// The state after the events, when the snapshot policy asks for a snapshot.
    public var snapshot: A?
    /// The idempotency key to record with the events.
    public var idempotency: IdempotencyClaim?

    /// Creates a pending commit.
    public init(
        aggregateId: String, expectedVersion: Int, events: [PendingEvent<A.Event>], metadata: [String: String],
        occurredAt: Date, snapshot: A?, idempotency: IdempotencyClaim?
    ) {
        self.aggregateId = aggregateId
        self.expectedVersion = expectedVersion
        self.events = events
        self.metadata = metadata
        self.occurredAt = occurredAt
        self.snapshot = snapshot
        self.idempotency = idempotency
    }

    /// The version after the commit.
    public var newVersion: Int { expectedVersion + events.count }

    /// The events as stored, given the global position each one received.
    public func envelopes(positions: [Int64]) -> [EventEnvelope<A.Event>] {
        zip(events, positions).enumerated().map { offset, pair in
            EventEnvelope(
                eventId: pair.0.eventId, aggregateType: A.aggregateType, aggregateId: aggregateId,
                version: expectedVersion + offset + 1, globalPosition: pair.1, eventType: pair.0.payload.eventType,
                payload: pair.0.payload, metadata: metadata, occurredAt: occurredAt)
        }
    }

    /// The payloads, metadata and snapshot as the JSON text a store keeps, after ``checkStorable()``.
    public func encoded() throws -> (payloads: [String], metadata: String, snapshot: String?) {
        try checkStorable()
        let encoder = CQRSJSON.makeEncoder()
        let payloads = try events.map { String(decoding: try encoder.encode($0.payload), as: UTF8.self) }
        // Strings only: the project's writer, without Foundation's encoder tree (a twentieth of a command).
        let metadata = JSONValue.object(self.metadata.mapValues(JSONValue.string)).serialized(sortedKeys: true)
        let snapshot = try self.snapshot.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        return (payloads, metadata, snapshot)
    }

    /// Refuses a commit without events (the engine never sends one) or with more than `maximum`
    /// (a store's limit on events per commit).
    /// - Throws: 500 for no events, 400 `VALIDATION_FAILED` for too many.
    public func checkEventCount(atMost maximum: Int) throws {
        guard !events.isEmpty else { throw CqrsError.internalError("A commit needs at least one event") }
        guard events.count <= maximum else { throw CqrsError.validation("A command may commit at most \(maximum) events") }
    }

    /// Refuses a commit whose event payloads or metadata hold U+0000 in a string: PostgreSQL cannot
    /// store it in `jsonb`, so no store accepts it. Every store calls it before writing (the SQL
    /// stores through ``encoded()``).
    /// - Throws: 400 `VALIDATION_FAILED`.
    public func checkStorable() throws {
        let inPayload = try events.contains { try NULScanner.containsNUL($0.payload) }
        if inPayload || metadata.contains(where: { $0.key.containsNUL || $0.value.containsNUL }) {
            throw CqrsError.validation("Text must not contain the NUL character (U+0000)")
        }
    }

    /// The 409 a store throws when the stream is at `currentVersion` instead of ``expectedVersion``:
    /// `AGGREGATE_ALREADY_EXISTS` for a create, `CONCURRENCY_ERROR` otherwise.
    public func conflict(currentVersion: Int) -> CqrsError {
        expectedVersion == 0
            ? CqrsError.aggregateAlreadyExists(A.aggregateType, id: aggregateId)
            : CqrsError.concurrency(id: aggregateId, expectedVersion: expectedVersion, currentVersion: currentVersion)
    }
}

/// What a commit did.
public enum CommitOutcome<Event: Sendable>: Sendable {
    /// The events were appended; here they are as stored.
    case committed([EventEnvelope<Event>])
    /// The idempotency key was already recorded: nothing was written.
    case duplicate(IdempotencyRecord)
}

/// The write model's storage: an append-only journal of events per aggregate, snapshots,
/// idempotency records and a store-wide log ordered by global position.
///
/// Every store passes the conformance suite in `CQRSTesting`. The rules every store keeps:
/// - ``commit(_:)`` writes the events, the snapshot and the idempotency record in one transaction.
/// - If the idempotency key is already recorded, it returns ``CommitOutcome/duplicate(_:)`` and writes nothing.
/// - If the stream's version is not `expectedVersion`, it throws 409: `AGGREGATE_ALREADY_EXISTS` when
///   `expectedVersion` is 0, `CONCURRENCY_ERROR` otherwise. Never a 500.
/// - Global positions increase in commit order, and a reader that has seen position P never later
///   finds a committed event below P.
public protocol EventStore: Sendable {
    /// The latest snapshot (when `useSnapshot`) and the events after it, read consistently.
    func loadStream<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamSlice<A.Event>

    /// What ``loadStream(_:id:useSnapshot:)`` returns without the envelopes, which is all the engine
    /// needs to rebuild an aggregate. The default maps `loadStream`; a store that can read and
    /// decode less per event (only the payloads) implements it.
    func loadReplay<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamReplay<A.Event>

    /// Events of one aggregate with a version above `afterVersion`, at most `limit` of them.
    func loadEvents<A: Aggregate>(_ type: A.Type, id: String, afterVersion: Int, limit: Int?) async throws
        -> [EventEnvelope<A.Event>]

    /// The current version of one aggregate according to the journal (0: it does not exist).
    func streamVersion(aggregateType: String, id: String) async throws -> Int

    /// Commits a command's events atomically.
    func commit<A: Aggregate>(_ commit: PendingCommit<A>) async throws -> CommitOutcome<A.Event>

    /// The record of an idempotency key, if one was committed.
    func idempotencyRecord(aggregateType: String, key: String) async throws -> IdempotencyRecord?

    /// Events of every aggregate with a global position above `position`, in position order.
    func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope<JSONValue>]

    /// The head of the global log and how many events lie above `position` (a projection's lag).
    func logExtent(after position: Int64) async throws -> LogExtent
}

extension EventStore {
    /// ``loadStream(_:id:useSnapshot:)`` without the envelopes.
    public func loadReplay<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamReplay<A.Event> {
        StreamReplay(try await loadStream(type, id: id, useSnapshot: useSnapshot))
    }
}

/// The head of the global log, seen from a position.
public struct LogExtent: Sendable, Hashable {
    /// The highest global position committed and visible to every reader with nothing missing
    /// below it (0: the log is empty). On PostgreSQL that excludes commits of transactions younger
    /// than one still running, which may yet be followed by lower positions.
    public var head: Int64
    /// How many events have a global position above the position asked about.
    public var eventsAfter: Int

    /// Creates an extent.
    public init(head: Int64, eventsAfter: Int) {
        self.head = head
        self.eventsAfter = eventsAfter
    }
}
