import Synchronization

/// A broadcast "the log has grown" signal for any number of waiters: a generation number that each
/// local commit bumps. A waiter passes the generation it saw before reading the log, so a commit
/// between its read and its wait is never missed.
public final class LogWake: Sendable {
    private enum Ticket {
        case pending
        case waiting(CheckedContinuation<Void, Never>)
        case released
    }

    private struct State {
        var generation: UInt64 = 0
        var nextTicket = 0
        var tickets: [Int: Ticket] = [:]

        /// Releases a ticket: resumes its waiter, or marks it so that it returns at once.
        mutating func release(_ ticket: Int) -> CheckedContinuation<Void, Never>? {
            switch tickets[ticket] {
            case .waiting(let continuation):
                tickets.removeValue(forKey: ticket)
                return continuation
            case .pending:
                tickets[ticket] = .released
                return nil
            case .released, nil:
                return nil
            }
        }
    }

    private let state = Mutex(State())

    /// A signal nobody has bumped yet.
    public init() {}

    /// The number of bumps so far.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Bumps the generation and releases every waiter.
    public func bump() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            return state.tickets.keys.compactMap { state.release($0) }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the generation is past `seen`, or after `timeout`.
    public func wait(after seen: UInt64, timeout: Duration) async {
        let ticket = state.withLock { state -> Int? in
            guard state.generation == seen else { return nil }
            state.nextTicket += 1
            state.tickets[state.nextTicket] = .pending
            return state.nextTicket
        }
        guard let ticket else { return }
        let timer = DeadlineTimer.shared.schedule(at: .now + timeout) { self.release(ticket) }
        defer { DeadlineTimer.shared.cancel(timer) }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    guard case .pending = state.tickets[ticket] else {
                        state.tickets.removeValue(forKey: ticket)
                        return true
                    }
                    state.tickets[ticket] = .waiting(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            release(ticket)
        }
    }

    /// Ends the wait of `ticket` (its timer ran out, or its task was cancelled).
    private func release(_ ticket: Int) {
        state.withLock { $0.release(ticket) }?.resume()
    }
}
