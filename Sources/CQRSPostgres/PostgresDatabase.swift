import CQRS
import CQRSSchema
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// A PostgreSQL server reached through a pooled `PostgresClient`, and the background task that runs it.
///
/// Lifecycle: create it, call ``start()`` (it runs `PostgresClient.run()` in a task it owns), use it
/// through ``schema(_:)`` and the stores, then ``shutdown()``. ``withDatabase(url:options:logger:_:)``
/// does all three around a closure, which suits a plain `async` main without ServiceLifecycle:
/// ```swift
/// try await PostgresDatabase.withDatabase(url: "postgres://app:secret@db:5432/app?sslmode=require") { database in
///     let schema = try await database.schema("shop")
///     let engine = CommandEngine<Order>(store: PostgresEventStore(schema: schema), services: ())
///     …
/// }
/// ```
///
/// Failures: while the server cannot be reached, every operation fails within
/// ``Options/acquireTimeout`` (plus at most ``Options/connectTimeout``) with 503
/// `INFRASTRUCTURE_SERVICE_UNAVAILABLE`; once it is back, the pool reconnects by itself. Any other
/// server error is a 500 `INFRASTRUCTURE_DATABASE_ERROR` whose `details` carry the SQLSTATE.
public final class PostgresDatabase: Sendable {
    /// How the connection negotiates TLS (the `sslmode` of the URL).
    public enum TLSMode: String, Sendable, Hashable {
        /// No TLS (`sslmode=disable`).
        case disable
        /// TLS when the server offers it, without certificate verification (`sslmode=prefer`, the default).
        case prefer
        /// TLS or no connection, without certificate verification (`sslmode=require`).
        case require
        /// TLS or no connection, with the certificate checked against the system roots and the host name
        /// (`sslmode=verify-full`).
        case verifyFull = "verify-full"
    }

    /// Where the server is and who connects.
    public struct Endpoint: Sendable, Hashable {
        /// Host name or IP address.
        public var host: String
        /// TCP port.
        public var port: Int
        /// The role to connect as.
        public var username: String
        /// The password, if any.
        public var password: String?
        /// The database name.
        public var database: String
        /// TLS negotiation.
        public var tls: TLSMode

