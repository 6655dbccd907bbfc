import CQRS
import CQRSSchema
import Foundation
import Synchronization

/// An `EventStore` in MongoDB that is atomic and conflict-safe without multi-document transactions,
/// on a standalone server as on a replica set.
///
/// **One document per commit.** A command's events, metadata and idempotency key are one document of
/// `commits`, so they are written together or not at all. Its `_id` is the aggregate type, id and
/// first version: two racing commits on the same version collide on `_id` (duplicate key 11000 →
/// 409). Before inserting, the commit checks that the stream ends exactly at `expectedVersion` (a
/// version inside an earlier commit would not collide). The idempotency key has a unique index, so a
/// racing retry finds the first commit's record. Snapshots are a cache, written after the commit.
///
/// **Global position.** Every commit first claims the next number of a counter document (`seq`,
/// unique index), and its events get positions `seq × 2²⁰ + n` (n = 1, 2, …). Numbers are claimed in
/// one order but inserted in another, so a reader of the global log never passes a number it has not
/// seen: it waits, and when the number stays missing for ``gapTimeout`` (its writer failed or died
/// between the claim and the insert) it inserts a *void* document with that number. Exactly one of the
/// void and the late commit wins the unique index; a writer that loses claims a new number and inserts
/// again. A writer whose commit is refused voids its own number at once.
public final class MongoEventStore: EventStore {
    /// The database holding the collections.
    public let database: MongoDatabase
    /// How long a missing global number may stay missing before a reader voids it.
    public let gapTimeout: Duration
    let gaps = Mutex<[Int64: ContinuousClock.Instant]>([:])
    let watermark = Mutex<(seq: Int64, position: Int64)>((0, 0))

    /// The number of events one commit may hold (2²⁰ − 1).
    public static let maximumEventsPerCommit = (1 << 20) - 1
    static let separator = "\u{1F}"

    /// A store in `database`, its indexes created if missing.
    public init(database: MongoDatabase, gapTimeout: Duration = .seconds(1)) async throws {
        self.database = database
        self.gapTimeout = gapTimeout
        try await database.run { session in
            try session.command([
                "createIndexes": "commits",
                "indexes": .array([
                    .document(["key": .document(["t": 1, "a": 1, "v0": 1]), "name": "stream"]),
                    .document(["key": .document(["seq": 1]), "name": "seq", "unique": true]),
                    .document(["key": .document(["ik": 1]), "name": "ik", "unique": true, "sparse": true]),
                ]),
            ])
            // A counter behind the commits (lost, or restored from an older backup) would hand out
            // numbers that are taken: move it to the highest one.
            let last = try session.documents(
                ["find": "commits", "sort": ["seq": -1], "limit": 1, "projection": ["seq": 1]], collection: "commits").first?["seq"]?.int64 ?? 0
            if last > 0 {
                try session.command([
                    "findAndModify": "counters", "query": .document(["_id": "commits"]),
                    "update": .document(["$max": .document(["n": .int64(last)])]), "upsert": true,
                ])
            }
        }
    }

    static func streamKey(_ type: String, _ id: String) -> String { type + separator + id }

    public func loadStream<A: Aggregate>(_ type: A.Type, id: String, useSnapshot: Bool) async throws -> StreamSlice<A.Event> {
        let key = Self.streamKey(A.aggregateType, id)
        let (snapshot, commits) = try await database.run { session -> (BSONDocument?, [BSONDocument]) in
            let snapshot = useSnapshot
                ? try session.documents(["find": "snapshots", "filter": .document(["_id": .string(key)]), "limit": 1], collection: "snapshots").first
                : nil
            let after = snapshot?["v"]?.int64 ?? 0
            let commits = try session.documents(
                ["find": "commits", "filter": Self.streamFilter(A.aggregateType, id, lastVersionAbove: after), "sort": ["v0": 1]],
                collection: "commits")
            return (snapshot, commits)
        }
        let stored = snapshot.flatMap { document -> StoredSnapshot? in
            guard let version = document["v"]?.int64, let state = document["s"]?.string else { return nil }
            return StoredSnapshot(version: Int(version), state: Data(state.utf8))
        }
        let after = stored?.version ?? 0
        let rows = try commits.flatMap(Self.rows).filter { $0.version > after }
        let version = try commits.last.map { try Self.int($0, "v1") } ?? after
        return StreamSlice(snapshot: stored, events: try StoredEventRow.decode(rows, as: A.Event.self), version: version)
    }

