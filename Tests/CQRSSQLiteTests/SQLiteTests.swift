import Bank
import CQRS
@testable import CQRSSQLite
import CQRSTesting
import Foundation
import Testing

/// A fresh database file per store, removed with its directory at exit of the test process.
struct SQLiteBackend: ConformanceBackend {
    static func freshPath() -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cqrs-sqlite-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("store.sqlite").path
    }

    func makeEventStore() async throws -> any EventStore { try SQLiteEventStore(path: Self.freshPath()) }
    func makeReadStorage<M: ReadModel>(_ type: M.Type) async throws -> any ReadStorage<M> {
        SQLiteReadStorage<M>(database: try SQLiteDatabase(path: Self.freshPath()))
    }
}

@Suite("SQLite backend conformance")
struct SQLiteConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await ConformanceSuite(backend: SQLiteBackend()).run(check)
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    /// Issue 8.5: text was bound with length -1, so SQLite ended it at its first NUL.
    @Test func textIsBoundWithItsLength() async throws {
        let database = try SQLiteDatabase(path: SQLiteBackend.freshPath())
        let echoed = try await database.read(singleStatement: true) { connection in
            try connection.withTransientStatement("SELECT ?, length(CAST(? AS BLOB))") { statement in
                try statement.rows([.text("k\u{0}a"), .text("k\u{0}a")]) { ($0.text(0), $0.int(1)) }
            }
        }
        #expect(echoed.first?.0 == "k\u{0}a" && echoed.first?.1 == 3)
        let empty = try await database.read(singleStatement: true) { connection in
            try connection.withTransientStatement("SELECT ? IS NULL, length(?)") { statement in
                try statement.rows([.text(""), .text("")]) { ($0.int(0), $0.int(1)) }
            }
        }
        #expect(empty.first?.0 == 0 && empty.first?.1 == 0, "an empty text is text, not NULL")
    }

    @Test func schemaIsVersionedAndReopens() async throws {
        let path = SQLiteBackend.freshPath()
        do {
            let database = try SQLiteDatabase(path: path)
            #expect(try await database.storedSchemaVersion() == SQLiteDatabase.schemaVersion)
            let engine = CommandEngine<Account>(store: SQLiteEventStore(database: database), services: ())
            let id = try await engine.create(.open(owner: "Ada")).aggregateId
            _ = try await engine.update(id: id, .deposit(amount: 700))
        }
        let reopened = CommandEngine<Account>(store: try SQLiteEventStore(path: path), services: ())
        let log = try await reopened.store.readAll(after: 0, limit: 10)
        #expect(log.map(\.eventType) == ["opened", "deposited"])
        let state = try await reopened.load(id: log[0].aggregateId)
        #expect(state?.state.balance == 700 && state?.version == 2)
    }

    @Test func aNewerSchemaIsRefused() async throws {
        let path = SQLiteBackend.freshPath()
        _ = try SQLiteDatabase(path: path)
        let raw = Process()
        raw.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        raw.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=99'); c.commit()", path]
        try raw.run()
        try await offThePool { raw.waitUntilExit() }
        #expect(throws: CqrsError.self) { _ = try SQLiteDatabase(path: path) }
    }

    @Test func corruptSnapshotFallsBackToReplay() async throws {
        let path = SQLiteBackend.freshPath()
        let store = try SQLiteEventStore(path: path)
        let engine = CommandEngine<Account>(store: store, services: (), snapshotPolicy: .everyCommit)
        let id = try await engine.create(.open(owner: "Ada")).aggregateId
        _ = try await engine.update(id: id, .deposit(amount: 5))
        let raw = Process()
        raw.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        raw.arguments = ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"UPDATE snapshots SET state='{not json'\"); c.commit()", path]
        try raw.run()
        try await offThePool { raw.waitUntilExit() }
        #expect(raw.terminationStatus == 0)
        let loaded = try await engine.load(id: id)
        #expect(loaded?.state.balance == 5 && loaded?.version == 2)
    }

    @Test func uuidParsing() {
        func parseUUID(_ text: String) -> UUID? { Array(text.utf8).withUnsafeBufferPointer(CQRSSQLite.parseUUID) }
        for _ in 0..<100 {
            let uuid = UUID()
            #expect(parseUUID(uuid.uuidString) == uuid)
            #expect(parseUUID(uuid.uuidString.lowercased()) == uuid)
        }
        for bad in ["", "not-a-uuid", "00000000-0000-0000-0000-00000000000", "00000000-0000-0000-0000-0000000000000",
                    "0000000000000-0000-0000-000000000000", "g0000000-0000-0000-0000-000000000000",
                    "000000000-000-0000-0000-000000000000", "00000000-0000-0000-0000_000000000000"] {
            #expect(parseUUID(bad) == nil, "\(bad)")
        }
    }

    /// Two stores (two connections sets, as two processes would have) on one file.
    @Test func twoStoresOnOneFile() async throws {
        let path = SQLiteBackend.freshPath()
        let first = CommandEngine<Account>(store: try SQLiteEventStore(path: path), services: ())
        let second = CommandEngine<Account>(store: try SQLiteEventStore(path: path), services: ())
        let id = try await first.create(.open(owner: "Ada")).aggregateId
        let outcomes = await withTaskGroup(of: String.self) { group in
            for n in 0..<32 {
                group.addTask {
                    do {
                        _ = try await (n.isMultiple(of: 2) ? first : second).update(id: id, .deposit(amount: 1))
                        return "ok"
                    } catch { return CqrsError.wrapping(error).code }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        let successes = outcomes.filter { $0 == "ok" }.count
        #expect(Set(outcomes).isSubset(of: ["ok", "INFRASTRUCTURE_CONCURRENCY_ERROR"]), "\(Set(outcomes))")
        let state = try await second.load(id: id)
        #expect(state?.version == 1 + successes && state?.state.balance == successes)
    }

    /// `kill -9` of a writing process at arbitrary moments: every acknowledged command is in the
    /// file afterwards, every stream is complete (versions 1…n), and the global log has no hole.
    @Test func survivesKill9() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cqrs-bench")
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/cqrs-bench"
        let executable = FileManager.default.isExecutableFile(atPath: binary.path) ? binary.path : fallback
        #expect(FileManager.default.isExecutableFile(atPath: executable), "build cqrs-bench first (swift build)")
        let path = SQLiteBackend.freshPath()
        var acknowledged: [String: Int] = [:]
        for round in 0..<3 {
            let wanted = 150 + round * 97
            // Pipes and waits block: keep them off Swift's cooperative pool.
            let (output, killed) = try await offThePool { () throws -> (Data, Bool) in
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = ["crash-writer", path]
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                var buffer = Data()
                while buffer.filter({ $0 == 10 }).count < wanted {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                buffer.append(pipe.fileHandleForReading.readDataToEndOfFile())
                return (buffer, process.terminationReason == .uncaughtSignal)
            }
            #expect(killed, "the writer was killed, not finished")
            for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 3, parts[0] == "ack", let version = Int(parts[2]) else { continue }
                acknowledged[String(parts[1]), default: 0] = max(acknowledged[String(parts[1])] ?? 0, version)
            }
        }
        #expect(acknowledged.count >= 4 && acknowledged.values.reduce(0, +) >= 400, "acknowledged: \(acknowledged)")
        let store = try SQLiteEventStore(path: path)
        let engine = CommandEngine<Account>(store: store, services: ())
        for (id, version) in acknowledged {
            let events = try await store.loadEvents(Account.self, id: id, afterVersion: 0, limit: nil)
            #expect(events.count >= version, "acknowledged version \(version) of \(id) is stored")
            #expect(events.map(\.version) == Array(1...max(events.count, 1)).prefix(events.count).map { $0 })
            let loaded = try await engine.load(id: id)
            #expect(loaded?.state.balance == events.count - 1, "\(id): one cent per deposit")
        }
        let log = try await store.readAll(after: 0, limit: 1_000_000)
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.globalPosition < $1.globalPosition })
    }
}

