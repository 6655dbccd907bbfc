import CQRSSchema
import Foundation
import Logging
import Synchronization

/// Feeds projections from the store's global log: each one from its checkpoint, in global order,
/// without skipping an event, committing documents and checkpoint together (exactly once on the SQL
/// stores).
///
/// One process at a time runs each projection: it holds a lease in the projection's checkpoint and
/// renews it with every commit; other processes stand by and take over once the lease expires. A
/// projection that fails on an event retries it with backoff, records the error in its checkpoint,
/// and never skips it.
///
/// ```swift
/// let projector = Projector(store: store, projections: [
///     RegisteredProjection(LatestStateProjection<Account>(), storage: states),
///     RegisteredProjection(ViewProjection<Movement>(), storage: movements),
/// ])
/// let engine = CommandEngine<Account>(store: store, services: (), dispatchers: [projector.dispatcher()])
/// projector.start()   // catches up, then follows the log until stop()
/// ```
public final class Projector: Sendable {
    /// How a projector reads, leases and waits.
    public struct Options: Sendable {
        /// The most events read from the log per batch.
        public var batchSize: Int
        /// How long a lease lasts without renewal (takeover delay when its holder dies).
        public var lease: Duration
        /// How often an idle projection looks for commits of other processes.
        public var idlePoll: Duration
        /// How often a standby tries to take a lease over.
        public var standbyPoll: Duration
        /// The longest pause between retries after a failure.
        public var maximumBackoff: Duration
        /// How long a command waits, after its commit, for the projections of its aggregate to apply
        /// it (``Projector/dispatcher(for:waitingUpTo:)``), and a `minPosition` read by default. A
        /// command whose projections run in this process applies its commit itself when no batch is
        /// running (no hand-off to the loop and back); that batch is bounded by the store's own
        /// operation timeouts rather than by this one.
        public var consistencyTimeout: Duration

        /// Options with the defaults.
        public init(
            batchSize: Int = 1000, lease: Duration = .seconds(10), idlePoll: Duration = .milliseconds(50),
            standbyPoll: Duration = .seconds(1), maximumBackoff: Duration = .seconds(5),
            consistencyTimeout: Duration = .seconds(2)
        ) {
            self.batchSize = batchSize
            self.lease = lease
            self.idlePoll = idlePoll
            self.standbyPoll = standbyPoll
            self.maximumBackoff = maximumBackoff
            self.consistencyTimeout = consistencyTimeout
        }
    }

