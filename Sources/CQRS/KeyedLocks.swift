import Synchronization

/// Async locks by key, first come first served, within this process. The engine runs one command at a
/// time per aggregate id, so that commands on a hot aggregate queue up instead of failing each
/// other's version checks (other processes writing the same store are handled by the engine's
/// re-decide on conflict); the projector runs one batch at a time per projection.
final class KeyedLocks: Sendable {
    private let waiters = Mutex<[ByteString: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` holding the lock of `id`.
    func withLock<T>(_ id: String, _ body: () async throws -> T) async rethrows -> T {
        let key = ByteString(id)
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    /// Runs `body` holding the lock of `id` if nobody holds it now; nil, without running it, otherwise.
    func withLockIfFree<T>(_ id: String, _ body: () async throws -> T) async rethrows -> T? {
        let key = ByteString(id)
        let free = waiters.withLock { waiters -> Bool in
            guard waiters[key] == nil else { return false }
            waiters[key] = []
            return true
        }
        guard free else { return nil }
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: ByteString) async {
        // An entry means "held"; its array holds those waiting, first come first served.
        let free = waiters.withLock { waiters -> Bool in
            guard waiters[key] == nil else { return false }
            waiters[key] = []
            return true
        }
        if free { return }
        await withCheckedContinuation { continuation in
            let acquired = waiters.withLock { waiters -> Bool in
                guard waiters[key] != nil else {
                    waiters[key] = []
                    return true
                }
                waiters[key]!.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func release(_ key: ByteString) {
        let next = waiters.withLock { waiters -> CheckedContinuation<Void, Never>? in
            guard var queue = waiters[key], !queue.isEmpty else {
                waiters[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiters[key] = queue
            return first
        }
        // The lock passes straight to the next waiter.
        next?.resume()
    }
}