    public func loadEvents<A: Aggregate>(_ type: A.Type, id: String, afterVersion: Int, limit: Int?) async throws
        -> [EventEnvelope<A.Event>]
    {
        if let limit, limit <= 0 { return [] }
        var command: BSONDocument = [
            "find": "commits", "filter": Self.streamFilter(A.aggregateType, id, lastVersionAbove: Int64(afterVersion)), "sort": ["v0": 1],
        ]
        // Every commit holds at least one event, so `limit` commits hold enough.
        if let limit { command["limit"] = .int64(Int64(limit)) }
        let commits = try await database.run { [command] in try $0.documents(command, collection: "commits") }
        var rows = try commits.flatMap(Self.rows).filter { $0.version > afterVersion }
        if let limit, rows.count > limit { rows.removeLast(rows.count - limit) }
        return try StoredEventRow.decode(rows, as: A.Event.self)
    }

    public func streamVersion(aggregateType: String, id: String) async throws -> Int {
        try await database.run { try Self.streamVersion($0, aggregateType, id) }
    }

    public func idempotencyRecord(aggregateType: String, key: String) async throws -> IdempotencyRecord? {
        try await database.run { try Self.idempotencyRecord($0, aggregateType, key) }
    }

    public func commit<A: Aggregate>(_ commit: PendingCommit<A>) async throws -> CommitOutcome<A.Event> {
        let type = A.aggregateType
        try commit.checkEventCount(atMost: Self.maximumEventsPerCommit)
        let (payloads, metadata, snapshot) = try commit.encoded()
        var document: BSONDocument = [
            "_id": .string(Self.streamKey(type, commit.aggregateId) + Self.separator + String(commit.expectedVersion + 1)),
            "t": .string(type), "a": .string(commit.aggregateId),
            "v0": .int64(Int64(commit.expectedVersion + 1)), "v1": .int64(Int64(commit.newVersion)),
            "seq": 0, "n": .int64(Int64(commit.events.count)), "at": .datetime(commit.occurredAt.millisecondsSince1970),
            "md": .string(metadata),
            "ev": .array(zip(commit.events, payloads).map { event, payload in
                .document(["i": .string(event.eventId.uuidString), "y": .string(event.payload.eventType), "p": .string(payload)])
            }),
        ]
        if let claim = commit.idempotency {
            document["ik"] = .string(Self.streamKey(type, claim.key))
            document["fp"] = .string(claim.fingerprint)
        }
        let outcome = try await database.run { [document] session -> CommitResult in
            try Self.commit(session, document, type: type, id: commit.aggregateId, expectedVersion: commit.expectedVersion, key: commit.idempotency?.key)
        }
        switch outcome {
        case .committed(let seq):
            if let snapshot {
                // A cache: a failed or lost write only costs a replay.
                _ = try? await database.run { session in
                    try session.write([
                        "update": "snapshots",
                        "updates": .array([.document([
                            "q": .document(["_id": .string(Self.streamKey(type, commit.aggregateId)), "v": .document(["$lt": .int64(Int64(commit.newVersion))])]),
                            "u": .document(["v": .int64(Int64(commit.newVersion)), "s": .string(snapshot)]), "upsert": true,
                        ])]),
                    ])
                }
            }
            return .committed(commit.envelopes(positions: (1...commit.events.count).map { Self.position(seq, $0) }))
        case .duplicate(let record): return .duplicate(record)
        case .conflict(let current): throw commit.conflict(currentVersion: current)
        }
    }

    enum CommitResult: Sendable {
        case committed(seq: Int64)
        case duplicate(IdempotencyRecord)
        case conflict(current: Int)
    }

    private static func commit(
        _ session: MongoSession, _ document: BSONDocument, type: String, id: String, expectedVersion: Int, key: String?
    ) throws -> CommitResult {
        if let key, let record = try idempotencyRecord(session, type, key) { return .duplicate(record) }
        if expectedVersion > 0 {
            let current = try streamVersion(session, type, id)
            if current != expectedVersion { return .conflict(current: current) }
        }
        var document = document
        for _ in 0..<maximumNumberClaims {
            let seq = try claimNumber(session)
            document["seq"] = .int64(seq)
            let errors: [Int: WriteError]
            do {
                errors = try session.write(["insert": "commits", "documents": .array([.document(document)])]).errors
            } catch let error as MongoError {
                // Refused by the server (not lost on the way): the number will never hold this commit.
                if case .server = error { void(session, seq) }
                throw error
            }
            guard let error = errors[0] else { return .committed(seq: seq) }
            // A reader voided the number while this commit was on its way: take another one.
            if error.isDuplicate(onIndex: "seq", fields: ["seq"]) { continue }
            void(session, seq)
            guard error.isDuplicateKey else { throw MongoError.server(code: error.code, message: error.message) }
            if let key, let record = try idempotencyRecord(session, type, key) { return .duplicate(record) }
            return .conflict(current: max(try streamVersion(session, type, id), expectedVersion + 1))
        }
        throw MongoError.unavailable("every commit number this commit claimed was voided by a reader before its insert arrived")
    }

