import CQRSSchema
import Foundation
import Synchronization

/// An event store in memory: for tests, examples and benchmarks. Events stay typed (no encoding on
/// the hot path); snapshots are kept encoded so that a changed aggregate shape is detected as in a
/// real store.
///
/// All state sits behind one lock, so commits are serialised and global positions are assigned and
/// published in commit order: a reader never finds a committed event below a position it has seen.
public final class InMemoryEventStore: EventStore {
    // Keys compare by UTF-8 bytes, as the SQL stores compare text.
    private struct StreamKey: Hashable {
        var aggregateType: String
        var id: ByteString
        init(aggregateType: String, id: String) {
            self.aggregateType = aggregateType
            self.id = ByteString(id)
        }
    }

    private struct IdempotencyKey: Hashable {
        var aggregateType: String
        var key: ByteString
        init(aggregateType: String, key: String) {
            self.aggregateType = aggregateType
            self.key = ByteString(key)
        }
    }

    private struct State {
        var streams: [StreamKey: any AnyStream] = [:]
        var snapshots: [StreamKey: StoredSnapshot] = [:]
        var idempotency: [IdempotencyKey: IdempotencyRecord] = [:]
        var log: [LogEntry] = []
    }

    /// One event of the global log: where its typed envelope is, and its JSON form once a reader
    /// has made it (every projection reads each event; it is encoded once).
    private struct LogEntry {
        var stream: any AnyStream
        var index: Int
        var json: EventEnvelope<JSONValue>?
    }

    private let state = Mutex(State())

    /// An empty store.
    public init() {}

    public func loadStream<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws
        -> StreamSlice<A.Event>
    {
        let key = StreamKey(aggregateType: A.aggregateType, id: id)
        return try state.withLock { state in
            guard let box = state.streams[key] else { return StreamSlice(snapshot: nil, events: [], version: 0) }
            let stream = try Self.typed(box, A.self)
            let snapshot = useSnapshot ? state.snapshots[key] : nil
            let after = snapshot?.version ?? 0
            return StreamSlice(
                snapshot: snapshot, events: Array(stream.envelopes[after...]), version: stream.envelopes.count)
        }
    }

    /// The payloads straight from the stored envelopes, without copying those first.
    public func loadReplay<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamReplay<A.Event> {
        let key = StreamKey(aggregateType: A.aggregateType, id: id)
        return try state.withLock { state in
            guard let box = state.streams[key] else { return StreamReplay(snapshot: nil, events: [], lastEventVersion: nil, version: 0) }
            let envelopes = try Self.typed(box, A.self).envelopes
            let snapshot = useSnapshot ? state.snapshots[key] : nil
            let events = envelopes[min(snapshot?.version ?? 0, envelopes.count)...].map { $0.payload }
            return StreamReplay(
                snapshot: snapshot, events: events, lastEventVersion: events.isEmpty ? nil : envelopes.count, version: envelopes.count)
        }
    }

    public func loadEvents<A: Aggregate>(_ type: A.Type, id: String, afterVersion: Int, limit: Int?) async throws
        -> [EventEnvelope<A.Event>]
    {
        let key = StreamKey(aggregateType: A.aggregateType, id: id)
        return try state.withLock { state in
            guard let box = state.streams[key] else { return [] }
            let envelopes = try Self.typed(box, A.self).envelopes
            let start = min(max(afterVersion, 0), envelopes.count)
            let end = limit.map { min(envelopes.count, start + max($0, 0)) } ?? envelopes.count
            return Array(envelopes[start..<end])
        }
    }

    public func streamVersion(aggregateType: String, id: String) async throws -> Int {
        state.withLock { $0.streams[StreamKey(aggregateType: aggregateType, id: id)]?.count ?? 0 }
    }

