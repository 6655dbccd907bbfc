import CQRS
import Foundation
import Logging
import PostgresNIO
import Synchronization

extension PostgresDatabase {
    // MARK: - Running operations

    /// Leases a connection (waiting at most ``Options/acquireTimeout``) and runs `body` on it, mapping
    /// every failure to a ``CqrsError``. A `cancellable` operation returns at once when the caller is
    /// cancelled (its outcome then unknown); otherwise the caller waits for the outcome.
    func withConnection<T: Sendable>(
        cancellable: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        start()
        let client = self.client
        let (acquireTimeout, operationTimeout) = (options.acquireTimeout, options.operationTimeout)
        let race = DeadlineRace<T>()
        do {
            // The lease runs in its own task and the caller waits on a continuation, not on that task:
            // after an outage the pool may keep a lease request waiting and ignore its cancellation,
            // and a caller must still get its 503 after `acquireTimeout`, not hang with it.
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    race.start(continuation)
                    let work = Task {
                        do {
                            let value = try await client.withConnection { connection in
                                race.leased()
                                return try await body(Self.unlessClosed(connection))
                            }
                            race.finish(.success(value))
                        } catch {
                            race.finish(.failure(error))
                        }
                    }
                    // Entries of the process's one deadline timer: neither a sleeping task nor an
                    // event-loop timer (each of those wakes another thread twice per operation).
                    let now = ContinuousClock.now
                    let acquire = DeadlineTimer.shared.schedule(at: now + acquireTimeout) {
                        if race.fail(AcquireTimeout(), unlessLeased: true) { work.cancel() }
                    }
                    // PostgresNIO never answers a statement written to a connection that has just
                    // closed; the caller must not wait for it forever.
                    let operation = DeadlineTimer.shared.schedule(at: now + max(operationTimeout, acquireTimeout)) {
                        if race.fail(OperationTimeout(), unlessLeased: false) { work.cancel() }
                    }
                    race.onFinish {
                        DeadlineTimer.shared.cancel(acquire)
                        DeadlineTimer.shared.cancel(operation)
                    }
                }
            } onCancel: {
                if cancellable { race.finish(.failure(CancellationError())) }
            }
        } catch {
            let mapped = Self.map(error)
            // Clients get the SQLSTATE only; the server's own message belongs in the log.
            // (23: constraint violations, which the stores turn into conflicts.)
            if mapped.status == 500, !(error is CqrsError), mapped.details?["sqlState"]?.stringValue?.hasPrefix("23") != true {
                logger.error("PostgreSQL operation failed: \(String(reflecting: error))")
            }
            throw mapped
        }
    }

    struct AcquireTimeout: Error {}
    struct OperationTimeout: Error {}
    struct ConnectionClosed: Error {}

    /// Resumes a caller once: with the operation's outcome, or with ``AcquireTimeout`` when no
    /// connection was leased in time.
    private final class DeadlineRace<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var leased = false
            var done = false
            var early: Result<T, any Error>?  // an outcome (cancellation) before the caller waited
            var onFinish: (@Sendable () -> Void)?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            let early = state.withLock { state -> Result<T, any Error>? in
                if let early = state.early { return early }
                state.continuation = continuation
                return nil
            }
            if let early { continuation.resume(with: early) }
        }

        func leased() { state.withLock { $0.leased = true } }

        func onFinish(_ action: @escaping @Sendable () -> Void) {
            let runNow = state.withLock { state -> Bool in
                if state.done { return true }
                state.onFinish = action
                return false
            }
            if runNow { action() }
        }

        /// Fails the caller with `error` unless it already has its outcome (or, with `unlessLeased`, a
        /// connection was leased); true when it did.
        func fail(_ error: any Error, unlessLeased: Bool) -> Bool {
            let (continuation, action) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
                guard !(unlessLeased && state.leased), !state.done, state.continuation != nil else { return (nil, nil) }
                state.done = true
                defer { state.continuation = nil }
                return (state.continuation, state.onFinish)
            }
            continuation?.resume(throwing: error)
            action?()
            return continuation != nil
        }

        func finish(_ result: Result<T, any Error>) {
            let (continuation, action) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
                guard !state.done else { return (nil, nil) }
                state.done = true
                if state.continuation == nil { state.early = result }
                defer { state.continuation = nil }
                return (state.continuation, state.onFinish)
            }
            continuation?.resume(with: result)
            action?()
        }
    }

    /// Runs one statement and collects its rows with `row`.
    func rows<T: Sendable>(
        _ query: PostgresQuery, cancellable: Bool = true, _ row: @escaping @Sendable (PostgresRow) throws -> T
    ) async throws -> [T] {
        let logger = self.logger
        return try await withConnection(cancellable: cancellable) { connection in
            var result: [T] = []
            for try await item in try await connection.query(query, logger: logger) {
                result.append(try row(item))
            }
            return result
        }
    }

    /// Runs one autocommit statement and returns its rows only once its commit is known to be done.
    ///
    /// A lone statement commits at the protocol's Sync, after the server has produced its rows and
    /// CommandComplete. Those normally reach the client together with ReadyForQuery, after the commit,
    /// but a server shut down in between flushes them early (with its shutdown warning): the client
    /// would acknowledge a write that never committed. So a `SELECT 1` follows on the same connection:
    /// the server answers it only after finishing the Sync, hence the commit. Two round trips, where
    /// `BEGIN`/statement/`COMMIT` would take three.
    func rowsCommitted<T: Sendable>(
        _ query: PostgresQuery, _ row: @escaping @Sendable (PostgresRow) throws -> T
    ) async throws -> [T] {
        let logger = self.logger
        return try await withConnection { connection in
            var result: [T] = []
            for try await item in try await connection.query(query, logger: logger) {
                result.append(try row(item))
            }
            _ = try await Self.unlessClosed(connection).query("SELECT 1", logger: logger)
            return result
        }
    }

    /// `connection`, or a connection error when it has closed: PostgresNIO 1.x never answers a
    /// statement written to a connection that has already closed.
    private static func unlessClosed(_ connection: PostgresConnection) throws -> PostgresConnection {
        if connection.isClosed { throw ConnectionClosed() }
        return connection
    }

    /// Runs one statement that returns nothing of interest.
    func execute(_ query: PostgresQuery) async throws {
        let logger = self.logger
        try await withConnection { connection in
            _ = try await connection.query(query, logger: logger)
        }
    }
}
