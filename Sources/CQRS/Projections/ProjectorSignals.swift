import Synchronization

/// Wakes one waiting loop early; a signal sent while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns on the next signal, or after `timeout`.
    func wait(timeout: Duration) async {
        if state.withLock({ state in
            defer { state.pending = false }
            return state.pending
        }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                if (try? await Task.sleep(for: timeout)) != nil { self.signal() }
            }
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            }
            await group.next()
            group.cancelAll()
            // The timer's task may have been the one to finish; the other then needs its signal.
            self.signal()
            await group.waitForAll()
            state.withLock { state in state.pending = false }
        }
    }
}

/// A position that only grows, and callers waiting for it to reach a target.
final class PositionWatch: Sendable {
    private struct State {
        var position: Int64 = 0
        var nextTicket = 0
        var waiters: [Int: (target: Int64, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var abandoned = Set<Int>()
    }

    private let state = Mutex(State())

    var position: Int64 { state.withLock { $0.position } }

    /// Moves the position (never backwards unless `allowDecrease`, for a reset) and releases the
    /// waiters it reaches.
    func update(_ position: Int64, allowDecrease: Bool = false) {
        let released = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard position > state.position || allowDecrease else { return [] }
            state.position = position
            let reached = state.waiters.filter { $0.value.target <= position }
            for ticket in reached.keys { state.waiters.removeValue(forKey: ticket) }
            return reached.values.map(\.continuation)
        }
        for continuation in released { continuation.resume(returning: true) }
    }

    /// Whether the position reaches `target` within `timeout`.
    func wait(for target: Int64, timeout: Duration) async -> Bool {
        let ticket = state.withLock { state -> Int? in
            if state.position >= target { return nil }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let answer = self.state.withLock { state -> Bool? in
                        if state.abandoned.remove(ticket) != nil { return false }
                        if state.position >= target { return true }
                        state.waiters[ticket] = (target, continuation)
                        return nil
                    }
                    if let answer { continuation.resume(returning: answer) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            if !first {
                let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    if let waiter = state.waiters.removeValue(forKey: ticket) { return waiter.continuation }
                    state.abandoned.insert(ticket)
                    return nil
                }
                waiter?.resume(returning: false)
            }
            group.cancelAll()
            let second = await group.next() ?? false
            return first || second
        }
    }
}
