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
    /// - Parameters:
    ///   - endpoint: the server, role and TLS mode.
    ///   - options: pool size and timeouts.
    ///   - logger: receives the pool's background messages (connection failures, at `warning` and above).
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
}