    public func commit<A: Aggregate>(_ commit: PendingCommit<A>) async throws -> CommitOutcome<A.Event> {
        let key = StreamKey(aggregateType: A.aggregateType, id: commit.aggregateId)
        try commit.checkStorable()
        let snapshotData = try commit.snapshot.map { try CQRSJSON.encode($0) }
        return try state.withLock { state in
            if let claim = commit.idempotency,
                let record = state.idempotency[IdempotencyKey(aggregateType: A.aggregateType, key: claim.key)]
            {
                return .duplicate(record)
            }
            let existing = try state.streams[key].map { try Self.typed($0, A.self) }
            let current = existing?.envelopes.count ?? 0
            guard current == commit.expectedVersion else { throw commit.conflict(currentVersion: current) }
            let stream = existing ?? TypedStream<A.Event>()
            if existing == nil { state.streams[key] = stream }
            var committed: [EventEnvelope<A.Event>] = []
            committed.reserveCapacity(commit.events.count)
            for (offset, event) in commit.events.enumerated() {
                let envelope = EventEnvelope(
                    eventId: event.eventId, aggregateType: A.aggregateType, aggregateId: commit.aggregateId,
                    version: current + offset + 1, globalPosition: Int64(state.log.count + 1),
                    eventType: event.payload.eventType, payload: event.payload, metadata: commit.metadata,
                    occurredAt: commit.occurredAt)
                stream.envelopes.append(envelope)
                state.log.append(LogEntry(stream: stream, index: stream.envelopes.count - 1))
                committed.append(envelope)
            }
            if let snapshotData {
                state.snapshots[key] = StoredSnapshot(version: commit.newVersion, state: snapshotData)
            }
            if let claim = commit.idempotency, let last = committed.last {
                state.idempotency[IdempotencyKey(aggregateType: A.aggregateType, key: claim.key)] =
                    IdempotencyRecord(
                        aggregateType: A.aggregateType, key: claim.key, fingerprint: claim.fingerprint,
                        aggregateId: commit.aggregateId, firstVersion: current + 1, version: last.version,
                        globalPosition: last.globalPosition)
            }
            return .committed(committed)
        }
    }

    public func idempotencyRecord(aggregateType: String, key: String) async throws -> IdempotencyRecord? {
        state.withLock { $0.idempotency[IdempotencyKey(aggregateType: aggregateType, key: key)] }
    }

    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope<JSONValue>] {
        // Copy under the lock, encode outside it, keep what was encoded.
        let (start, entries) = state.withLock { state -> (Int, [LogRead]) in
            let start = Int(min(max(position, 0), Int64(state.log.count)))
            let end = min(state.log.count, start + max(limit, 0))
            return (start, state.log[start..<end].map { entry in entry.json.map { .encoded($0) } ?? .typed(entry.stream.envelope(at: entry.index)) })
        }
        var encoded: [(offset: Int, envelope: EventEnvelope<JSONValue>)] = []
        let envelopes = try entries.enumerated().map { offset, entry in
            switch entry {
            case .encoded(let envelope): return envelope
            case .typed(let typed):
                let envelope = try typed.jsonEnvelope()
                encoded.append((offset, envelope))
                return envelope
            }
        }
        if !encoded.isEmpty {
            state.withLock { state in
                for (offset, envelope) in encoded { state.log[start + offset].json = envelope }
            }
        }
        return envelopes
    }

    /// A log entry as `readAll` copies it: its JSON form, or the typed envelope to encode.
    private enum LogRead {
        case encoded(EventEnvelope<JSONValue>)
        case typed(any JSONEnvelopeConvertible)
    }

    public func logExtent(after position: Int64) async throws -> LogExtent {
        state.withLock { state in
            let head = Int64(state.log.count)
            return LogExtent(head: head, eventsAfter: Int(max(0, head - max(position, 0))))
        }
    }

    /// Replaces a stored snapshot's bytes (for tests of the fallback to a full replay).
    public func overwriteSnapshot(aggregateType: String, id: String, with snapshot: StoredSnapshot) {
        state.withLock { $0.snapshots[StreamKey(aggregateType: aggregateType, id: id)] = snapshot }
    }

    private static func typed<A: Aggregate>(_ box: any AnyStream, _ type: A.Type) throws -> TypedStream<A.Event> {
        guard let stream = box as? TypedStream<A.Event> else {
            throw CqrsError.serialization(
                "Stream of \(A.aggregateType) holds events of another type than \(A.Event.self)")
        }
        return stream
    }
}

/// A stream whose envelopes can be read back as JSON without knowing their event type.
private protocol AnyStream: AnyObject, Sendable {
    func envelope(at index: Int) -> any JSONEnvelopeConvertible
    var count: Int { get }
}

/// The envelopes of one aggregate. Only touched under the store's lock (hence `@unchecked`).
private final class TypedStream<Event: DomainEvent>: AnyStream, @unchecked Sendable {
    var envelopes: [EventEnvelope<Event>] = []
    var count: Int { envelopes.count }

    func envelope(at index: Int) -> any JSONEnvelopeConvertible {
        envelopes[index]
    }
}
