import CQRSSchema
import Synchronization

/// Where an event lands in a view: the document's id and, for a child view, its parent's id.
public struct ViewKey: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// The parent id (child views only).
    public var parentId: String?

    /// Creates a key.
    public init(id: String, parentId: String? = nil) {
        self.id = id
        self.parentId = parentId
    }
}

/// What an event does to a view document.
public enum ViewChange<V: Sendable>: Sendable {
    /// Nothing to write.
    case unchanged
    /// Write this document.
    case upsert(V)
    /// Remove the document.
    case delete
}

/// A read model kept up to date from one aggregate's events.
public protocol View: ReadModel {
    /// The aggregate whose events feed the view.
    associatedtype Source: Aggregate
    /// The document an event touches, or nil when it touches none.
    static func key(for event: EventEnvelope<Source.Event>) -> ViewKey?
    /// The change an event makes to the document (`current` is nil when there is none yet).
    static func project(_ current: Self?, _ event: EventEnvelope<Source.Event>) -> ViewChange<Self>
}

/// A dispatcher that applies events to a view in a ``ReadStorage``.
///
/// Updates through one dispatcher are serialised (read, project, write), so concurrent commands
/// in this process never lose a view update.
public struct ViewDispatcher<V: View>: Dispatcher {
    public typealias A = V.Source
    private let storage: any ReadStorage<V>
    private let lock = AsyncLock()

    /// A dispatcher writing into `storage`.
    public init(storage: any ReadStorage<V>) {
        self.storage = storage
    }

    public func dispatch(aggregateId: String, events: [EventEnvelope<A.Event>], context: CommandContext) async throws {
        try await lock.withLock {
            for event in events {
                guard let key = V.key(for: event) else { continue }
                let current = try await storage.find(id: key.id, parentId: key.parentId)
                switch V.project(current, event) {
                case .unchanged: break
                case .upsert(let next): try await storage.upsert(next)
                case .delete: try await storage.delete(id: key.id, parentId: key.parentId)
                }
            }
        }
    }
}

/// The latest state of one aggregate as a read model: `{"id","version","state"}`.
@Schema
public struct AggregateState<A: Aggregate>: ReadModel {
    public static var modelType: String { A.aggregateType }
    public static var sortableFields: Set<String> {
        Set(["version"] + A.sortableStateFields.map { "state.\($0)" })
    }
    /// The aggregate id.
    public var id: String
    /// The aggregate's version.
    public var version: Int
    /// The aggregate's state.
    public var state: A

    /// Creates the read model.
    public init(id: String, version: Int, state: A) {
        self.id = id
        self.version = version
        self.state = state
    }
}

extension Aggregate {
    public static var sortableStateFields: [String] { [] }
}

/// A dispatcher that keeps every aggregate's latest state in a ``ReadStorage``, so that aggregates
/// can be listed and filtered. When it sees a gap (a missed update), it rebuilds the state from the store.
public struct LatestStateProjection<A: Aggregate>: Dispatcher {
    private let storage: any ReadStorage<AggregateState<A>>
    private let store: any EventStore
    private let lock = AsyncLock()

    /// A projection reading gaps from `store` and writing into `storage`.
    public init(store: any EventStore, storage: any ReadStorage<AggregateState<A>>) {
        self.store = store
        self.storage = storage
    }

    public func dispatch(aggregateId: String, events: [EventEnvelope<A.Event>], context: CommandContext) async throws {
        guard let last = events.last else { return }
        try await lock.withLock {
            let current = try await storage.find(id: aggregateId, parentId: nil)
            let known = current?.version ?? 0
            if known >= last.version { return }
            if let first = events.first, first.version == known + 1 {
                var state = current?.state ?? A(id: aggregateId)
                for event in events { try state.apply(event.payload) }
                try await storage.upsert(AggregateState(id: aggregateId, version: last.version, state: state))
            } else {
                try await rebuild(id: aggregateId)
            }
        }
    }

    /// Rebuilds one aggregate's state from the store.
    public func rebuild(id: String) async throws {
        let slice = try await store.loadStream(A.self, id: id, useSnapshot: false)
        guard slice.version > 0 else { return }
        var state = A(id: id)
        for event in slice.events { try state.apply(event.payload) }
        try await storage.upsert(AggregateState(id: id, version: slice.version, state: state))
    }
}

/// A mutual-exclusion lock for async code (an actor alone does not serialise across `await`).
public final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// A new unlocked lock.
    public init() {}

    /// Runs `body` while holding the lock.
    public func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        let acquired = state.withLock { state -> Bool in
            if state.locked { return false }
            state.locked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.locked {
                    state.waiters.append(continuation)
                    return false
                }
                state.locked = true
                return true
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func unlock() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.locked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
