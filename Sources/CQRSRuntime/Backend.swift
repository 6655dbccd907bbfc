import CQRS
import CQRSSQLite
#if MongoDB
    import CQRSMongo
#endif
#if PostgreSQL
    import CQRSPostgres
#endif
import Foundation
import Synchronization

/// An event store and the read storages that go with it, opened from a store URL.
///
/// | URL | backend |
/// | --- | --- |
/// | `memory:` | in memory (lost at exit) |
/// | `sqlite:PATH` | one SQLite file (created if missing) |
/// | `postgres://user:pass@host:port/db?sslmode=…&schema=NAME` | PostgreSQL (tables in schema `NAME`, default `public`) |
/// | `mongodb://user:pass@host:port,…/db?replicaSet=…&tls=true` | MongoDB (collections in database `db`, default `cqrs`) |
///
/// PostgreSQL and MongoDB are the package traits `PostgreSQL` and `MongoDB` (both on by default); a
/// build without one refuses its URLs with a configuration error that says so.
public final class Backend: Sendable {
    /// The event store.
    public let eventStore: any EventStore
    private let makeStorage: @Sendable (Any.Type) -> Any
    private let storages = Mutex<[ObjectIdentifier: any Sendable]>([:])
    /// The URL it was opened from, with any password removed (safe to log).
    public let description: String
    /// How the app's projector should run (batch size, consistency wait), from the command line.
    public let projectorOptions: Projector.Options

    private let onClose: @Sendable () async -> Void

    /// A backend from its parts.
    public init(
        eventStore: any EventStore, description: String, makeStorage: @escaping @Sendable (Any.Type) -> Any,
        projectorOptions: Projector.Options = .init(), onClose: @escaping @Sendable () async -> Void = {}
    ) {
        self.eventStore = eventStore
        self.projectorOptions = projectorOptions
        self.description = description
        self.makeStorage = makeStorage
        self.onClose = onClose
    }

    /// Releases the backend's connections (call once, when done).
    public func close() async {
        await onClose()
    }

    /// The read storage of one model type, in the same backend (the same instance on every call).
    public func readStorage<M: ReadModel>(_ type: M.Type) -> any ReadStorage<M> {
        storages.withLock { storages in
            if let existing = storages[ObjectIdentifier(M.self)] as? any ReadStorage<M> { return existing }
            let created = makeStorage(M.self) as! any ReadStorage<M>
            storages[ObjectIdentifier(M.self)] = created
            return created
        }
    }

    /// The file of a `sqlite:PATH` (or `sqlite://PATH`) URL, nil for another scheme.
    static func sqlitePath(_ url: String) -> String? {
        guard url.hasPrefix("sqlite:") else { return nil }
        let path = url.dropFirst("sqlite:".count)
        return String(path.hasPrefix("//") ? path.dropFirst(2) : path)
    }

    /// Opens the backend a store URL names.
    /// - Throws: 500 `CONFIGURATION_ERROR` for an unknown scheme; the store's own errors otherwise.
    public static func open(_ url: String, projectorOptions: Projector.Options = .init()) async throws -> Backend {
        if url == "memory:" || url == "memory://" {
            return Backend(
                eventStore: InMemoryEventStore(), description: "memory:",
                makeStorage: { type in (type as! any ReadModel.Type).inMemoryStorage() }, projectorOptions: projectorOptions)
        }
        if let path = sqlitePath(url) {
            guard !path.isEmpty else { throw InfrastructureError.configurationError.error("sqlite: needs a path, e.g. sqlite:bank.sqlite") }
            let database = try await SQLiteDatabase.open(path: path)
            return Backend(
                eventStore: SQLiteEventStore(database: database), description: "sqlite:\(path)",
                makeStorage: { type in (type as! any ReadModel.Type).sqliteStorage(database) }, projectorOptions: projectorOptions)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            #if PostgreSQL
                return try await openPostgres(url, projectorOptions: projectorOptions)
            #else
                throw InfrastructureError.configurationError.error("This build has no PostgreSQL store (the package trait PostgreSQL is off)")
            #endif
        }
        if url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://") {
            #if MongoDB
                return try await openMongo(url, projectorOptions: projectorOptions)
            #else
                throw InfrastructureError.configurationError.error("This build has no MongoDB store (the package trait MongoDB is off)")
            #endif
        }
        throw InfrastructureError.configurationError.error("Unknown store URL '\(url)': use memory:, sqlite:PATH, postgres://… or mongodb://…")
    }
}

extension ReadModel {
    fileprivate static func inMemoryStorage() -> Any { InMemoryReadStorage<Self>() as any ReadStorage<Self> }
    fileprivate static func sqliteStorage(_ database: SQLiteDatabase) -> Any {
        SQLiteReadStorage<Self>(database: database) as any ReadStorage<Self>
    }
}

#if PostgreSQL
    extension Backend {
        fileprivate static func openPostgres(_ url: String, projectorOptions: Projector.Options) async throws -> Backend {
            // `schema=` is ours; the rest of the URL is the connection's.
            guard var components = URLComponents(string: url) else { throw InfrastructureError.configurationError.error("Invalid PostgreSQL URL") }
            let schemaName = components.queryItems?.first { $0.name == "schema" }?.value ?? "public"
            components.queryItems = components.queryItems?.filter { $0.name != "schema" }
            if components.queryItems?.isEmpty == true { components.queryItems = nil }
            let database = try PostgresDatabase(url: components.string ?? url)
            database.start()
            let schema: PostgresSchema
            do {
                schema = try await database.schema(schemaName)
            } catch {
                await database.shutdown()
                throw error
            }
            let endpoint = database.endpoint
            return Backend(
                eventStore: PostgresEventStore(schema: schema),
                description: "postgres://\(endpoint.username)@\(endpoint.host):\(endpoint.port)/\(endpoint.database) (schema \(schemaName))",
                makeStorage: { type in (type as! any ReadModel.Type).postgresStorage(schema) }, projectorOptions: projectorOptions,
                onClose: { await database.shutdown() })
        }
    }

    extension ReadModel {
        fileprivate static func postgresStorage(_ schema: PostgresSchema) -> Any {
            PostgresReadStorage<Self>(schema: schema) as any ReadStorage<Self>
        }
    }
#endif

#if MongoDB
    extension Backend {
        fileprivate static func openMongo(_ url: String, projectorOptions: Projector.Options) async throws -> Backend {
            let database = try MongoDatabase(url: url)
            do {
                let store = try await MongoEventStore(database: database)
                // The read storages' index, created once here rather than by each storage.
                try await database.prepareReadModels()
                return Backend(
                    eventStore: store, description: database.description,
                    makeStorage: { type in (type as! any ReadModel.Type).mongoStorage(database) }, projectorOptions: projectorOptions,
                    onClose: { await database.shutdown() })
            } catch {
                await database.shutdown()
                throw error
            }
        }
    }

    extension ReadModel {
        fileprivate static func mongoStorage(_ database: MongoDatabase) -> Any {
            MongoReadStorage<Self>(unindexed: database) as any ReadStorage<Self>
        }
    }
#endif
