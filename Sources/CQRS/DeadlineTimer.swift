import Synchronization

/// Runs actions at deadlines, with one sleeping task for all of them.
///
/// A command waits for its projections for microseconds but bounds the wait by seconds; a task and a
/// timer per wait (`Task.sleep` in a task group) cost more than the wait itself. Here a wait adds an
/// entry and removes it again, and one task sleeps until the earliest deadline. Every bounded wait
/// of the projector and of log subscriptions (`WakeSignal`, `PositionWatch`, ``LogWake``) uses it,
/// and so do the PostgreSQL store's acquire and operation timeouts.
package final class DeadlineTimer: Sendable {
    /// The process's timer.
    package static let shared = DeadlineTimer()

    /// Identifies a scheduled action, for ``cancel(_:)``.
    package struct Token: Sendable {
        fileprivate let id: Int
    }

    private struct Entry {
        var deadline: ContinuousClock.Instant
        var fire: @Sendable () -> Void
    }

    private struct State {
        var nextId = 0
        var entries: [Int: Entry] = [:]
        /// The sleeping task, the deadline it sleeps until and its generation (a replaced sleeper
        /// that wakes must not act).
        var sleeper: (until: ContinuousClock.Instant, generation: Int, task: Task<Void, Never>)?
        var generation = 0
    }

    private let state = Mutex(State())

    /// Runs `fire` at `deadline` (at once, on the timer's task, if it has passed) unless cancelled first.
    package func schedule(at deadline: ContinuousClock.Instant, _ fire: @escaping @Sendable () -> Void) -> Token {
        let (token, replaced) = state.withLock { state -> (Token, Task<Void, Never>?) in
            state.nextId += 1
            state.entries[state.nextId] = Entry(deadline: deadline, fire: fire)
            var replaced: Task<Void, Never>?
            if let sleeper = state.sleeper {
                guard deadline < sleeper.until else { return (Token(id: state.nextId), nil) }
                replaced = sleeper.task
            }
            startSleeper(until: deadline, in: &state)
            return (Token(id: state.nextId), replaced)
        }
        replaced?.cancel()
        return token
    }

    /// Drops the action of `token` if it has not run yet.
    package func cancel(_ token: Token) {
        state.withLock { _ = $0.entries.removeValue(forKey: token.id) }
    }

    private func startSleeper(until deadline: ContinuousClock.Instant, in state: inout State) {
        state.generation += 1
        let generation = state.generation
        let task = Task { [self] in
            var until = deadline
            while true {
                try? await Task.sleep(until: until, clock: .continuous)
                guard let next = fireExpired(generation: generation) else { return }
                until = next
            }
        }
        state.sleeper = (deadline, generation, task)
    }

    /// Runs the actions whose deadline has passed; the next deadline to sleep until, or nil when the
    /// sleeper of `generation` should end (nothing left, or it was replaced).
    private func fireExpired(generation: Int) -> ContinuousClock.Instant? {
        let now = ContinuousClock.now
        let (due, next) = state.withLock { state -> ([Entry], ContinuousClock.Instant?) in
            guard state.sleeper?.generation == generation else { return ([], nil) }
            var due: [Entry] = []
            var earliest: ContinuousClock.Instant?
            for (id, entry) in state.entries {
                if entry.deadline <= now {
                    due.append(entry)
                    state.entries.removeValue(forKey: id)
                } else if earliest.map({ entry.deadline < $0 }) ?? true {
                    earliest = entry.deadline
                }
            }
            if let earliest {
                state.sleeper?.until = earliest
            } else {
                state.sleeper = nil
            }
            return (due, earliest)
        }
        for entry in due { entry.fire() }
        return next
    }
}
