import CQRS
import Foundation
import PostgresNIO
import Synchronization

/// Group commit: the commits that arrive while others are being written wait, then go together in
/// one call of `cqrs_commit_batch` (one transaction, one round trip, one WAL flush), each in its own
/// subtransaction. No commit waits when the store is idle: up to ``Options/concurrentBatches`` calls
/// run at once, and a batch forms only while they are all busy. Each commit's outcome is its own
/// (written, refused, or its block's error); a call that fails as a whole fails every commit in it.
final class PostgresGroupCommit: Sendable {
    /// One commit as the batch procedure takes it.
    struct Commit: Sendable {
        var type: String
        var id: String
        var expected: Int
        var eventIds: [UUID]
        var eventTypes: [String]
        var payloads: [String]
        var metadata: String
        var occurredAt: Int64
        var snapshot: String?
        var key: String?
        var fingerprint: String?

        /// About the bytes it sends, for the batch's budget.
        var size: Int { payloads.reduce(metadata.utf8.count + (snapshot?.utf8.count ?? 0) + 64) { $0 + $1.utf8.count + 48 } }
    }

    /// What the procedure reports for one commit.
    enum Outcome: Sendable, Equatable {
        /// Written; its events are at `firstPosition` and the positions after it.
        case written(firstPosition: Int64)
        /// Not written: the key was used already (`fresh` false) or the stream is at another version.
        case refused(fresh: Bool, currentVersion: Int)
        /// Its block raised an error (a unique violation after a race, a value PostgreSQL refuses);
        /// `message` is the server's text, for the log only.
        case failed(sqlState: String, constraint: String?, message: String)
    }

    private struct Waiter: Sendable {
        let commit: Commit
        let size: Int
        let outcome: OutcomeSlot
    }

    /// Where a commit's outcome is left for its caller, whether or not the caller waits yet.
    private final class OutcomeSlot: Sendable {
        private let state = Mutex<(result: Result<Outcome, any Error>?, waiter: CheckedContinuation<Outcome, any Error>?)>((nil, nil))

        var isSet: Bool { state.withLock { $0.result != nil } }

