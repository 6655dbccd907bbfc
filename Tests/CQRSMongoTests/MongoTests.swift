import Bank
import CQRS
@testable import CQRSMongo
import CQRSSchema
import CQRSTesting
import Foundation
import Synchronization
import Testing

/// The deployments the tests run against: the wire-compatible test server CI starts
/// (`CQRS_MONGO_TEST_URL`, from `scripts/mongo-test-server start`), and a real mongod when
/// `CQRS_MONGO_URL` names one (those tests are skipped otherwise).
enum MongoTestEnvironment {
    struct MissingSetup: Error, CustomStringConvertible {
        let description: String
    }

    static var realServerURL: String? {
        ProcessInfo.processInfo.environment["CQRS_MONGO_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let shared = Mutex<[String: MongoDatabase]>([:])

    /// One driver per deployment for the whole test process.
    static func database(real: Bool) throws -> MongoDatabase {
        let variable = real ? "CQRS_MONGO_URL" : "CQRS_MONGO_TEST_URL"
        guard let url = ProcessInfo.processInfo.environment[variable], !url.isEmpty else {
            throw MissingSetup(
                description: "\(variable) is not set. Run `eval \"$(scripts/mongo-test-server start)\"` first (CI always provides the test server).")
        }
        return try shared.withLock { shared in
            if let database = shared[url] { return database }
            let database = try MongoDatabase(url: url, options: .init(threads: 8))
            shared[url] = database
            return database
        }
    }

    /// A new, empty database of that deployment.
    static func freshDatabase(real: Bool) throws -> MongoDatabase {
        try database(real: real).database("t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20))
    }
}

struct MongoBackend: ConformanceBackend {
    var real = false

    func makeEventStore() async throws -> any EventStore {
        try await MongoEventStore(database: try MongoTestEnvironment.freshDatabase(real: real), gapTimeout: .milliseconds(500))
    }

    func makeReadStorage<M: ReadModel>(_ type: M.Type) async throws -> any ReadStorage<M> {
        try await MongoReadStorage<M>(database: try MongoTestEnvironment.freshDatabase(real: real))
    }
}

@Suite("MongoDB backend conformance (test server)")
struct MongoConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await ConformanceSuite(backend: MongoBackend()).run(check)
    }
}

@Suite("MongoDB backend conformance (mongod from CQRS_MONGO_URL)", .enabled(if: MongoTestEnvironment.realServerURL != nil))
struct MongoRealServerConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await ConformanceSuite(backend: MongoBackend(real: true)).run(check)
    }
}

@Suite("MongoDB store")
struct MongoStoreTests {
    private func engine(_ store: MongoEventStore) -> CommandEngine<Account> {
        CommandEngine<Account>(store: store, services: (), snapshotPolicy: .never)
    }

    /// A writer that dies between claiming its commit number and inserting: readers wait for the
    /// number, then void it, and never skip it while it may still be filled.
    @Test func aMissingCommitNumberIsWaitedForThenVoided() async throws {
        let store = try await MongoEventStore(database: try MongoTestEnvironment.freshDatabase(real: false), gapTimeout: .milliseconds(400))
        let engine = engine(store)
        let first = try #require(try await engine.create(.open(owner: "a"), context: CommandContext()).globalPosition)
        // Three writers died after claiming their numbers.
        let dead = try await store.database.run { session in try (0..<3).map { _ in try MongoEventStore.claimNumber(session) } }
        let later = try #require(try await engine.create(.open(owner: "b"), context: CommandContext()).globalPosition)
        let before = try await store.logExtent(after: 0)
        #expect(before.head == first, "the head stops before the missing number")
        let start = ContinuousClock.now
        let events = try await store.readAll(after: first, limit: 10)
        #expect(ContinuousClock.now - start >= .milliseconds(400), "the reader waited for the number")
        #expect(events.map(\.globalPosition) == [later])
        let voids = try await store.database.run { session in
            try session.documents(["find": "commits", "filter": ["void": true]], collection: "commits").compactMap { $0["seq"]?.int64 }
        }
        #expect(voids.sorted() == dead, "the whole gap was voided at once")
        // The dead writer's insert, had it come late, loses on the number's unique index.
        let late = try await store.database.run { session in
            try session.write([
                "insert": "commits", "documents": .array([.document(["_id": "late", "seq": .int64(dead[0]), "n": 1])]),
            ]).errors[0]
        }
        #expect(late?.isDuplicate(onIndex: "seq", fields: ["seq"]) == true, "\(String(describing: late))")
        #expect(try await store.logExtent(after: 0).head == later)
    }

