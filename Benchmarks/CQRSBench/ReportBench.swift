import Bank
import CQRS
import CQRSPostgres
import CQRSSQLite
import Foundation

// The measurements `scripts/bench` plots that no other subcommand prints: command latency
// percentiles per store and replay speed against aggregate length. Lines are `key value…`,
// one measurement each, for the report script to parse.

/// Per-command latencies (sorted) of `clients` clients each running deposits on its own account.
func commandLatencies(store: any EventStore, clients: Int, commandsPerClient: Int) async throws -> [Duration] {
    let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .every(100))
    let context = CommandContext(currentUser: "bench", requestId: "bench")
    let all = try await withThrowingTaskGroup(of: [Duration].self) { group in
        for _ in 0..<clients {
            group.addTask {
                let id = try await engine.create(.open(owner: "bench"), context: context).aggregateId
                var latencies: [Duration] = []
                latencies.reserveCapacity(commandsPerClient)
                for _ in 0..<commandsPerClient {
                    let started = ContinuousClock.now
                    _ = try await engine.update(id: id, .deposit(amount: 1), context: context)
                    latencies.append(ContinuousClock.now - started)
                }
                return latencies
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }
    return all.sorted()
}

func milliseconds(_ latencies: [Duration], _ quantile: Double) -> String {
    let index = min(latencies.count - 1, Int(Double(latencies.count) * quantile))
    return String(format: "%.3f", latencies[index].inSeconds * 1000)
}

/// `latency STORE CLIENTS p50 p90 p99` (milliseconds) for memory, SQLite and, with a URL, PostgreSQL.
func latencyReport(postgresURL: String?) async throws {
    var stores: [(String, () async throws -> any EventStore)] = [
        ("memory", { InMemoryEventStore() }), ("sqlite", { try SQLiteEventStore(path: temporaryDatabase()) }),
    ]
    var database: PostgresDatabase?
    if let postgresURL, !postgresURL.isEmpty {
        let opened = try PostgresDatabase(url: postgresURL, options: .init(maximumConnections: 20))
        opened.start()
        database = opened
        stores.append(("postgres", { PostgresEventStore(schema: try await opened.schema("bench_latency")) }))
    }
    for (name, make) in stores {
        for clients in [1, 16] {
            let latencies = try await commandLatencies(store: try await make(), clients: clients, commandsPerClient: 2000 / clients)
            print("latency \(name) \(clients) \(milliseconds(latencies, 0.5)) \(milliseconds(latencies, 0.9)) \(milliseconds(latencies, 0.99))")
        }
    }
    await database?.shutdown()
}

/// `replay STORE EVENTS events/s` for aggregates of 100 to 100,000 events (cache and snapshots off).
func replayLengthReport() async throws {
    for count in [100, 1_000, 10_000, 100_000] {
        print("replay memory \(count) \(format(try await replay(store: InMemoryEventStore(), count: count).full))")
        print("replay sqlite \(count) \(format(try await replay(store: try SQLiteEventStore(path: temporaryDatabase()), count: count).full))")
    }
}