    /// How many numbers one commit claims before it gives up with 503 (each loss means the insert
    /// took longer than the readers' gap timeout).
    static let maximumNumberClaims = 8

    static func claimNumber(_ session: MongoSession) throws -> Int64 {
        let reply = try session.command([
            "findAndModify": "counters", "query": .document(["_id": "commits"]), "update": .document(["$inc": .document(["n": .int64(1)])]),
            "new": true, "upsert": true,
        ])
        guard let number = reply["value"]?.document?["n"]?.int64 else { throw MongoError.malformed("no commit number") }
        return number
    }

    /// Marks claimed numbers as holding no commit, in one unordered insert (a number that already
    /// holds a commit or a void stays as it is).
    static func void(_ session: MongoSession, _ numbers: [Int64]) {
        guard !numbers.isEmpty else { return }
        _ = try? session.write([
            "insert": "commits", "ordered": false,
            "documents": .array(numbers.map { seq in
                .document(["_id": .string(separator + "void" + separator + String(seq)), "seq": .int64(seq), "n": 0, "void": true])
            }),
        ])
    }

    static func void(_ session: MongoSession, _ seq: Int64) { void(session, [seq]) }

    static func position(_ seq: Int64, _ index: Int) -> Int64 { seq << 20 | Int64(index) }

    static func streamFilter(_ type: String, _ id: String, lastVersionAbove version: Int64) -> BSON {
        .document(["t": .string(type), "a": .string(id), "v1": .document(["$gt": .int64(version)])])
    }

    private static func streamVersion(_ session: MongoSession, _ type: String, _ id: String) throws -> Int {
        let last = try session.documents(
            ["find": "commits", "filter": .document(["t": .string(type), "a": .string(id)]), "sort": ["v0": -1], "limit": 1,
             "projection": ["v1": 1]], collection: "commits")
        return try last.first.map { try int($0, "v1") } ?? 0
    }

    private static func idempotencyRecord(_ session: MongoSession, _ type: String, _ key: String) throws -> IdempotencyRecord? {
        let found = try session.documents(
            ["find": "commits", "filter": .document(["ik": .string(streamKey(type, key))]), "limit": 1,
             "projection": ["a": 1, "v0": 1, "v1": 1, "seq": 1, "n": 1, "fp": 1]], collection: "commits")
        guard let document = found.first else { return nil }
        return IdempotencyRecord(
            aggregateType: type, key: key, fingerprint: document["fp"]?.string ?? "", aggregateId: document["a"]?.string ?? "",
            firstVersion: try int(document, "v0"), version: try int(document, "v1"),
            globalPosition: position(Int64(try int(document, "seq")), try int(document, "n")))
    }

    static func int(_ document: BSONDocument, _ field: String) throws -> Int {
        guard let value = document[field]?.int64 else { throw MongoError.malformed("a commit without \(field)").cqrs }
        return Int(value)
    }

    /// The events of a commit document, as rows (a void holds none).
    static func rows(_ document: BSONDocument) throws -> [StoredEventRow] {
        guard document["void"] == nil else { return [] }
        guard let type = document["t"]?.string, let id = document["a"]?.string, let first = document["v0"]?.int64,
            let seq = document["seq"]?.int64, let events = document["ev"]?.array, let metadata = document["md"]?.string,
            case .datetime(let at) = document["at"]
        else { throw MongoError.malformed("an incomplete commit document").cqrs }
        let metadataData = Data(metadata.utf8)
        return try events.enumerated().map { index, event in
            guard let event = event.document, let eventId = event["i"]?.string.flatMap(UUID.init(uuidString:)),
                let eventType = event["y"]?.string, let payload = event["p"]?.string
            else { throw MongoError.malformed("an incomplete event in commit \(seq)").cqrs }
            return StoredEventRow(
                position: position(seq, index + 1), eventId: eventId, aggregateType: type, aggregateId: id,
                version: Int(first) + index, eventType: eventType, payload: Data(payload.utf8), metadata: metadataData, occurredAt: at)
        }
    }
}