@Suite("SQLite replay")
struct SQLiteReplayTests {
    /// The payload-only read falls back to the full read when a payload does not decode, so that the
    /// error still names the event; and a stored value of two JSON values cannot shift the batch.
    @Test func anUndecodablePayloadIsNamed() async throws {
        for corrupt in [#"{"added":{"_0":"two"}}"#, #"{"added":{"_0":1}},{"added":{"_0":1}}"#] {
            let store = try SQLiteEventStore(path: SQLiteBackend.freshPath())
            let engine = CommandEngine<ConformanceCounter>(store: store, services: (), snapshotPolicy: .never, cacheCapacity: 0)
            let id = try await engine.create(.start(id: "r1", value: 1)).aggregateId
            for _ in 0..<3 { _ = try await engine.update(id: id, .add(1)) }
            #expect(try await engine.load(id: id)?.state.value == 4)
            try await store.database.write { connection in
                try connection.execute("UPDATE events SET payload = '\(corrupt)' WHERE aggregate_id = '\(id)' AND version = 3")
            }
            do {
                _ = try await engine.load(id: id)
                Issue.record("loaded a corrupt stream (\(corrupt))")
            } catch {
                #expect("\(error)".contains("version 3"), "\(error)")
            }
        }
    }
}

/// Runs blocking work (pipes, process waits) on a dispatch thread instead of the cooperative pool.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
