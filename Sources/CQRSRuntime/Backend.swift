import CQRS
import CQRSSQLite
import Foundation
import Synchronization

/// An event store and the read storages that go with it, opened from a store URL.
///
/// | URL | backend |
/// | --- | --- |
/// | `memory:` | in memory (lost at exit) |
/// | `sqlite:PATH` | one SQLite file (created if missing) |
public final class Backend: Sendable {
    /// The event store.
    public let eventStore: any EventStore
    private let makeStorage: @Sendable (Any.Type) -> Any
    private let storages = Mutex<[ObjectIdentifier: any Sendable]>([:])
    /// The URL it was opened from, with any password removed (safe to log).
    public let description: String

    /// A backend from its parts.
    public init(eventStore: any EventStore, description: String, makeStorage: @escaping @Sendable (Any.Type) -> Any) {
        self.eventStore = eventStore
        self.description = description
        self.makeStorage = makeStorage
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

    /// Opens the backend a store URL names.
    /// - Throws: 500 `CONFIGURATION_ERROR` for an unknown scheme; the store's own errors otherwise.
    public static func open(_ url: String) async throws -> Backend {
        if url == "memory:" || url == "memory://" {
            return Backend(eventStore: InMemoryEventStore(), description: "memory:") { type in
                (type as! any ReadModel.Type).inMemoryStorage()
            }
        }
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw configuration("sqlite: needs a path, e.g. sqlite:bank.sqlite") }
            let database = try SQLiteDatabase(path: path)
            return Backend(eventStore: SQLiteEventStore(database: database), description: "sqlite:\(path)") { type in
                (type as! any ReadModel.Type).sqliteStorage(database)
            }
        }
        throw configuration("Unknown store URL '\(url)': use memory: or sqlite:PATH")
    }

    static func configuration(_ message: String) -> CqrsError {
        CqrsError(
            domain: InfrastructureError.domain, code: InfrastructureError.configurationError.code,
            internalCode: InfrastructureError.configurationError.internalCode, status: 500, message: message)
    }
}

extension ReadModel {
    fileprivate static func inMemoryStorage() -> Any { InMemoryReadStorage<Self>() as any ReadStorage<Self> }
    fileprivate static func sqliteStorage(_ database: SQLiteDatabase) -> Any {
        SQLiteReadStorage<Self>(database: database) as any ReadStorage<Self>
    }
}
