import Synchronization

/// Group commit on the single writer: the writes submitted while a transaction is in flight wait
/// for it, then go together in the next one, each in its own savepoint. One fsync (at
/// `synchronous=FULL`) or WAL append per batch instead of per write, and no wait at all when the
/// writer is idle. Every write is acknowledged only after its batch has committed; a write that
/// fails rolls back its savepoint alone, and a batch whose `COMMIT` fails fails every write in it.
final class GroupCommit: Sendable {
    private struct Pending: Sendable {
        /// Runs the write (in its own savepoint when it shares the transaction) and keeps its
        /// outcome; returns whether it succeeded.
        let run: @Sendable (SQLiteConnection, _ savepoint: Bool) -> Bool
        /// Delivers the outcome, or the batch's own failure.
        let finish: @Sendable ((any Error)?) -> Void
    }

    private let writer: Worker
    private let state = Mutex<(queue: [Pending], scheduled: Bool)>(([], false))
    /// The most writes in one transaction (a bound on the time one batch holds the write lock).
    static let maximumBatch = 256

    init(writer: Worker) {
        self.writer = writer
    }

    func submit<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Mutex<Result<T, any Error>?>(nil)
            let pending = Pending(
                run: { connection, savepoint in
                    do {
                        if savepoint { try connection.run("SAVEPOINT cqrs_write") }
                        do {
                            let value = try body(connection)
                            if savepoint { try connection.run("RELEASE cqrs_write") }
                            outcome.withLock { $0 = .success(value) }
                            return true
                        } catch {
                            if savepoint {
                                try? connection.execute("ROLLBACK TO cqrs_write")
                                try? connection.execute("RELEASE cqrs_write")
                            }
                            throw error
                        }
                    } catch {
                        outcome.withLock { $0 = .failure(Worker.mapped(error)) }
                        return false
                    }
                },
                finish: { failure in
                    if let failure {
                        continuation.resume(throwing: failure)
                    } else {
                        continuation.resume(with: outcome.withLock { $0 } ?? .failure(CancellationError()))
                    }
                })
            let schedule = state.withLock { state -> Bool in
                state.queue.append(pending)
                defer { state.scheduled = true }
                return !state.scheduled
            }
            if schedule { writer.enqueue(runBatch) }
        }
    }

    /// One batch per turn of the writer's queue, so that other writes queued meanwhile (projections)
    /// get their turn between batches.
    private func runBatch(_ connection: SQLiteConnection) {
        let batch = state.withLock { state -> [Pending] in
            let taken = Array(state.queue.prefix(Self.maximumBatch))
            state.queue.removeFirst(taken.count)
            return taken
        }
        var failure: (any Error)?
        do {
            try connection.run("BEGIN IMMEDIATE")
            // A lone write needs no savepoint: if it fails, the whole transaction rolls back.
            let shared = batch.count > 1
            let succeeded = batch.map { $0.run(connection, shared) }
            if shared || succeeded.allSatisfy({ $0 }) {
                try connection.run("COMMIT")
            } else {
                try connection.execute("ROLLBACK")
            }
        } catch {
            if !connection.isAutocommit { try? connection.execute("ROLLBACK") }
            failure = Worker.mapped(error)
        }
        for pending in batch { pending.finish(failure) }
        let more = state.withLock { state -> Bool in
            if state.queue.isEmpty { state.scheduled = false }
            return !state.queue.isEmpty
        }
        if more { writer.enqueue(runBatch) }
    }
}
