import Bank
import CQRS
import CQRSSchema
import CQRSMongo
import CQRSPostgres
import CQRSSQLite
import Foundation
import Logging
import PostgresNIO

// Benchmarks of the engine and stores (run in release: `swift run -c release cqrs-bench`), plus
// the `crash-writer` mode used by the kill -9 test.

let arguments = CommandLine.arguments.dropFirst()

func elapsed(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let duration = ContinuousClock.now - start
    return duration.inSeconds
}

func temporaryDatabase() -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cqrs-bench-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("bench.sqlite").path
}

/// Writes a line straight to the file descriptor (no buffer to lose on kill -9).
func acknowledge(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Opens accounts then deposits one cent at a time, printing `ack ID VERSION` after each commit.
func crashWriter(path: String) async throws {
    let engine = CommandEngine<Account>(store: try SQLiteEventStore(path: path), services: (), snapshotPolicy: .every(10))
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<4 {
            group.addTask {
                let id = try await engine.create(.open(owner: "crash")).aggregateId
                acknowledge("ack \(id) 1")
                while true {
                    let result = try await engine.update(id: id, .deposit(amount: 1))
                    acknowledge("ack \(id) \(result.version)")
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Sequential commands (one open + deposits) on `store`, from `clients` concurrent tasks.
func commandsPerSecond(store: any EventStore, clients: Int, commandsPerClient: Int) async throws -> Double {
    let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .every(100))
    let context = CommandContext(currentUser: "bench", requestId: "bench")
    let seconds = try await elapsed {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let id = try await engine.create(.open(owner: "bench"), context: context).aggregateId
                    for _ in 1..<commandsPerClient {
                        _ = try await engine.update(id: id, .deposit(amount: 1), context: context)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    return Double(clients * commandsPerClient) / seconds
}

/// Loading an aggregate of `count` events: events/s of a full replay, and milliseconds per load
/// from a snapshot taken at the last event.
func replay(store: any EventStore, count: Int, runs fullRuns: Int = 5) async throws -> (full: Double, snapshot: Double) {
    let id = "replay-\(UUID().uuidString)"
    func append(_ events: [AccountEvent], at version: Int) async throws {
        _ = try await store.commit(
            PendingCommit<Account>(
                aggregateId: id, expectedVersion: version,
                events: events.map { PendingEvent(eventId: UUID(), payload: $0) }, metadata: ["userId": "bench"],
                occurredAt: Date().truncatedToMilliseconds, snapshot: nil, idempotency: nil))
    }
    try await append([.opened(owner: "replay")], at: 0)
    var version = 1
    while version < count {
        let batch = min(500, count - version)
        try await append(Array(repeating: .deposited(amount: 1), count: batch), at: version)
        version += batch
    }
    let full = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .never, cacheCapacity: 0)
    var runs = fullRuns
    _ = try await full.load(id: id)  // warm-up (first reads of the file's pages)
    let fullSeconds = try await elapsed { for _ in 0..<runs { _ = try await full.load(id: id) } } / Double(runs)
    // One more event with a snapshot policy that fires writes a snapshot at `count`.
    let snapshotting = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .everyCommit, cacheCapacity: 0)
    _ = try await snapshotting.update(id: id, .deposit(amount: 1))
    runs = 50
    let snapshotSeconds = try await elapsed { for _ in 0..<runs { _ = try await snapshotting.load(id: id) } } / Double(runs)
    return (Double(count) / fullSeconds, snapshotSeconds * 1000)
}

/// The payloads of a 10,000-event account as one JSON array, as a store's batch decode sees them.
func replayPayloads() throws -> Data {
    var array = Data("[".utf8)
    for index in 0..<10_000 {
        if index > 0 { array.append(UInt8(ascii: ",")) }
        array.append(try CQRSJSON.encode(index == 0 ? AccountEvent.opened(owner: "replay") : AccountEvent.deposited(amount: index)))
    }
    array.append(UInt8(ascii: "]"))
    return array
}

func format(_ value: Double) -> String { String(format: "%.0f", value) }

/// The PostgreSQL workload: each client creates aggregates and runs 9 updates on each (one event
/// per command), `aggregatesPerClient` times. Returns commands per second.
func postgresCommandsPerSecond(store: any EventStore, clients: Int, aggregatesPerClient: Int) async throws -> Double {
    let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .never)
    let context = CommandContext(currentUser: "bench", requestId: "bench")
    let seconds = try await elapsed {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    for _ in 0..<aggregatesPerClient {
                        let id = try await engine.create(.open(owner: "bench"), context: context).aggregateId
                        for _ in 0..<9 { _ = try await engine.update(id: id, .deposit(amount: 1), context: context) }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    return Double(clients * aggregatesPerClient * 10) / seconds
}

func postgresBench(url: String, scale: Int) async throws {
    try await PostgresDatabase.withDatabase(url: url, options: .init(maximumConnections: 20)) { database in
        let schema = try await database.schema("bench_swift")
        // CQRS_BENCH_BATCHES=1,2,8 compares numbers of concurrent batches (default: the store's default).
        let counts = ProcessInfo.processInfo.environment["CQRS_BENCH_BATCHES"]?.split(separator: ",").compactMap { Int($0) }
        let modes: [(String, PostgresEventStore.GroupCommit?)] =
            (counts ?? [PostgresEventStore.GroupCommit().concurrentBatches]).map { ("group commit (\($0) concurrent batches)", .init(concurrentBatches: $0)) }
            + [("one statement per commit", nil)]
        for (label, groupCommit) in modes {
            let store = PostgresEventStore(schema: schema, groupCommit: groupCommit)
            _ = try await postgresCommandsPerSecond(store: store, clients: 4, aggregatesPerClient: 20)  // warm-up
            for clients in [1, 16, 64, 256] {
                // About 3,000 (1 client) or 10,000 commands per row.
                let perClient = max(1, (clients == 1 ? 300 : 1000 / clients) * scale)
                let rate = try await postgresCommandsPerSecond(store: store, clients: clients, aggregatesPerClient: perClient)
                print("swift-cqrs \(label), \(clients) client(s): \(format(rate)) commands/s")
            }
        }
    }
}

/// Round-trip costs: the bare client against the store's leased path.
func postgresProbe(url: String) async throws {
    try await PostgresDatabase.withDatabase(url: url) { database in
        let store = PostgresEventStore(schema: try await database.schema("bench_swift"))
        for _ in 0..<200 { try await database.client.query("SELECT 1") }
        let bare = try await elapsed { for _ in 0..<3000 { try await database.client.query("SELECT 1") } }
        print("bare client.query: \(format(3000 / bare)) queries/s")
        let logger = Logger(label: "probe")  // one logger, so that no lookup is timed
        let leased = try await elapsed {
            for _ in 0..<3000 { try await database.client.withConnection { _ = try await $0.query("SELECT 1", logger: logger) } }
        }
        print("client.withConnection + query: \(format(3000 / leased)) queries/s")
        // A connection outside the pool, without TLS (the probe runs against the local test cluster).
        let endpoint = database.endpoint
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
                database: endpoint.database, tls: PostgresConnection.Configuration.TLS.disable),
            id: 1, logger: logger)
        for _ in 0..<200 { _ = try await connection.query("SELECT 1", logger: logger) }
        let direct = try await elapsed { for _ in 0..<3000 { _ = try await connection.query("SELECT 1", logger: logger) } }
        print("one owned connection, query: \(format(3000 / direct)) queries/s")
        try await connection.close()
        let wrapped = try await elapsed { for _ in 0..<3000 { _ = try await store.streamVersion(aggregateType: "x", id: "y") } }
        print("store.streamVersion: \(format(3000 / wrapped)) queries/s")
    }
}

/// The same workload on MongoDB (the project's wire-compatible test server in CI: its numbers are
/// the test server's, not a mongod's).
func mongoBench(url: String, scale: Int) async throws {
    let root = try MongoDatabase(url: url, options: .init(threads: 20))
    let database = try root.database("bench_" + String(UInt32.random(in: 0...UInt32.max), radix: 16))
    let store = try await MongoEventStore(database: database)
    _ = try await postgresCommandsPerSecond(store: store, clients: 4, aggregatesPerClient: 5)  // warm-up
    let one = try await postgresCommandsPerSecond(store: store, clients: 1, aggregatesPerClient: 50 * scale)
    print("MongoDB store, 1 client: \(format(one)) commands/s")
    let sixteen = try await postgresCommandsPerSecond(store: store, clients: 16, aggregatesPerClient: 10 * scale)
    print("MongoDB store, 16 clients: \(format(sixteen)) commands/s")
    let events = try await elapsed { _ = try await store.readAll(after: 0, limit: 5000) }
    print("MongoDB store, readAll of 5,000 events: \(format(5000 / events)) events/s")
    await root.shutdown()
}

switch arguments.first {
case "mongo":
    let url = arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["CQRS_MONGO_TEST_URL"] ?? ""
    try await mongoBench(url: url, scale: Int(arguments.dropFirst(2).first ?? "") ?? 1)
case "profile-rebuild":
    print(try await sqliteRebuild())
case "profile-replay":
    print(try await replay(store: try SQLiteEventStore(path: temporaryDatabase()), count: 10_000, runs: Int(arguments.dropFirst().first ?? "") ?? 5))
case "latency":
    try await latencyReport(postgresURL: arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["CQRS_POSTGRES_URL"])
case "replay-lengths":
    try await replayLengthReport()
case "decode":
    // Ways to decode 10,000 event payloads (as a replay does), events/s.
    let array = try replayPayloads()
    let runs = 10
    let foundation = try await elapsed { for _ in 0..<runs { _ = try CQRSJSON.makeDecoder().decode([AccountEvent].self, from: array) } }
    print("Foundation JSONDecoder, one array: \(format(Double(10_000 * runs) / foundation)) events/s")
    let parsed = try await elapsed { for _ in 0..<runs { _ = try JSONValue.parse(array) } }
    print("JSONValue.parse alone: \(format(Double(10_000 * runs) / parsed)) events/s")
    let ours = try await elapsed {
        for _ in 0..<runs { _ = try CQRSJSON.valueDecoder.decode([AccountEvent].self, from: try JSONValue.parse(array)) }
    }
    print("JSONValue.parse + JSONValueDecoder: \(format(Double(10_000 * runs) / ours)) events/s")
    let direct = try await elapsed { for _ in 0..<runs { _ = try CQRSJSON.valueDecoder.decode([AccountEvent].self, fromJSON: array) } }
    print("JSONValueDecoder from JSON text (tape): \(format(Double(10_000 * runs) / direct)) events/s")
case "profile-decode":
    // The tape decode of `decode` alone, for perf.
    let array = try replayPayloads()
    let seconds = try await elapsed { for _ in 0..<200 { _ = try CQRSJSON.valueDecoder.decode([AccountEvent].self, fromJSON: array) } }
    print("\(format(2_000_000 / seconds)) events/s")
case "profile-memory":
    print(try await commandsPerSecond(store: InMemoryEventStore(), clients: 1, commandsPerClient: Int(arguments.dropFirst().first ?? "") ?? 20_000))
case "profile-sqlite":
    // SQLite commands with CLIENTS clients (default 16), for perf.
    let clients = Int(arguments.dropFirst().first ?? "") ?? 16
    print(try await commandsPerSecond(store: try SQLiteEventStore(path: temporaryDatabase()), clients: clients, commandsPerClient: 100_000 / clients))
case "mcp":
    let rest = Array(arguments.dropFirst())
    guard rest.count >= 3 else {
        print("usage: cqrs-bench mcp BANK_BINARY PYTHON FASTMCP_SCRIPT [SECONDS]")
        exit(64)
    }
    try mcpBenchmark(bank: rest[0], python: rest[1], script: rest[2], seconds: Double(rest.count > 3 ? rest[3] : "5") ?? 5)
case "profile-mcp":
    // One stdio row of `mcp` against the bank alone, for perf and A/B runs: BANK_BINARY [CLIENTS] [SECONDS].
    let rest = Array(arguments.dropFirst())
    let (bank, clients, seconds) = (rest.first ?? ".build/release/bank", Int(rest.dropFirst().first ?? "") ?? 1, Double(rest.dropFirst(2).first ?? "") ?? 5)
    print(try stdioLoad(command: bankStdioCommand(bank), window: clients, seconds: seconds).summary)
case "profile-mcp-http":
    // The HTTP rows of `mcp` against the bank alone: BANK_BINARY [CLIENTS] [SECONDS].
    let rest = Array(arguments.dropFirst())
    let (bank, clients, seconds) = (rest.first ?? ".build/release/bank", Int(rest.dropFirst().first ?? "") ?? 1, Double(rest.dropFirst(2).first ?? "") ?? 5)
    let port = freePort()
    print(try withHTTPServer(bankHTTPCommand(bank, port: port), port: port) { try httpLoad(port: port, clients: clients, seconds: seconds) }.summary)
case "profile-mcp-handle":
    try await mcpHandleBenchmark(calls: Int(arguments.dropFirst().first ?? "") ?? 20_000)
case "postgres-probe":
    try await postgresProbe(url: arguments.dropFirst().first ?? "")
case "postgres-row":
    // One measurement, for scripts that interleave it with pgbench: URL CLIENTS [BATCHES|alone].
    let rest = Array(arguments.dropFirst())
    let clients = Int(rest.dropFirst().first ?? "") ?? 16
    let mode = rest.dropFirst(2).first ?? "4"
    try await PostgresDatabase.withDatabase(url: rest.first ?? "", options: .init(maximumConnections: 20)) { database in
        let store = PostgresEventStore(
            schema: try await database.schema("bench_swift"), groupCommit: Int(mode).map { .init(concurrentBatches: $0) })
        _ = try await postgresCommandsPerSecond(store: store, clients: 4, aggregatesPerClient: 10)  // warm-up
        let rate = try await postgresCommandsPerSecond(
            store: store, clients: clients, aggregatesPerClient: max(1, clients == 1 ? 300 : 1000 / clients))
        print(Int(rate))
    }
case "postgres":
    let url = arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["CQRS_POSTGRES_URL"] ?? ""
    try await postgresBench(url: url, scale: Int(arguments.dropFirst(2).first ?? "") ?? 1)
case "projections":
    try await projectionBench(postgresURL: arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["CQRS_POSTGRES_URL"])
case "group-commit":
    try await groupCommitBench(scale: Int(arguments.dropFirst().first ?? "") ?? 1)
case "crash-writer":
    try await crashWriter(path: arguments.dropFirst().first ?? "crash.sqlite")
default:
    let scale = Int(arguments.first ?? "") ?? 1
    print("| measurement | result |")
    print("| --- | --- |")
    let memory1 = try await commandsPerSecond(store: InMemoryEventStore(), clients: 1, commandsPerClient: 200_000 * scale)
    print("| in-memory, 1 client, commands/s | \(format(memory1)) |")
    let memory16 = try await commandsPerSecond(store: InMemoryEventStore(), clients: 16, commandsPerClient: 20_000 * scale)
    print("| in-memory, 16 clients, commands/s | \(format(memory16)) |")
    let sqlite1 = try await commandsPerSecond(store: try SQLiteEventStore(path: temporaryDatabase()), clients: 1, commandsPerClient: 20_000 * scale)
    print("| SQLite (WAL, synchronous=NORMAL), 1 client, commands/s | \(format(sqlite1)) |")
    let sqlite16 = try await commandsPerSecond(store: try SQLiteEventStore(path: temporaryDatabase()), clients: 16, commandsPerClient: 2_000 * scale)
    print("| SQLite (WAL, synchronous=NORMAL), 16 clients, commands/s | \(format(sqlite16)) |")
    let sqliteFull = try await commandsPerSecond(store: try SQLiteEventStore(path: temporaryDatabase(), durability: .power), clients: 1, commandsPerClient: 2_000 * scale)
    print("| SQLite (WAL, synchronous=FULL), 1 client, commands/s | \(format(sqliteFull)) |")
    let memoryReplay = try await replay(store: InMemoryEventStore(), count: 10_000)
    print("| in-memory replay of 10,000 events, events/s | \(format(memoryReplay.full)) |")
    print("| in-memory load of a 10,000-event aggregate from its snapshot, ms | \(String(format: "%.3f", memoryReplay.snapshot)) |")
    let sqliteReplay = try await replay(store: try SQLiteEventStore(path: temporaryDatabase()), count: 10_000)
    print("| SQLite replay of 10,000 events, events/s | \(format(sqliteReplay.full)) |")
    print("| SQLite load of a 10,000-event aggregate from its snapshot, ms | \(String(format: "%.3f", sqliteReplay.snapshot)) |")
}