    /// A commit refused on a version conflict voids its own number at once: readers do not wait for it.
    @Test func aRefusedCommitDoesNotHoldTheLogBack() async throws {
        let store = try await MongoEventStore(database: try MongoTestEnvironment.freshDatabase(real: false), gapTimeout: .seconds(30))
        let engine = engine(store)
        let account = try await engine.create(.open(owner: "a"), context: CommandContext()).aggregateId
        await #expect(throws: CqrsError.self) {
            _ = try await engine.update(id: account, .deposit(amount: 1), context: CommandContext(), expectedVersion: 0)
        }
        let conflict = PendingCommit<Account>(
            aggregateId: account, expectedVersion: 0, events: [PendingEvent(eventId: UUID(), payload: .opened(owner: "again"))],
            metadata: [:], occurredAt: Date(), snapshot: nil, idempotency: nil)
        let error = await #expect(throws: CqrsError.self) { _ = try await store.commit(conflict) }
        #expect(error?.code == "INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS")
        let deposit = try #require(try await engine.update(id: account, .deposit(amount: 5), context: CommandContext()).globalPosition)
        let start = ContinuousClock.now
        let events = try await store.readAll(after: 0, limit: 10)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(events.last?.globalPosition == deposit && events.count == 2)
    }

    @Test func badURLsAreConfigurationErrors() {
        for bad in ["postgres://x/y", "mongodb://", "mongodb://h/bad.name", "mongodb://h:99999/db"] {
            let error = #expect(throws: CqrsError.self, "\(bad)") { _ = try MongoDatabase(url: bad) }
            #expect(error?.code == "INFRASTRUCTURE_CONFIGURATION_ERROR", "\(bad)")
        }
    }

    /// Nothing listens on the port: every operation fails with 503 after the server selection timeout.
    @Test func anUnreachableServerIs503() async throws {
        let database = try MongoDatabase(url: "mongodb://127.0.0.1:1/none", options: .init(threads: 1, serverSelectionTimeoutMS: 300))
        let error = await #expect(throws: CqrsError.self) { _ = try await MongoEventStore(database: database) }
        #expect(error?.status == 503 && error?.code == "INFRASTRUCTURE_SERVICE_UNAVAILABLE", "\(String(describing: error))")
        await database.shutdown()
    }
}

/// The projection protocol's fences (see MongoReadStorage+Projection.swift).
@Suite("MongoDB projection fences")
struct MongoProjectionFenceTests {
    struct Note: ReadModel, Equatable {
        static let modelType = "note"
        var id: String
        var text: String
    }

    private func storage() async throws -> MongoReadStorage<Note> {
        try await MongoReadStorage<Note>(database: try MongoTestEnvironment.freshDatabase(real: false))
    }

    private func commit(_ storage: MongoReadStorage<Note>, owner: String, from: Int64, to: Int64, _ text: String?) async throws -> Bool {
        try await storage.commit(
            ProjectionCommit(
                projection: "note", owner: owner, from: from, to: to,
                writes: [(ViewKey(id: "n1"), text.map { Note(id: "n1", text: $0) })], lease: .seconds(10)))
    }

    /// A write of the epoch before a reset that lands after it never shows.
    @Test func aWriteFromBeforeAResetStaysInvisible() async throws {
        let storage = try await storage()
        _ = try await storage.claim("note", owner: "a", lease: .seconds(10))
        #expect(try await commit(storage, owner: "a", from: 0, to: 10, "old"))
        let stale = try await storage.database.run { session in
            try session.documents(["find": "read_models", "filter": ["i": "n1"]], collection: "read_models").first
        }
        try await storage.reset("note")
        // The deposed writer's upsert arrives after the reset deleted the document.
        try await storage.database.run { session in
            _ = try session.write(["insert": "read_models", "documents": .array([.document(stale!)])])
        }
        #expect(try await storage.find(id: "n1", parentId: nil) == nil)
        #expect(try await storage.query(ReadQuery(), parentId: nil).total == 0)
        #expect(try await storage.find(keys: [ViewKey(id: "n1")]).isEmpty)
        _ = try await storage.claim("note", owner: "a", lease: .seconds(10))
        #expect(try await commit(storage, owner: "a", from: 0, to: 10, "new"))
        #expect(try await storage.find(id: "n1", parentId: nil)?.text == "new")
    }

    /// A lost checkpoint starts above every epoch its old documents carry, so they neither show nor
    /// block the new writer.
    @Test func aLostCheckpointDoesNotFreezeTheView() async throws {
        let storage = try await storage()
        for owner in ["a", "b", "c"] {
            _ = try await storage.claim("note", owner: owner, lease: .seconds(10))
            try await storage.release("note", owner: owner)
        }
        _ = try await storage.claim("note", owner: "d", lease: .seconds(10))
        #expect(try await commit(storage, owner: "d", from: 0, to: 10, "before"))
        try await storage.database.run { session in
            _ = try session.write(["delete": "projection_checkpoints", "deletes": .array([.document(["q": .document([:]), "limit": 0])])])
        }
        #expect(try await storage.find(id: "n1", parentId: nil)?.text == "before", "no checkpoint: plain documents show")
        let claimed = try await storage.claim("note", owner: "e", lease: .seconds(10))
        #expect(claimed.position == 0 && claimed.owner == "e")
        #expect(try await storage.find(id: "n1", parentId: nil) == nil, "a new checkpoint owns no documents")
        #expect(try await commit(storage, owner: "e", from: 0, to: 10, "after"))
        #expect(try await storage.find(id: "n1", parentId: nil)?.text == "after")
    }
}
