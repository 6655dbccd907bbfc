import CQRSSchema
import Logging
import Synchronization

/// Tells watchers when an aggregate gets new events, whichever process committed them: one
/// subscription to the global log per feed fans out to every watcher of the aggregate.
///
/// A change is a wake-up, not the events: a watcher reads the aggregate's events itself after the
/// version it has seen (so nothing is lost however slowly it reads), and changes that arrive while
/// it is busy coalesce into one.
public final class ChangeFeed: Sendable {
    private struct Key: Hashable {
        var type: String
        var id: String
    }

    private struct State {
        var watchers: [Key: [Int: AsyncStream<Void>.Continuation]] = [:]
        var nextWatcher = 0
        var follower: Task<Void, Never>?
    }

    private let store: any EventStore
    private let wake: LogWake?
    private let state = Mutex(State())
    private let logger = Logger(label: "cqrs.changes")

    /// A feed over `store`, woken by local commits through `wake` (e.g. ``Projector/logWake``).
    public init(store: any EventStore, wake: LogWake? = nil) {
        self.store = store
        self.wake = wake
    }

    deinit { state.withLock { $0.follower?.cancel() } }

    /// How many watchers are registered.
    public var watcherCount: Int { state.withLock { $0.watchers.values.reduce(0) { $0 + $1.count } } }

    /// A stream that yields after new events of the aggregate commit (at most one pending yield);
    /// it ends when the consumer stops iterating or cancels. The feed follows the log from the
    /// first watcher on.
    public func changes(aggregateType: String, id: String) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = Key(type: aggregateType, id: id)
        state.withLock { state in
            state.nextWatcher += 1
            let ticket = state.nextWatcher
            state.watchers[key, default: [:]][ticket] = continuation
            continuation.onTermination = { [weak self] _ in
                let idle = self?.state.withLock { state -> Task<Void, Never>? in
                    state.watchers[key]?.removeValue(forKey: ticket)
                    if state.watchers[key]?.isEmpty == true { state.watchers.removeValue(forKey: key) }
                    // The last watcher gone: stop following the log (the next one starts again).
                    guard state.watchers.isEmpty else { return nil }
                    defer { state.follower = nil }
                    return state.follower
                }
                idle?.cancel()
            }
            if state.follower == nil { state.follower = follow() }
        }
        return stream
    }

    private func follow() -> Task<Void, Never> {
        let store = self.store
        let wake = self.wake
        let logger = self.logger
        return Task { [weak self] in
            var position: Int64?
            while !Task.isCancelled {
                do {
                    // Watchers read what came before by themselves: the feed starts at the head (the
                    // highest position below which no commit can still appear, see ``LogExtent``).
                    if position == nil { position = try await store.logExtent(after: .max).head }
                    for try await event in store.subscribe(after: position ?? 0, wake: wake) {
                        position = event.globalPosition
                        guard let self else { return }
                        self.notify(Key(type: event.aggregateType, id: event.aggregateId))
                    }
                    return
                } catch {
                    logger.warning("The change feed failed after position \(position ?? 0); retrying: \(error)")
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    private func notify(_ key: Key) {
        let continuations = state.withLock { $0.watchers[key].map { Array($0.values) } ?? [] }
        for continuation in continuations { continuation.yield() }
    }
}