        /// Creates an endpoint.
        public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .prefer) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
        }

        /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-full`
        /// (scheme `postgresql://` too; the user name and password may be percent-encoded).
        /// - Throws: 500 `INFRASTRUCTURE_CONFIGURATION_ERROR` naming what is wrong (never the password).
        public init(url: String) throws {
            guard let components = URLComponents(string: url),
                let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql",
                let host = components.host, !host.isEmpty
            else {
                throw Self.invalid("expected postgres://user:password@host:port/database")
            }
            guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
                throw Self.invalid("the URL names no user")
            }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            var tls = TLSMode.prefer
            for item in components.queryItems ?? [] {
                switch item.name {
                case "sslmode":
                    guard let value = item.value, let mode = TLSMode(rawValue: value == "verify-ca" ? "verify-full" : value) else {
                        throw Self.invalid("sslmode must be disable, prefer, require or verify-full")
                    }
                    tls = mode
                default:
                    throw Self.invalid("unsupported URL parameter '\(item.name)'")
                }
            }
            self.init(
                host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: components.port ?? 5432,
                username: user, password: components.percentEncodedPassword?.removingPercentEncoding,
                database: path.isEmpty ? user : (path.removingPercentEncoding ?? path), tls: tls)
        }

        private static func invalid(_ reason: String) -> CqrsError {
            InfrastructureError.configurationError.error("Invalid PostgreSQL URL: \(reason)")
        }
    }

    /// Pool and timeout settings.
    public struct Options: Sendable, Hashable {
        /// How long opening one TCP connection may take (default 2 s).
        public var connectTimeout: Duration
        /// How long an operation may wait for a pooled connection before it fails with 503 (default 5 s).
        public var acquireTimeout: Duration
        /// The most connections the pool opens (default 40).
        public var maximumConnections: Int
        /// How long an operation may run on its leased connection before its caller gets a 503 (default 60 s).
        ///
        /// A bound against a connection that dies mid-operation without failing its pending statement; for
        /// a commit the outcome is then unknown, exactly as after any network failure (retry with the same
        /// idempotency key).
        public var operationTimeout: Duration

        /// Creates options.
        public init(
            connectTimeout: Duration = .seconds(2), acquireTimeout: Duration = .seconds(5), maximumConnections: Int = 40,
            operationTimeout: Duration = .seconds(60)
        ) {
            self.connectTimeout = connectTimeout
            self.acquireTimeout = acquireTimeout
            self.maximumConnections = maximumConnections
            self.operationTimeout = operationTimeout
        }
    }

    /// The server and role.
    public let endpoint: Endpoint
    /// Pool and timeouts.
    public let options: Options
    /// The underlying pooled client (its `run()` is driven by ``start()``).
    public let client: PostgresClient
    let logger: Logger
    private let runner = Mutex<Task<Void, Never>?>(nil)
    private let migrated = Mutex<Set<String>>([])

    /// A database for `endpoint`; call ``start()`` before using it.
    /// - Parameter logger: receives the pool's background messages (connection failures, at `warning` and above).
    public init(endpoint: Endpoint, options: Options = Options(), logger: Logger = Logger(label: "cqrs.postgres")) {
        self.endpoint = endpoint
        self.options = options
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
            database: endpoint.database, tls: Self.tls(endpoint.tls))
        configuration.options.connectTimeout = options.connectTimeout
        configuration.options.maximumConnections = max(1, options.maximumConnections)
        configuration.options.minimumConnections = 0
        var background = logger
        background.logLevel = max(logger.logLevel, .critical)
        client = PostgresClient(configuration: configuration, backgroundLogger: background)
    }

    /// A database for a `postgres://` URL (see ``Endpoint/init(url:)``); call ``start()`` before using it.
    public convenience init(url: String, options: Options = Options(), logger: Logger = Logger(label: "cqrs.postgres")) throws {
        self.init(endpoint: try Endpoint(url: url), options: options, logger: logger)
    }

    deinit {
        runner.withLock { $0?.cancel() }
    }

    private static func tls(_ mode: TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer, .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return mode == .prefer ? .prefer(tls) : .require(tls)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    /// Starts the client's background task (idempotent). Operations issued before this wait for it.
    public func start() {
        runner.withLock { task in
            guard task == nil else { return }
            let client = self.client
            task = Task { await client.run() }
        }
    }

    /// Stops the background task and closes every connection; later operations fail with 503.
    public func shutdown() async {
        let task = runner.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Starts a database, runs `body`, and shuts the database down, also when `body` throws.
    public static func withDatabase<T: Sendable>(
        url: String, options: Options = Options(), logger: Logger = Logger(label: "cqrs.postgres"),
        _ body: (PostgresDatabase) async throws -> T
    ) async throws -> T {
        let database = try PostgresDatabase(url: url, options: options, logger: logger)
        database.start()
        do {
            let result = try await body(database)
            await database.shutdown()
            return result
        } catch {
            await database.shutdown()
            throw error
        }
    }

    /// The schema `name` (created and migrated on first use in this process), to build stores on.
    /// - Throws: 500 `CONFIGURATION_ERROR` for an invalid name; 503 when the server is unreachable.
    public func schema(_ name: String = "public") async throws -> PostgresSchema {
        let schema = try PostgresSchema(database: self, name: name)
        if !migrated.withLock({ $0.contains(name) }) {
            try await schema.migrate()
            _ = migrated.withLock { $0.insert(name) }
        }
        return schema
    }

    // MARK: - Running operations

    /// Leases a connection (waiting at most ``Options/acquireTimeout``) and runs `body` on it, mapping
    /// every failure to a ``CqrsError``.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
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
                    let deadline = Task {
                        try? await Task.sleep(for: acquireTimeout)
                        if race.fail(AcquireTimeout(), unlessLeased: true) { work.cancel(); return }
                        // PostgresNIO never answers a statement written to a connection that has just
                        // closed; the caller must not wait for it forever.
                        try? await Task.sleep(for: operationTimeout - acquireTimeout)
                        if race.fail(OperationTimeout(), unlessLeased: false) { work.cancel() }
                    }
                    race.onFinish { deadline.cancel() }
                }
            } onCancel: {
                race.finish(.failure(CancellationError()))
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
    func rows<T: Sendable>(_ query: PostgresQuery, _ row: @escaping @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        let logger = self.logger
        return try await withConnection { connection in
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
