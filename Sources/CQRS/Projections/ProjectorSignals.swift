import Synchronization

/// Wakes one waiting loop early; a signal sent while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    private enum Phase {
        /// Between the start of the wait and its continuation.
        case arming
        case parked(CheckedContinuation<Void, Never>)
        /// Its timer ran out or its task was cancelled before it parked.
        case ended
    }

    private struct State {
        var pending = false
        var nextId = 0
        var wait: (id: Int, phase: Phase)?
    }

    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if case .parked(let continuation) = state.wait?.phase {
                state.wait = nil
                return continuation
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns on the next signal, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        let id = state.withLock { state -> Int? in
            if state.pending {
                state.pending = false
                return nil
            }
            // One waiter at a time (the projection's loop): a second would orphan the first.
            if case .parked = state.wait?.phase { preconditionFailure("WakeSignal has one waiter at a time") }
            state.nextId += 1
            state.wait = (state.nextId, .arming)
            return state.nextId
        }
        guard let id else { return }
        let timer = DeadlineTimer.shared.schedule(at: .now + timeout) { self.end(id) }
        defer { DeadlineTimer.shared.cancel(timer) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // A signal, the timer or a cancellation (`end` runs at once for a cancelled task)
                // may have come first.
                let ended = state.withLock { state -> Bool in
                    if case .ended = state.wait?.phase {
                        state.wait = nil
                        return true
                    }
                    if state.pending {
                        state.pending = false
                        state.wait = nil
                        return true
                    }
                    state.wait = (id, .parked(continuation))
                    return false
                }
                if ended { continuation.resume() }
            }
        } onCancel: {
            end(id)
        }
    }

    /// Ends wait `id` without a signal (its timer ran out, or its task was cancelled).
    private func end(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let wait = state.wait, wait.id == id else { return nil }
            switch wait.phase {
            case .parked(let continuation):
                state.wait = nil
                return continuation
            case .arming, .ended:
                state.wait = (id, .ended)
                return nil
            }
        }
        waiter?.resume()
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

    /// Whether the position reaches `target` within `timeout` (false too when the task is cancelled).
    func wait(for target: Int64, timeout: Duration) async -> Bool {
        let ticket = state.withLock { state -> Int? in
            if state.position >= target { return nil }
            state.nextTicket += 1
            state.tickets[state.nextTicket] = .pending(target: target)
            return state.nextTicket
        }
        guard let ticket else { return true }
        let timer = DeadlineTimer.shared.schedule(at: .now + timeout) { self.release(ticket) }
        defer { DeadlineTimer.shared.cancel(timer) }
        return await withTaskCancellationHandler {
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
        } onCancel: {
            release(ticket)
        }
    }

    /// Ends the wait of `ticket` unanswered (its timer ran out, or its task was cancelled).
    private func release(_ ticket: Int) {
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
    }
}
