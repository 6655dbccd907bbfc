import Bank
import CQRS
import CQRSPostgres
import CQRSSchema
import CQRSTesting
import Foundation
import PostgresTestSupport
import Synchronization
import Testing

/// A shared counter for concurrent tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int = 1) { value.add(n, ordering: .relaxed) }
    func store(_ n: Int) { value.store(n, ordering: .releasing) }
    var current: Int { value.load(ordering: .acquiring) }
}

/// A shared value for concurrent tasks.
final class Shared<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ initial: T) { value = Mutex(initial) }
    func update<R: Sendable>(_ body: (inout T) -> R) -> R { value.withLock { body(&$0) } }
    var current: T { value.withLock { $0 } }
}

/// Fresh schema per store, on the server of `CQRS_POSTGRES_URL`.
struct PostgresBackend: ConformanceBackend {
    func makeEventStore() async throws -> any EventStore {
        PostgresEventStore(schema: try await PostgresTestEnvironment.freshSchema())
    }

    func makeReadStorage<M: ReadModel>(_ type: M.Type) async throws -> any ReadStorage<M> {
        PostgresReadStorage<M>(schema: try await PostgresTestEnvironment.freshSchema())
    }
}

@Suite("Postgres backend conformance")
struct PostgresConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await PostgresTestEnvironment.withServer {
            try await ConformanceSuite(backend: PostgresBackend()).run(check)
        }
    }
}

@Suite("Postgres store")
struct PostgresStoreTests {
    @Test func urlParsing() throws {
        let endpoint = try PostgresDatabase.Endpoint(url: "postgresql://ada:s%40cret@db.example:6543/shop?sslmode=require")
        #expect(endpoint.host == "db.example" && endpoint.port == 6543 && endpoint.username == "ada")
        #expect(endpoint.password == "s@cret" && endpoint.database == "shop" && endpoint.tls == .require)
        let defaults = try PostgresDatabase.Endpoint(url: "postgres://bob@localhost")
        #expect(defaults.port == 5432 && defaults.database == "bob" && defaults.tls == .prefer && defaults.password == nil)
        #expect(try PostgresDatabase.Endpoint(url: "postgres://u@h/d?sslmode=disable").tls == .disable)
        for bad in ["mysql://u@h/d", "postgres://h/d", "postgres://u@h/d?sslmode=sometimes", "postgres://u@h/d?foo=1", "nonsense"] {
            let error = #expect(throws: CqrsError.self, "\(bad)") { try PostgresDatabase.Endpoint(url: bad) }
            #expect(error?.code == "INFRASTRUCTURE_CONFIGURATION_ERROR")
        }
    }

    @Test func schemaNamesAreValidated() async throws {
        for bad in ["", "Public", "1abc", "a-b", "a\"b", "x; DROP TABLE y", String(repeating: "a", count: 64)] {
            #expect(!PostgresSchema.isValidIdentifier(bad), "\(bad)")
        }
        #expect(PostgresSchema.isValidIdentifier("_shop_2") && PostgresSchema.isValidIdentifier(String(repeating: "a", count: 63)))
        let database = try PostgresTestEnvironment.database()
        let error = await #expect(throws: CqrsError.self) { try await database.schema("bad name") }
        #expect(error?.code == "INFRASTRUCTURE_CONFIGURATION_ERROR")
    }

    /// Several processes (here: several pools) migrating the same schema at once: the advisory lock
    /// serialises them, and the schema ends at the current version with its tables once.
    @Test func concurrentMigrationsAreSafe() async throws {
        try await PostgresTestEnvironment.withServer {
            let url = try PostgresTestEnvironment.url()
            let name = "m_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let databases = try (0..<6).map { _ in try PostgresDatabase(url: url, options: .init(maximumConnections: 2)) }
            for database in databases { database.start() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for database in databases { group.addTask { _ = try await database.schema(String(name)) } }
                try await group.waitForAll()
            }
            let schema = try await databases[0].schema(String(name))
            #expect(try await schema.storedVersion() == PostgresSchema.currentVersion)
            let store = PostgresEventStore(schema: schema)
            let engine = CommandEngine<Account>(store: store, services: ())
            let id = try await engine.create(.open(owner: "Ada")).aggregateId
            #expect(try await store.streamVersion(aggregateType: "account", id: id) == 1)
            for database in databases { await database.shutdown() }
        }
    }