        func set(_ result: Result<Outcome, any Error>) {
            let waiter = state.withLock { state -> CheckedContinuation<Outcome, any Error>? in
                state.result = result
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(with: result)
        }

        var value: Outcome {
            get async throws {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = state.withLock { state -> Result<Outcome, any Error>? in
                        if state.result == nil { state.waiter = continuation }
                        return state.result
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            }
        }
    }

    private let database: PostgresDatabase
    private let procedure: String
    private let options: PostgresEventStore.GroupCommit
    private let state = Mutex<(queue: [Waiter], running: Int)>(([], 0))

    init(schema: PostgresSchema, options: PostgresEventStore.GroupCommit) {
        database = schema.database
        procedure = "CALL \(schema.table("cqrs_commit_batch"))($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        self.options = options
    }

    /// Writes `commit` in the next batch and returns its outcome once that batch has committed.
    ///
    /// A caller that finds a free turn runs the batches itself (no hand-off to another task when the
    /// store is idle) until its own commit is done; then a task of its own serves whatever is queued.
    func submit(_ commit: Commit) async throws -> Outcome {
        let slot = OutcomeSlot()
        let lead = state.withLock { state -> Bool in
            state.queue.append(Waiter(commit: commit, size: commit.size, outcome: slot))
            guard state.running < options.concurrentBatches else { return false }
            state.running += 1
            return true
        }
        if lead {
            // `holding`: this caller still counts as a running turn (`nextBatch` gives it up when it
            // finds the queue empty, having seen its commit taken by another turn).
            var holding = true
            while !slot.isSet {
                guard let batch = nextBatch() else {
                    holding = false
                    break
                }
                await run(batch)
            }
            if holding, handOff() { Task.detached { await self.drain() } }
        }
        return try await slot.value
    }

    /// Whether commits are still queued (the turn then passes on); gives the turn up otherwise.
    private func handOff() -> Bool {
        state.withLock { state -> Bool in
            guard state.queue.isEmpty else { return true }
            state.running -= 1
            return false
        }
    }

    /// Runs batches until the queue is empty.
    private func drain() async {
        while let batch = nextBatch() {
            await run(batch)
        }
    }

    /// The longest prefix of the queue within the batch's limits (at least one commit), or nil,
    /// having given up its turn, when the queue is empty.
    private func nextBatch() -> [Waiter]? {
        state.withLock { state -> [Waiter]? in
            guard !state.queue.isEmpty else {
                state.running -= 1
                return nil
            }
            var (count, events, bytes) = (0, 0, 0)
            for waiter in state.queue {
                let more = waiter.commit.eventIds.count
                if count > 0, count == options.maximumBatch || events + more > PostgresEventStore.maximumEventsPerCommit
                    || bytes + waiter.size > options.maximumBytes
                {
                    break
                }
                (count, events, bytes) = (count + 1, events + more, bytes + waiter.size)
            }
            defer { state.queue.removeFirst(count) }
            return Array(state.queue.prefix(count))
        }
    }

    private func run(_ batch: [Waiter]) async {
        // Rows are locked in (type, id) order in every batch of every process, so that two batches
        // never wait for each other; one aggregate's commits keep their order.
        // Compared by UTF-8 bytes, as PostgreSQL's "C" collation does (Swift's String `<` equates
        // canonically equivalent ids that the database keeps apart).
        let ordered = batch.enumerated().sorted { left, right in
            let (a, b) = (left.element.commit, right.element.commit)
            if a.type != b.type { return a.type.utf8.lexicographicallyPrecedes(b.type.utf8) }
            if !a.id.utf8.elementsEqual(b.id.utf8) { return a.id.utf8.lexicographicallyPrecedes(b.id.utf8) }
            return left.offset < right.offset
        }.map { $0.element }
        do {
            let outcomes = try await call(ordered.map { $0.commit })
            for (waiter, outcome) in zip(ordered, outcomes) { waiter.outcome.set(.success(outcome)) }
        } catch {
            for waiter in ordered { waiter.outcome.set(.failure(error)) }
        }
    }

    private func call(_ commits: [Commit]) async throws -> [Outcome] {
        var binds = PostgresBindings()
        binds.append(commits.map { $0.type })
        binds.append(commits.map { $0.id })
        binds.append(commits.map { $0.expected })
        binds.append(commits.map { Int32($0.eventIds.count) })
        binds.append(commits.flatMap(\.eventIds))
        binds.append(commits.flatMap(\.eventTypes))
        binds.append(commits.flatMap(\.payloads))
        binds.append(commits.map { $0.metadata })
        binds.append(commits.map { $0.occurredAt })
        binds.append(commits.map { $0.snapshot ?? "" })
        binds.append(commits.map { $0.key ?? "" })
        binds.append(commits.map { $0.fingerprint ?? "" })
        // The procedure commits before it returns its row: receiving the row means the batch is durable.
        // Not cancellable: the batch holds other callers' commits, and cancelling the caller that runs
        // it must not report a batch that commits as failed.
        let rows = try await database.rows(PostgresQuery(unsafeSQL: procedure, binds: binds), cancellable: false) { row in
            // PostgresNIO traps on a column count that does not match; a procedure of another shape is an error.
            guard row.count == 6 else { throw CqrsError.database("cqrs_commit_batch answered \(row.count) columns instead of 6") }
            return try row.decode(([Int64], [Bool], [Int64], [String], [String], [String]).self)
        }
        guard let (first, fresh, current, states, constraints, messages) = rows.first,
            [first.count, fresh.count, current.count, states.count, constraints.count, messages.count].allSatisfy({ $0 == commits.count })
        else {
            throw CqrsError.database("The batch commit of \(commits.count) commits answered unexpectedly")
        }
        return commits.indices.map { index in
            if !states[index].isEmpty {
                return .failed(
                    sqlState: states[index], constraint: constraints[index].isEmpty ? nil : constraints[index], message: messages[index])
            }
            if first[index] > 0 { return .written(firstPosition: first[index]) }
            return .refused(fresh: fresh[index], currentVersion: Int(current[index]))
        }
    }
}
