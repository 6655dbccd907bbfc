import Synchronization

// A projection advances in turns: claim or renew the lease, read a batch of the log, apply it. Its
// loop takes turns in the background; a command whose projections this process runs takes them on
// its own task (no wake-up of the loop and back for each commit). One turn at a time per projection.
extension Projector {
    /// What one projection knows between turns.
    struct LoopState: Sendable {
        var holding = false
        var position: Int64 = 0
        var renewed = ContinuousClock.now
        var failures = 0
        /// The batch size in use: halved when a batch lost its lease (it took too long), grown back after.
        var batchSize: Int?
    }

    /// How a turn ended.
    enum TurnOutcome {
        case applied
        /// The log has nothing after the checkpoint.
        case caughtUp
        /// Another process holds the lease (or, for a command's turn, the lease needs a claim).
        case standby
        /// Another process moved the checkpoint during the batch.
        case lostLease
        case failed(attempt: Int)
        case cancelled
    }

    /// One turn of a projection's loop, then its wait when there is nothing to do.
    func step(_ slot: Slot) async {
        switch await turns.withLock(slot.runner.name, { await turn(slot, claiming: true) }) {
        case .applied, .lostLease, .cancelled: return
        case .caughtUp: await slot.signal.wait(timeout: options.idlePoll)
        case .standby: await slot.signal.wait(timeout: options.standbyPoll)
        case .failed(let attempt): try? await Task.sleep(for: backoff(attempt))
        }
    }

    /// Applies the log up to `position` on the caller's task while this process holds the lease;
    /// false when the loop has to do it (standby, failing, far behind, past `deadline`), or when a
    /// turn is running already: that one may well apply it, and waiting for it with the deadline
    /// keeps the command's wait bounded however long a turn takes.
    func advance(_ slot: Slot, to position: Int64, before deadline: ContinuousClock.Instant) async -> Bool {
        while slot.watch.position < position {
            guard slot.isHolding, !slot.isFailing, !slot.isCatchingUp, ContinuousClock.now < deadline,
                let outcome = await turns.withLockIfFree(slot.runner.name, {
                    slot.watch.position < position ? await turn(slot, claiming: false) : .applied
                })
            else { return false }
            guard case .applied = outcome else { return slot.watch.position >= position }
        }
        return true
    }

    /// One turn; the caller holds the projection's turn lock.
    /// - Parameter claiming: whether it may claim or renew the lease (a command's turn leaves that
    ///   to the loop, so that a stopped projector claims nothing).
    private func turn(_ slot: Slot, claiming: Bool) async -> TurnOutcome {
        var loop = slot.loop.withLock { $0 }
        defer { slot.loop.withLock { [loop] in $0 = loop } }
        var failedWhileHolding = false
        do {
            if !loop.holding || ContinuousClock.now - loop.renewed > options.lease / 3 {
                guard claiming else { return .standby }
                var checkpoint = try await slot.runner.claim(owner: owner, lease: options.lease)
                if let holder = checkpoint.owner, holder != owner, Self.isDeadProcessOnThisHost(holder) {
                    // Its holder died on this machine (kill -9): take over now, not when the lease runs out.
                    try await slot.runner.release(owner: holder)
                    checkpoint = try await slot.runner.claim(owner: owner, lease: options.lease)
                }
                loop.holding = checkpoint.owner == owner
                loop.position = checkpoint.position
                loop.renewed = ContinuousClock.now
                // A loop stopped meanwhile leaves the projection to others: commands must not keep
                // renewing its lease with their turns.
                slot.setHolding(loop.holding && !Task.isCancelled)
                slot.watch.update(checkpoint.position, allowDecrease: true)
                if !loop.holding {
                    // A standby that reached the store again is no longer failing (the holder
                    // clears the stored error itself).
                    if loop.failures > 0 {
                        slot.setFailure(nil)
                        loop.failures = 0
                    }
                    return .standby
                }
            }
            failedWhileHolding = true
            let batchSize = loop.batchSize ?? options.batchSize
            let events = try await store.readAll(after: loop.position, limit: batchSize)
            slot.setCatchingUp(events.count >= batchSize)
            if events.isEmpty {
                if loop.failures > 0 { try await recovered(slot, &loop.failures) }
                return .caughtUp
            }
            guard try await slot.runner.apply(events, from: loop.position, owner: owner, lease: options.lease) else {
                // Another process moved the checkpoint (a takeover or a rebuild): read it again; a
                // batch that outlived the lease is smaller next time, so that two processes do not
                // keep taking it from each other.
                loop.holding = false
                if ContinuousClock.now - loop.renewed > options.lease { loop.batchSize = max(1, batchSize / 2) }
                return .lostLease
            }
            if batchSize < options.batchSize { loop.batchSize = min(options.batchSize, batchSize * 2) }
            loop.position = events.last!.globalPosition
            loop.renewed = ContinuousClock.now
            // Cleared before the position is published: whoever waited for it reads no stale error.
            if loop.failures > 0 { try await recovered(slot, &loop.failures) }
            slot.watch.update(loop.position)
            slot.advanced()
            return .applied
        } catch {
            if Task.isCancelled { return .cancelled }
            loop.failures += 1
            loop.holding = false
            let message = CqrsError.wrapping(error).message
            slot.setFailure(message)
            logger.error(
                "Projection \(slot.runner.name) failed after position \(loop.position) (attempt \(loop.failures)): \(error)",
                metadata: ["projection": .string(slot.runner.name), "position": "\(loop.position)", "attempt": "\(loop.failures)"])
            // Only a holder's failure is the projection's: a standby that cannot claim says nothing
            // about the work of the process that holds it.
            if failedWhileHolding {
                try? await slot.runner.recordError("\(message) (after position \(loop.position), attempt \(loop.failures))")
            }
            return .failed(attempt: loop.failures)
        }
    }

    private func recovered(_ slot: Slot, _ failures: inout Int) async throws {
        try await slot.runner.recordError(nil)
        slot.setFailure(nil)
        failures = 0
    }

    private func backoff(_ failures: Int) -> Duration {
        min(options.maximumBackoff, .milliseconds(50) * (1 << min(failures - 1, 10)))
    }
}
