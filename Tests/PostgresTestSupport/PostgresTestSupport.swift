import CQRS
import CQRSPostgres
import Foundation
import Synchronization

/// What the PostgreSQL tests share: the server from `CQRS_POSTGRES_URL`, fresh schemas, the outage
/// switch from `CQRS_POSTGRES_CTL`, and a lock that keeps ordinary tests away while the server is down.
public enum PostgresTestEnvironment {
    /// A failure explaining what to set up (the tests fail, never skip, without a server).
    public struct MissingSetup: Error, CustomStringConvertible {
        public let description: String
    }

    /// The URL of the test server.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["CQRS_POSTGRES_URL"], !url.isEmpty else {
            throw MissingSetup(
                description: "CQRS_POSTGRES_URL is not set. The PostgreSQL tests need a server: run `eval \"$(scripts/postgres start)\"` first (CI always provides one).")
        }
        return url
    }

    /// The outage switch: a script taking `stop` and `start`.
    public static func controlScript() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["CQRS_POSTGRES_CTL"], !path.isEmpty else {
            throw MissingSetup(
                description: "CQRS_POSTGRES_CTL is not set: it must name a script taking stop/start for the test server (scripts/postgres-ctl).")
        }
        return path
    }

    private static let sharedDatabase = Mutex<PostgresDatabase?>(nil)

    /// One started database for the whole test process (40 pooled connections).
    public static func database() throws -> PostgresDatabase {
        let url = try url()
        return try sharedDatabase.withLock { shared in
            if let shared { return shared }
            // Generous for a loaded CI machine (every suite starts at once on 2 cores), still well
            // below the outage test's 20 s bound on a failure.
            let database = try PostgresDatabase(
                url: url, options: .init(connectTimeout: .seconds(3), acquireTimeout: .seconds(10), operationTimeout: .seconds(15)))
            database.start()
            shared = database
            return database
        }
    }

    /// A new, empty schema (created and migrated); call it inside ``withServer(_:)`` or ``exclusively(_:)``.
    public static func freshSchema(_ database: PostgresDatabase? = nil) async throws -> PostgresSchema {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
        return try await (database ?? Self.database()).schema(name)
    }

    /// Runs the control script with `command` (`stop` or `start`) and waits for it (without blocking a thread).
    public static func control(_ command: String) async throws {
        let script = try controlScript()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = [command]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        guard status == 0 else {
            throw MissingSetup(description: "\(script) \(command) failed with status \(status)")
        }
    }

    // MARK: - Outage lock

    private static let lock = ReadersWriterLock()

    /// Runs an ordinary test body while the server is guaranteed to stay up.
    public static func withServer<T>(_ body: () async throws -> T) async throws -> T {
        try await lock.holding(exclusive: false, body)
    }

    /// Runs an outage test body alone (no ordinary test runs meanwhile).
    public static func exclusively<T>(_ body: () async throws -> T) async throws -> T {
        try await lock.holding(exclusive: true, body)
    }
}

/// A readers-writer lock for async code: many readers or one writer; a waiting writer blocks new readers.
final class ReadersWriterLock: Sendable {
    private struct State {
        var readers = 0
        var writer = false
        var waitingWriters = 0
    }

    private let state = Mutex(State())

    func acquire(exclusive: Bool) async {
        var registered = false
        while true {
            let acquired = state.withLock { state -> Bool in
                if exclusive {
                    if !registered { state.waitingWriters += 1 }
                    if !state.writer && state.readers == 0 {
                        state.writer = true
                        state.waitingWriters -= 1
                        return true
                    }
                    return false
                }
                if !state.writer && state.waitingWriters == 0 {
                    state.readers += 1
                    return true
                }
                return false
            }
            registered = true
            if acquired { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func release(exclusive: Bool) {
        state.withLock { state in
            if exclusive { state.writer = false } else { state.readers -= 1 }
        }
    }

    /// Runs `body` holding the lock, releasing it however `body` ends.
    func holding<T>(exclusive: Bool, _ body: () async throws -> T) async throws -> T {
        await acquire(exclusive: exclusive)
        do {
            let result = try await body()
            release(exclusive: exclusive)
            return result
        } catch {
            release(exclusive: exclusive)
            throw error
        }
    }
}