    /// 32 writers on one aggregate through four engines (four processes, as far as the store can
    /// tell), 5 deposits each without an expected version: no conflict reaches a writer, every
    /// version exactly once, no lost update, and the global log holds every event once, in order.
    @Test func thirtyTwoWritersOnOneAggregate() async throws {
        try await PostgresTestEnvironment.withServer {
            let store = PostgresEventStore(schema: try await PostgresTestEnvironment.freshSchema())
            let engines = (0..<4).map { _ in CommandEngine<Account>(store: store, services: ()) }
            let id = try await engines[0].create(.open(owner: "Ada")).aggregateId
            let conflicts = Counter()
            let backends = Shared<Set<Int>>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<32 {
                    let engine = engines[n % 4]
                    group.addTask {
                        var done = 0
                        while done < 5 {
                            do {
                                _ = try await engine.update(id: id, .deposit(amount: 1))
                                done += 1
                            } catch let error as CqrsError where error.code == "INFRASTRUCTURE_CONCURRENCY_ERROR" {
                                #expect(error.status == 409)
                                conflicts.add()
                            }
                        }
                        let pid = try await PostgresTestEnvironment.database().client.query("SELECT pg_backend_pid()")
                        for try await row in pid {
                            let value = try row.decode(Int.self)
                            _ = backends.update { $0.insert(value) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let events = try await store.loadEvents(Account.self, id: id, afterVersion: 0, limit: nil)
            #expect(events.map(\.version) == Array(1...161))
            #expect(try await engines[1].load(id: id)?.state.balance == 160)
            #expect(conflicts.current == 0, "every conflict between the engines was decided again")
            #expect(backends.current.count > 1, "the writers used several connections")
            let log = try await store.readAll(after: 0, limit: 1000)
            #expect(log.map(\.eventId) == events.map(\.eventId), "the global log has every event once, in version order")
        }
    }

    /// 32 racing creates of one id, then 32 racing creates sharing one idempotency key.
    @Test func racingCreates() async throws {
        try await PostgresTestEnvironment.withServer {
            let store = PostgresEventStore(schema: try await PostgresTestEnvironment.freshSchema())
            let rights = CommandEngine<UserRight>(store: store, services: (), idGenerator: UserRight.idGenerator)
            let outcomes = await withTaskGroup(of: Result<String, CqrsError>.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        do { return .success(try await rights.create(.grant(userId: "u1", rightId: "r1")).aggregateId) }
                        catch { return .failure(CqrsError.wrapping(error)) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.compactMap { try? $0.get() } == ["u1:r1"])
            for case .failure(let error) in outcomes {
                #expect(error.code == "INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS" && error.status == 409)
            }
            let accounts = CommandEngine<Account>(store: store, services: ())
            let keyed = await withTaskGroup(of: Result<CommandResult<AccountEvent>, CqrsError>.self) { group in
                for _ in 0..<32 {
                    group.addTask {
                        do { return .success(try await accounts.create(.open(owner: "Ada"), idempotencyKey: "open-ada")) }
                        catch { return .failure(CqrsError.wrapping(error)) }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let results = keyed.compactMap { try? $0.get() }
            #expect(results.count == 32, "every retry of a keyed create succeeds: \(keyed)")
            #expect(Set(results.map(\.aggregateId)).count == 1 && results.filter { !$0.replayed }.count == 1)
            let accountEvents = try await store.readAll(after: 0, limit: 100).filter { $0.aggregateType == "account" }
            #expect(accountEvents.count == 1)
        }
    }

    @Test func errorsCarryTheSQLState() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            let store = PostgresEventStore(schema: schema)
            let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .everyCommit)
            let id = try await engine.create(.open(owner: "Ada")).aggregateId
            // A snapshot that is not valid for the aggregate any more: the engine replays instead.
            try await schema.database.client.query(
                .init(unsafeSQL: "UPDATE \"\(schema.name)\".snapshots SET state = '{\"unexpected\": true}'"))
            #expect(try await engine.load(id: id)?.state.owner == "Ada")
            // A broken table: a 500 whose details name the SQLSTATE.
            try await schema.database.client.query(.init(unsafeSQL: "ALTER TABLE \"\(schema.name)\".events RENAME TO events_gone"))
            let error = await #expect(throws: CqrsError.self) { try await engine.load(id: id) }
            #expect(error?.status == 500 && error?.code == "INFRASTRUCTURE_DATABASE_ERROR")
            #expect(error?.details?["sqlState"] == "42P01")
        }
    }

    /// A schema written by version 1 of the tables (before the commit function, checkpoints and batch commits) is migrated in place
    /// when a newer process opens it, and its events stay readable and writable.
    @Test func aVersionOneSchemaIsMigrated() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            let engine = CommandEngine<Account>(store: PostgresEventStore(schema: schema), services: ())
            let id = try await engine.create(.open(owner: "Ada")).aggregateId
            let quoted = "\"\(schema.name)\""
            try await schema.database.client.query(.init(unsafeSQL: "DROP FUNCTION \(quoted).cqrs_commit"))
            try await schema.database.client.query(.init(unsafeSQL: "DROP TABLE \(quoted).projection_checkpoints"))
            try await schema.database.client.query(.init(unsafeSQL: "DROP PROCEDURE \(quoted).cqrs_commit_batch"))
            try await schema.database.client.query(.init(unsafeSQL: "UPDATE \(quoted).cqrs_schema_version SET version = 1"))
            let other = try PostgresDatabase(url: try PostgresTestEnvironment.url())
            let migrated = try await other.schema(schema.name)
            #expect(try await migrated.storedVersion() == PostgresSchema.currentVersion)
            let reopened = CommandEngine<Account>(store: PostgresEventStore(schema: migrated), services: ())
            let result = try await reopened.update(id: id, .deposit(amount: 5))
            #expect(result.version == 2)
            #expect(try await reopened.load(id: id)?.state.balance == 5)
            await other.shutdown()
        }
    }

    @Test func aNewerSchemaIsRefused() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            try await schema.database.client.query(.init(unsafeSQL: "UPDATE \"\(schema.name)\".cqrs_schema_version SET version = 99"))
            let other = try PostgresDatabase(url: try PostgresTestEnvironment.url())
            let error = await #expect(throws: CqrsError.self) { try await other.schema(schema.name) }
            #expect(error?.code == "INFRASTRUCTURE_CONFIGURATION_ERROR")
            await other.shutdown()
        }
    }

    @Test func unreachableServerIsA503InsteadOfAHang() async throws {
        // A port nobody listens on: every operation fails with 503 within the acquire timeout.
        let database = try PostgresDatabase(
            url: "postgres://nobody@127.0.0.1:9/none?sslmode=disable",
            options: .init(connectTimeout: .seconds(1), acquireTimeout: .seconds(2)))
        database.start()
        let started = ContinuousClock.now
        let error = await #expect(throws: CqrsError.self) { _ = try await database.schema("public") }
        #expect(error?.status == 503 && error?.code == "INFRASTRUCTURE_SERVICE_UNAVAILABLE")
        // Not a speed figure: only that it fails instead of hanging (the acquire timeout is 2 s; the
        // slack absorbs a loaded CI machine).
        #expect(ContinuousClock.now - started < .seconds(20))
        await database.shutdown()
    }
}

/// Stops the server in the middle of a load, checks that commands and reads fail fast with 503,
/// starts it again, checks that the same process recovers, and that every acknowledged event is
/// stored exactly once.
@Suite("Postgres outage")
struct PostgresOutageTests {
    struct Ack: Sendable {
        var id: String
        var version: Int
        var eventIds: [UUID]
    }

