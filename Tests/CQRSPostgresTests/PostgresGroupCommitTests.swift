import Bank
import CQRS
import CQRSPostgres
import Foundation
import PostgresTestSupport
import Testing

/// Group commit on PostgreSQL: commits that arrive together share a transaction (one xid, so the
/// same position >> 20), and each still gets its own outcome.
@Suite("Postgres group commit")
struct PostgresGroupCommitTests {
    typealias Outcome = Result<CommitOutcome<AccountEvent>, CqrsError>

    static func deposit(_ id: String, expected: Int, key: String? = nil) -> PendingCommit<Account> {
        PendingCommit(
            aggregateId: id, expectedVersion: expected, events: [PendingEvent(eventId: UUID(), payload: .deposited(amount: 1))],
            metadata: [:], occurredAt: Date().truncatedToMilliseconds, snapshot: nil,
            idempotency: key.map { IdempotencyClaim(key: $0, fingerprint: "same") })
    }

    static func commitAll(_ commits: [PendingCommit<Account>], to store: PostgresEventStore) async -> [Outcome] {
        await withTaskGroup(of: (Int, Outcome).self) { group in
            for (index, commit) in commits.enumerated() {
                group.addTask {
                    do { return (index, .success(try await store.commit(commit))) } catch { return (index, .failure(CqrsError.wrapping(error))) }
                }
            }
            var outcomes = [Outcome?](repeating: nil, count: commits.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
    }

    @Test func oneBatchMixesConflictsReplaysAndFreshCommits() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            // One batch at a time: everything that arrives while it runs forms the next one.
            let store = PostgresEventStore(schema: schema, groupCommit: .init(concurrentBatches: 1))
            let engine = CommandEngine<Account>(store: store, services: ())
            let (a, b, c) = (
                try await engine.create(.open(owner: "A")).aggregateId, try await engine.create(.open(owner: "B")).aggregateId,
                try await engine.create(.open(owner: "C")).aggregateId
            )
            let earlier = try await engine.update(id: c, .deposit(amount: 1), idempotencyKey: "k-c")
            let commits =
                (0..<8).map { _ in Self.deposit(a, expected: 1) } + (0..<8).map { _ in Self.deposit(b, expected: 1, key: "k-b") }
                + [Self.deposit(c, expected: 2, key: "k-c")] + (0..<24).map { Self.deposit("fresh-\($0)", expected: 0) }
            let outcomes = await Self.commitAll(commits, to: store)
            func written(_ range: Range<Int>) -> [Int64] {
                outcomes[range].compactMap { if case .success(.committed(let envelopes)) = $0 { envelopes[0].globalPosition } else { nil } }
            }
            #expect(written(0..<8).count == 1, "one of the racing commits on A wins")
            #expect(outcomes[0..<8].allSatisfy { if case .failure(let error) = $0 { error.status == 409 } else { true } })
            #expect(written(8..<16).count == 1, "one commit with the key is written")
            for case .success(.duplicate(let record)) in outcomes[8..<16] { #expect(record.aggregateId == b && record.version == 2) }
            #expect(outcomes[8..<16].allSatisfy { if case .failure = $0 { false } else { true } }, "the others replay it")
            guard case .success(.duplicate(let replayed)) = outcomes[16] else {
                Issue.record("the reused key replays the earlier result: \(outcomes[16])")
                return
            }
            #expect(replayed.globalPosition == earlier.globalPosition)
            let fresh = written(17..<41)
            #expect(fresh.count == 24, "every fresh aggregate is created")
            // Batching happened: several commits share one transaction id.
            let transactions = Dictionary(grouping: written(0..<41), by: { $0 >> 20 })
            #expect(transactions.values.contains { $0.count >= 2 }, "commits shared a transaction: \(transactions.mapValues(\.count))")
            let log = try await store.readAll(after: 0, limit: 1000)
            #expect(log.count == 4 + 1 + 1 + 24 && zip(log, log.dropFirst()).allSatisfy { $0.globalPosition < $1.globalPosition })
            #expect(try await store.streamVersion(aggregateType: "account", id: a) == 2)
            #expect(try await store.streamVersion(aggregateType: "account", id: b) == 2)
            #expect(try await store.streamVersion(aggregateType: "account", id: c) == 2)
        }
    }

    /// A commit PostgreSQL refuses inside the batch (an id too long for the stream index) fails
    /// alone: the commits around it are written.
    @Test func aFailingCommitDoesNotFailItsBatch() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            let store = PostgresEventStore(schema: schema, groupCommit: .init(concurrentBatches: 1))
            // Random text, so that the index cannot compress it below its 2704-byte row limit.
            let huge = (0..<400).map { _ in UUID().uuidString }.joined()
            let commits = (0..<10).map { Self.deposit("ok-\($0)", expected: 0) } + [Self.deposit(huge, expected: 0)]
                + (10..<20).map { Self.deposit("ok-\($0)", expected: 0) }
            let outcomes = await Self.commitAll(commits, to: store)
            guard case .failure(let error) = outcomes[10] else {
                Issue.record("the oversized id is refused: \(outcomes[10])")
                return
            }
            #expect(error.status == 400 && error.details?["sqlState"] == "54000", "\(error)")
            #expect(outcomes.enumerated().allSatisfy { $0.offset == 10 || (try? $0.element.get()) != nil })
            #expect(try await store.readAll(after: 0, limit: 100).count == 20)
        }
    }

    /// Without group commit every commit is its own statement, and the outcomes are the same.
    @Test func commitsAloneKeepTheSameOutcomes() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            let store = PostgresEventStore(schema: schema, groupCommit: nil)
            let engine = CommandEngine<Account>(store: store, services: ())
            let a = try await engine.create(.open(owner: "A")).aggregateId
            let outcomes = await Self.commitAll((0..<8).map { _ in Self.deposit(a, expected: 1) }, to: store)
            #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
            let log = try await store.readAll(after: 0, limit: 100)
            // One transaction per commit: no two events share a transaction id.
            #expect(Set(log.map { $0.globalPosition >> 20 }).count == log.count)
        }
    }
}
