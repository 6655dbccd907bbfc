import Synchronization

/// The latest known state of recently used aggregates, so that a command replays only the events
/// committed since (usually none) instead of the whole stream or snapshot.
///
/// The cache never decides anything by itself: every load still asks the store for the events after
/// the cached version, so it stays correct when other processes write to the same store. Aggregate
/// states must have value semantics (structs), as the protocol's `Sendable` already suggests.
final class AggregateCache<A: Aggregate>: Sendable {
    private struct Entry {
        var state: A
        var version: Int
    }

    private let capacity: Int
    private let entries: Mutex<[ByteString: Entry]>  // by UTF-8 bytes, as the stores key ids

    init(capacity: Int) {
        self.capacity = capacity
        self.entries = Mutex([:])
    }

    func get(_ id: String) -> (state: A, version: Int)? {
        entries.withLock { $0[ByteString(id)].map { ($0.state, $0.version) } }
    }

    /// Forgets an aggregate (after a conflict: the store knows better).
    func remove(_ id: String) {
        _ = entries.withLock { $0.removeValue(forKey: ByteString(id)) }
    }

    /// Stores a state unless a newer one is already cached.
    func put(_ id: String, state: A, version: Int) {
        guard capacity > 0 else { return }
        let id = ByteString(id)
        entries.withLock { entries in
            if let existing = entries[id], existing.version >= version { return }
            if entries[id] == nil, entries.count >= capacity {
                // Drop about a tenth of the entries: cheap, and good enough for a hot working set.
                for key in entries.keys.prefix(max(1, capacity / 10)) { entries.removeValue(forKey: key) }
            }
            entries[id] = Entry(state: state, version: version)
        }
    }
}
