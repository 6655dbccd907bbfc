import CQRS
import CQRSSQLite
import CSQLite
import Foundation

// `cqrs-bench group-commit`: SQLite commands/s with 1, 16, 64 and 256 clients against the raw rate
// of one-insert transactions on the same file settings (WAL, synchronous=NORMAL), in one run.

/// Transactions per second of a loop that commits one INSERT of an event-sized row per transaction.
func rawSQLiteTransactions(count: Int) throws -> Double {
    var handle: OpaquePointer?
    guard sqlite3_open(temporaryDatabase(), &handle) == SQLITE_OK, let db = handle else { throw CqrsError.database("open failed") }
    defer { sqlite3_close(db) }
    for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                   "CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, payload TEXT NOT NULL, UNIQUE (aggregate_id, version))"] {
        sqlite3_exec(db, pragma, nil, nil, nil)
    }
    var statement: OpaquePointer?
    sqlite3_prepare_v2(db, "INSERT INTO events (aggregate_id, version, payload) VALUES (?, ?, ?)", -1, &statement, nil)
    defer { sqlite3_finalize(statement) }
    let payload = #"{"deposited":{"amount":1}}"#
    let start = ContinuousClock.now
    for index in 0..<count {
        sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil)
        sqlite3_bind_text(statement, 1, "raw", -1, nil)
        sqlite3_bind_int64(statement, 2, Int64(index))
        sqlite3_bind_text(statement, 3, payload, -1, nil)
        guard sqlite3_step(statement) == SQLITE_DONE else { throw CqrsError.database("insert failed") }
        sqlite3_reset(statement)
        sqlite3_exec(db, "COMMIT", nil, nil, nil)
    }
    return Double(count) / (ContinuousClock.now - start).inSeconds
}

func groupCommitBench(scale: Int) async throws {
    print("| measurement | result |")
    print("| --- | --- |")
    let raw = try rawSQLiteTransactions(count: 20_000 * scale)
    print("| SQLite raw one-insert transactions/s (WAL, synchronous=NORMAL) | \(format(raw)) |")
    for clients in [1, 16, 64, 256] {
        let perClient = max(50, 20_000 * scale / clients)
        let rate = try await commandsPerSecond(store: try SQLiteEventStore(path: temporaryDatabase()), clients: clients, commandsPerClient: perClient)
        print("| SQLite commands/s, \(clients) clients | \(format(rate)) (\(String(format: "%.2f", rate / raw))× raw) |")
    }
}