    /// The store whose global log feeds the projections.
    public let store: any EventStore
    /// The options.
    public let options: Options
    /// This process's lease-holder name (host, process id and a random suffix).
    public let owner: String
    /// Bumped by ``wake()`` after each local commit: subscriptions to the global log wait on it.
    public let logWake = LogWake()
    let slots: [Slot]
    /// One turn at a time per projection (its loop's or a command's).
    let turns = KeyedLocks()
    let logger: Logger
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])

    /// A projector over `store` for `projections` (one per model type).
    public init(
        store: any EventStore, projections: [RegisteredProjection], options: Options = Options(),
        logger: Logger = Logger(label: "cqrs.projector")
    ) {
        self.store = store
        self.options = options
        self.logger = logger
        owner = "\(Self.host)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8).lowercased())"
        precondition(Set(projections.map(\.name)).count == projections.count, "Two projections of one model type share a checkpoint")
        slots = projections.map { Slot(runner: $0.runner) }
    }

    /// The names of the projections.
    public var names: [String] { slots.map(\.runner.name) }

    /// Starts following the log (each projection once; later calls do nothing), all projections or
    /// only those `named`. The loops run in the background until ``shutdown()`` or ``stop()``, or
    /// until the projector is released. A command through ``dispatcher(for:waitingUpTo:)`` or a
    /// ``waitFor(_:position:timeout:)`` starts them too.
    public func start(named names: Set<String>? = nil) {
        tasks.withLock { tasks in
            for slot in slots where tasks[slot.runner.name] == nil && names?.contains(slot.runner.name) != false {
                tasks[slot.runner.name] = Task { [weak self] in
                    while !Task.isCancelled, let projector = self { await projector.step(slot) }
                }
            }
        }
    }

    /// Stops the loops for good without waiting (each batch commits whole or not at all); their
    /// leases run out.
    public func stop() {
        for task in tasks.withLock({ Array($0.values) }) { task.cancel() }
        // Commands stop taking turns (which renew the lease) on a projection nobody runs here now.
        for slot in slots { slot.setHolding(false) }
    }

    /// Stops the loops for good, waits for them and hands the leases back, so that another process takes
    /// over at once instead of after the lease runs out.
    public func shutdown() async {
        let running = tasks.withLock { $0 }
        for task in running.values { task.cancel() }
        // Bounded: a loop stuck on an unresponsive store must not hold the process.
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in running.values { await task.value } }
            group.addTask { try? await Task.sleep(for: .seconds(5)) }
            await group.next()
            group.cancelAll()
        }
        for slot in slots where running[slot.runner.name] != nil {
            try? await slot.runner.release(owner: owner)
            slot.setHolding(false)
        }
    }

    deinit { stop() }

    /// Wakes the projections now (after a local commit) instead of at their next poll.
    public func wake() {
        for slot in slots { slot.signal.signal() }
        logWake.bump()
    }

    /// Whether the projection `name` has applied the log up to `position` within `timeout`, and its
    /// checkpoint then. A projection run by another process is followed through its stored checkpoint.
    public func waitFor(_ name: String, position: Int64, timeout: Duration? = nil) async throws -> (reached: Bool, checkpoint: Int64) {
        guard let slot = slots.first(where: { $0.runner.name == name }) else {
            throw InfrastructureError.notFound.error("No projection named '\(name)'", details: ["name": .string(name)])
        }
        start(named: [name])
        if slot.watch.position >= position { return (true, slot.watch.position) }
        slot.signal.signal()
        // A position no committed event has reached is nobody's write yet: answer at once instead of
        // holding the caller (and its connection) for the whole bound. Counted, not compared with the
        // head: on PostgreSQL the head trails acknowledged commits while any older transaction runs.
        if try await store.logExtent(after: position - 1).eventsAfter == 0 {
            return (slot.watch.position >= position, slot.watch.position)
        }
        return try await wait(slot, position: position, timeout: timeout ?? options.consistencyTimeout)
    }

    /// How long a standby waits for a stored checkpoint that does not move before it stops waiting.
    static let standstill: Duration = .milliseconds(500)

    /// A dispatcher for an engine: after each commit it waits (up to
    /// `timeout`, by default ``Options/consistencyTimeout``) until those fed by `A` have applied it,
    /// so that the command's caller reads its own write. A projection that is failing is not waited for.
    public func dispatcher<A: Aggregate>(for type: A.Type = A.self, waitingUpTo timeout: Duration? = nil) -> some Dispatcher<A> {
        ProjectorDispatcher<A>(projector: self, timeout: timeout ?? options.consistencyTimeout)
    }

    func waitForSources(_ type: String, position: Int64, timeout: Duration) async {
        start()
        // Only the projections of `type` apply the commit now, here or in their loop. The others
        // have nothing in it to apply and move their checkpoints past it at their next poll (or
        // when ``status()`` is read): waking their loops would cost each command a thread wake-up.
        logWake.bump()
        // One after the other, within one deadline.
        let deadline = ContinuousClock.now + timeout
        for slot in slots where slot.runner.sourceType == type {
            await catchUp(slot, to: position, before: deadline)
        }
    }

    /// Applies the log up to `position` here, or waits (until `deadline`) for the loop to do it.
    func catchUp(_ slot: Slot, to position: Int64, before deadline: ContinuousClock.Instant) async {
        if await advance(slot, to: position, before: deadline) { return }
        // Not for a projection that is failing or far behind (a rebuild): the caller would wait
        // the whole bound for nothing.
        guard !slot.isFailing, !slot.isCatchingUp else { return }
        slot.signal.signal()
        _ = try? await wait(slot, position: position, timeout: deadline - ContinuousClock.now, untilStill: true)
    }

    /// - Parameter untilStill: stop waiting, as a standby, once the stored checkpoint has not moved
    ///   for ``standstill`` (a command's wait; a read waits out its bound).
    private func wait(_ slot: Slot, position: Int64, timeout: Duration, untilStill: Bool = false) async throws
        -> (reached: Bool, checkpoint: Int64)
    {
        if slot.watch.position >= position { return (true, slot.watch.position) }
        let deadline = ContinuousClock.now + timeout
        // A standby learns of the holder's progress only from the stored checkpoint. A checkpoint
        // that does not move for a while means nobody advances it (a holder that died keeps its
        // lease until it runs out): stop waiting then rather than at the deadline.
        var last: (position: Int64, since: ContinuousClock.Instant)?
        while !slot.isHolding {
            let stored = try await slot.runner.checkpoint().position
            slot.watch.update(stored)
            if stored >= position { return (true, stored) }
            let now = ContinuousClock.now
            if last?.position != stored { last = (stored, now) }
            if now >= deadline || (untilStill && now - (last?.since ?? now) > Self.standstill) { return (false, stored) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let reached = await slot.watch.wait(for: position, timeout: deadline - ContinuousClock.now)
        return (reached, slot.watch.position)
    }

    /// This machine's name, read once (Foundation may resolve it through the network).
    static let host = ProcessInfo.processInfo.hostName

    /// Whether `holder` (host/pid/suffix) names a process of this host that no longer runs.
    static func isDeadProcessOnThisHost(_ holder: String) -> Bool {
        let parts = holder.split(separator: "/")
        guard parts.count == 3, parts[0] == Self.host, let pid = Int32(parts[1]), pid > 0,
            pid != ProcessInfo.processInfo.processIdentifier
        else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

}

/// One projection's runtime state in this process.
final class Slot: Sendable {
    let runner: any ProjectionRunning
    let signal = WakeSignal()
    let watch = PositionWatch()
    /// Read and written by the projection's turns only (one at a time).
    let loop = Mutex(Projector.LoopState())
    private let state = Mutex<(holding: Bool, failure: String?, catchingUp: Bool, advanced: ContinuousClock.Instant)>(
        (false, nil, false, .now))

    init(runner: any ProjectionRunning) { self.runner = runner }

    var isHolding: Bool { state.withLock { $0.holding } }
    var isFailing: Bool { state.withLock { $0.failure != nil } }
    var failure: String? { state.withLock { $0.failure } }
    func setHolding(_ holding: Bool) { state.withLock { $0.holding = holding } }
    func setFailure(_ failure: String?) { state.withLock { $0.failure = failure } }
    /// Whether its last read filled a whole batch: it is far behind (catching up, rebuilding).
    var isCatchingUp: Bool { state.withLock { $0.catchingUp } }
    func setCatchingUp(_ catchingUp: Bool) { state.withLock { $0.catchingUp = catchingUp } }
    /// When it last applied a batch here (or started).
    var lastAdvance: ContinuousClock.Instant { state.withLock { $0.advanced } }
    func advanced() { state.withLock { $0.advanced = .now } }
}

/// After each commit, waits for the projections of the committing aggregate to apply it.
struct ProjectorDispatcher<A: Aggregate>: Dispatcher {
    let projector: Projector
    let timeout: Duration

    func dispatch(aggregateId: String, events: [EventEnvelope<A.Event>], context: CommandContext) async throws {
        guard let last = events.last else { return }
        await projector.waitForSources(A.aggregateType, position: last.globalPosition, timeout: timeout)
    }
}
