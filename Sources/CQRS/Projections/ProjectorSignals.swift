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
    private enum Ticket {
        case pending(target: Int64)
        case waiting(target: Int64, CheckedContinuation<Bool, Never>)
        case released(Bool)
    }

    private struct State {
        var position: Int64 = 0
        var nextTicket = 0
        var tickets: [Int: Ticket] = [:]
    }

    private let state = Mutex(State())

    var position: Int64 { state.withLock { $0.position } }

    /// Moves the position (never backwards unless `allowDecrease`, for a reset) and releases the
    /// waiters it reaches.
    func update(_ position: Int64, allowDecrease: Bool = false) {
        let released = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard position > state.position || allowDecrease else { return [] }
            state.position = position
            var released: [CheckedContinuation<Bool, Never>] = []
            for (ticket, entry) in state.tickets {
                switch entry {
                case .waiting(let target, let continuation) where target <= position:
                    state.tickets.removeValue(forKey: ticket)
                    released.append(continuation)
                case .pending(let target) where target <= position:
                    state.tickets[ticket] = .released(true)
                default: break
                }
            }
            return released
        }
        for continuation in released { continuation.resume(returning: true) }
    }

    /// Whether the position reaches `target` within `timeout`.
    func wait(for target: Int64, timeout: Duration) async -> Bool {
        let ticket = state.withLock { state -> Int? in
            if state.position >= target { return nil }
            state.nextTicket += 1
            state.tickets[state.nextTicket] = .pending(target: target)
            return state.nextTicket
        }
        guard let ticket else { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let answer = self.state.withLock { state -> Bool? in
                        switch state.tickets[ticket] {
                        case .released(let answer):
                            state.tickets.removeValue(forKey: ticket)
                            return answer
                        case .pending where state.position >= target:
                            state.tickets.removeValue(forKey: ticket)
                            return true
                        default:
                            state.tickets[ticket] = .waiting(target: target, continuation)
                            return nil
                        }
                    }
                    if let answer { continuation.resume(returning: answer) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                switch state.tickets[ticket] {
                case .waiting(_, let continuation):
                    state.tickets.removeValue(forKey: ticket)
                    return continuation
                case .pending:
                    state.tickets[ticket] = .released(false)
                    return nil
                default:
                    return nil
                }
            }
            waiter?.resume(returning: false)
            let second = await group.next() ?? false
            return first || second
        }
    }
}
