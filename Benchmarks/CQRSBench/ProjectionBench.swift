import Bank
import CQRS
import CQRSPostgres
import CQRSSQLite
import Foundation

// `cqrs-bench projections [POSTGRES_URL]`: the rebuild rate of the movement view from 100,000
// events, and the lag from commit to view under a 16-client command load, on SQLite (and PostgreSQL
// when a URL is given).

/// Commits `count` deposits over 100 accounts straight into the store, 500 per commit.
func populate(_ store: any EventStore, count: Int) async throws {
    let accounts = 100
    for index in 0..<accounts {
        var version = 0
        func append(_ events: [AccountEvent]) async throws {
            _ = try await store.commit(
                PendingCommit<Account>(
                    aggregateId: "rebuild-\(index)", expectedVersion: version,
                    events: events.map { PendingEvent(eventId: UUID(), payload: $0) }, metadata: ["userId": "bench"],
                    occurredAt: Date().truncatedToMilliseconds, snapshot: nil, idempotency: nil))
            version += events.count
        }
        try await append([.opened(owner: "bench")])
        var left = count / accounts - 1
        while left > 0 {
            let batch = min(500, left)
            try await append(Array(repeating: .deposited(amount: 1), count: batch))
            left -= batch
        }
    }
}

/// Events per second of a rebuild of the movement view over a populated store.
func rebuildRate(store: any EventStore, movements: any ReadStorage<Movement>) async throws -> Double {
    let projector = Projector(store: store, projections: [RegisteredProjection(ViewProjection<Movement>(), storage: movements)])
    defer { projector.stop() }
    let head = try await store.logExtent(after: 0)
    let seconds = try await elapsed {
        projector.start()
        let caught = try await projector.waitFor("movement", position: head.head, timeout: .seconds(600))
        guard caught.reached else { throw CqrsError.database("the rebuild did not finish") }
    }
    return Double(head.eventsAfter) / seconds
}

/// Milliseconds from commit to view (p50, p99) for deposits from 16 clients; the commands do not
/// wait for the view, a watcher per command does.
func projectionLag(store: any EventStore, movements: any ReadStorage<Movement>, commandsPerClient: Int) async throws -> (p50: Double, p99: Double) {
    let projector = Projector(store: store, projections: [RegisteredProjection(ViewProjection<Movement>(), storage: movements)])
    defer { projector.stop() }
    projector.start()
    let engine = CommandEngine<Account>(
        store: store, services: (), dispatchers: [projector.dispatcher(for: Account.self, waitingUpTo: .zero)])
    let lags = try await withThrowingTaskGroup(of: [Double].self) { group in
        for _ in 0..<16 {
            group.addTask {
                var lags: [Double] = []
                let id = try await engine.create(.open(owner: "lag")).aggregateId
                for _ in 0..<commandsPerClient {
                    let result = try await engine.update(id: id, .deposit(amount: 1))
                    let committed = ContinuousClock.now
                    _ = try await projector.waitFor("movement", position: result.globalPosition!, timeout: .seconds(30))
                    lags.append((ContinuousClock.now - committed).inSeconds * 1000)
                }
                return lags
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }.sorted()
    return (lags[lags.count / 2], lags[min(lags.count - 1, lags.count * 99 / 100)])
}

/// The SQLite rebuild alone (for profiling).
func sqliteRebuild() async throws -> Double {
    let database = try SQLiteDatabase(path: temporaryDatabase())
    let store = SQLiteEventStore(database: database)
    try await populate(store, count: 100_000)
    return try await rebuildRate(store: store, movements: SQLiteReadStorage<Movement>(database: database))
}

func projectionBench(postgresURL: String?) async throws {
    print("| measurement | result |")
    print("| --- | --- |")
    let path = temporaryDatabase()
    let database = try SQLiteDatabase(path: path)
    let store = SQLiteEventStore(database: database)
    try await populate(store, count: 100_000)
    let sqliteRate = try await rebuildRate(store: store, movements: SQLiteReadStorage<Movement>(database: database))
    print("| SQLite rebuild of the movement view, 100,000 events, events/s | \(format(sqliteRate)) |")
    let lagDatabase = try SQLiteDatabase(path: temporaryDatabase())
    let sqliteLag = try await projectionLag(
        store: SQLiteEventStore(database: lagDatabase), movements: SQLiteReadStorage<Movement>(database: lagDatabase), commandsPerClient: 300)
    print("| SQLite commit-to-view lag, 16 clients, p50 / p99 ms | \(String(format: "%.2f / %.2f", sqliteLag.p50, sqliteLag.p99)) |")
    guard let postgresURL, !postgresURL.isEmpty else { return }
    try await PostgresDatabase.withDatabase(url: postgresURL, options: .init(maximumConnections: 20)) { database in
        let schema = try await database.schema("bench_projection_\(UUID().uuidString.prefix(8).lowercased())")
        let store = PostgresEventStore(schema: schema)
        try await populate(store, count: 100_000)
        let rate = try await rebuildRate(store: store, movements: PostgresReadStorage<Movement>(schema: schema))
        print("| PostgreSQL rebuild of the movement view, 100,000 events, events/s | \(format(rate)) |")
        let lagSchema = try await database.schema("bench_lag_\(UUID().uuidString.prefix(8).lowercased())")
        let lag = try await projectionLag(
            store: PostgresEventStore(schema: lagSchema), movements: PostgresReadStorage<Movement>(schema: lagSchema), commandsPerClient: 200)
        print("| PostgreSQL commit-to-view lag, 16 clients, p50 / p99 ms | \(String(format: "%.2f / %.2f", lag.p50, lag.p99)) |")
    }
}