    struct Failure: Sendable {
        var error: CqrsError
        var took: Duration
    }

    @Test func serverStopAndStartMidLoad() async throws {
        _ = try PostgresTestEnvironment.controlScript()
        try await PostgresTestEnvironment.exclusively {
            debug("begin")
            let schema = try await PostgresTestEnvironment.freshSchema()
            debug("schema")
            let store = PostgresEventStore(schema: schema)
            let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .every(5))
            let acks = Shared<[Ack]>([])
            let failures = Shared<[Failure]>([])
            let phase = Counter()  // 0 load, 1 stopped, 2 restarted, 3 finish
            let successesAfterRestart = Counter()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var id: String?
                        while phase.current < 3 {
                            let started = ContinuousClock.now
                            do {
                                let result: CommandResult<AccountEvent>
                                if let current = id {
                                    result = try await engine.update(id: current, .deposit(amount: 1))
                                } else {
                                    result = try await engine.create(.open(owner: "outage"))
                                    id = result.aggregateId
                                }
                                acks.update { $0.append(Ack(id: result.aggregateId, version: result.version, eventIds: result.events.map(\.eventId))) }
                                if phase.current == 2 { successesAfterRestart.add() }
                            } catch let error as CqrsError {
                                let took = ContinuousClock.now - started
                                failures.update { $0.append(Failure(error: error, took: took)) }
                                if error.status == 503 { try? await Task.sleep(for: .milliseconds(100)) }
                            }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(1))
                    debug("stopping")
                    try await PostgresTestEnvironment.control("stop")
                    debug("stopped")
                    phase.store(1)
                    // Reads fail fast too.
                    let started = ContinuousClock.now
                    let error = await #expect(throws: CqrsError.self) { _ = try await store.readAll(after: 0, limit: 10) }
                    #expect(error?.status == 503, "a read while down: \(String(describing: error))")
                    #expect(ContinuousClock.now - started < .seconds(20), "fails instead of hanging")
                    try await Task.sleep(for: .seconds(3))
                    debug("read failed fast; starting")
                    try await PostgresTestEnvironment.control("start")
                    debug("started")
                    phase.store(2)
                    let deadline = ContinuousClock.now + .seconds(60)
                    while successesAfterRestart.current < 20, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    debug("recovered \(successesAfterRestart.current)")
                    phase.store(3)
                }
                try await group.waitForAll()
            }
            let failed = failures.current
            #expect(successesAfterRestart.current >= 20, "the process recovered after the restart")
            #expect(failed.contains { $0.error.status == 503 }, "commands failed with 503 while the server was down")
            for failure in failed {
                let (error, took) = (failure.error, failure.took)
                #expect(error.status == 503 && error.code == "INFRASTRUCTURE_SERVICE_UNAVAILABLE", "unexpected failure \(error)")
                #expect(took < .seconds(20), "a failure took \(took): it must fail, not hang")
            }
            // Every acknowledged event is stored exactly once; streams have no holes.
            let acknowledged = acks.current
            let log = try await store.readAll(after: 0, limit: 100_000)
            var counts: [UUID: Int] = [:]
            for event in log { counts[event.eventId] = (counts[event.eventId] ?? 0) + 1 }
            for ack in acknowledged {
                for eventId in ack.eventIds {
                    let stored = counts[eventId] ?? 0
                    #expect(stored == 1, "acknowledged event \(eventId) of \(ack.id) v\(ack.version) stored \(stored) times")
                }
            }
            #expect(counts.values.allSatisfy { $0 == 1 })
            #expect(zip(log, log.dropFirst()).allSatisfy { $0.globalPosition < $1.globalPosition })
            for id in Set(acknowledged.map(\.id)) {
                let events = try await store.loadEvents(Account.self, id: id, afterVersion: 0, limit: nil)
                #expect(events.map(\.version) == Array(1...events.count))
                let loaded = try await engine.load(id: id)
                #expect(loaded?.state.balance == events.count - 1)
            }
            print("outage test: \(acknowledged.count) acknowledged commands, \(failed.count) failures (all 503), max failure time \(failed.map(\.took).max() ?? .zero)")
        }
    }
}

func debug(_ text: String) {
    FileHandle.standardError.write(Data("[outage] \(text)\n".utf8))
}
