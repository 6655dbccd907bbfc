import CQRSSchema
import Foundation

/// How far one projection is behind the global log.
@Schema
public struct ProjectionStatus: Sendable, Hashable, Codable {
    /// The projection's name (its model type).
    public var name: String
    /// The aggregate type whose events feed it.
    public var source: String
    /// The global position it has applied.
    public var checkpoint: Int64
    /// The highest global position in the log.
    public var head: Int64
    /// How many events of the log it has not applied yet (of every aggregate type).
    public var lag: Int
    /// The process holding its lease, if any.
    public var owner: String?
    /// Whether this process runs it now.
    public var runsHere: Bool
    /// The last failure, cleared by the next success.
    public var lastError: String?
    /// True when it is failing, behind with nobody holding a live lease, or (run here) behind
    /// without progress for 5 s.
    public var stalled: Bool
}

/// Progress of a rebuild or a catch-up.
public struct ProjectionProgress: Sendable, Hashable {
    /// Events of the log applied since the start.
    public var done: Int
    /// Events to apply in all (the log up to its head at the start).
    public var total: Int
    /// Seconds since the start.
    public var elapsed: Double
    /// The projection's last error, while it is failing (it retries, the rebuild goes on).
    public var lastError: String?

    /// Events per second so far.
    public var rate: Double { elapsed > 0 ? Double(done) / elapsed : 0 }
    /// The estimated seconds left, when a rate is known.
    public var remaining: Double? { rate > 0 ? Double(max(0, total - done)) / rate : nil }
}

extension Projector {
    /// How long a status read lets the projections run here catch up before it reports: short,
    /// since a projection that cannot move in that time is what the status is there to show.
    static let statusCatchUp: Duration = .milliseconds(250)

    /// The status of every projection, read from the stored checkpoints. The projections this
    /// process runs first catch up with the log's head, for at most 250 ms (not those
    /// failing or far behind): a commit only wakes the projections its aggregate type feeds, and a
    /// status read right after it shows no lag.
    public func status() async throws -> [ProjectionStatus] {
        let held = slots.filter(\.isHolding)
        if let furthest = held.map(\.watch.position).max() {
            // One read of the head for all of them (it does not depend on `after`; the count does).
            let head = try await store.logExtent(after: furthest).head
            let deadline = ContinuousClock.now + Self.statusCatchUp
            for slot in held where head > slot.watch.position { await catchUp(slot, to: head, before: deadline) }
        }
        var result: [ProjectionStatus] = []
        for slot in slots {
            let checkpoint = try await slot.runner.checkpoint()
            let extent = try await store.logExtent(after: checkpoint.position)
            let leased = checkpoint.owner != nil && (checkpoint.leaseExpiresAt ?? .distantPast) > Date()
            let lastError = checkpoint.lastError ?? slot.failure
            let runsHere = slot.isHolding && checkpoint.owner == owner
            // Behind and not moving: on PostgreSQL, e.g., a transaction left open anywhere in the
            // cluster holds the log back (see docs/postgres.md).
            let standing = runsHere && extent.eventsAfter > 0 && ContinuousClock.now - slot.lastAdvance > .seconds(5)
            result.append(
                ProjectionStatus(
                    name: slot.runner.name, source: slot.runner.sourceType, checkpoint: checkpoint.position,
                    head: extent.head, lag: extent.eventsAfter, owner: leased ? checkpoint.owner : nil,
                    runsHere: runsHere, lastError: lastError,
                    stalled: lastError != nil || (extent.eventsAfter > 0 && !leased) || standing))
        }
        return result
    }

    /// Rebuilds the projection `name` from the start of the log: its documents are deleted and its
    /// checkpoint goes back to 0 in one transaction, then whichever process holds its lease replays
    /// the log. Returns once it has caught up with the log's head at the start (reporting progress
    /// about every `interval`). It starts this projection here, so that this process takes part.
    ///
    /// - Parameters:
    ///   - name: the projection (a view or aggregate type, as ``names`` lists them).
    ///   - resume: skip the reset and only follow an interrupted rebuild to its end.
    ///   - interval: about how often `progress` is called.
    ///   - progress: receives the events applied so far and the total.
    public func rebuild(
        _ name: String, resume: Bool = false, interval: Duration = .milliseconds(500),
        progress: @Sendable (ProjectionProgress) -> Void = { _ in }
    ) async throws {
        guard let slot = slots.first(where: { $0.runner.name == name }) else {
            throw InfrastructureError.notFound.error("No projection named '\(name)'", details: ["name": .string(name)])
        }
        start(named: [name])
        let initial = resume ? try await slot.runner.checkpoint().position : 0
        let target = try await store.logExtent(after: initial)
        if !resume {
            try await slot.runner.reset()
            slot.watch.update(0, allowDecrease: true)
            wake()
        }
        let start = ContinuousClock.now
        let total = target.eventsAfter
        while true {
            let checkpoint = try await slot.runner.checkpoint()
            let left = try await store.logExtent(after: checkpoint.position)
            // Events committed since the start also count as left; the target is the head at the start.
            let done = max(0, total - left.eventsAfter)
            let finished = checkpoint.position >= target.head
            progress(
                ProjectionProgress(
                    done: finished ? total : done, total: total, elapsed: (ContinuousClock.now - start).inSeconds,
                    lastError: checkpoint.lastError))
            if finished { return }
            try await Task.sleep(for: interval)
        }
    }
}
