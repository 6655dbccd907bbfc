import CQRS
import CQRSSchema
import Foundation

/// The idempotency-key checks: replays, key reuse, racing commands with one key.
extension ConformanceSuite {
    func idempotentUpdate() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "i1")
        let first = try await engine.update(id: "i1", .addMany(count: 2), idempotencyKey: "k-1")
        let again = try await engine.update(id: "i1", .addMany(count: 2), idempotencyKey: "k-1")
        try expect(!first.replayed && again.replayed, "the retry is a replay")
        try expect(again.version == first.version && again.globalPosition == first.globalPosition, "same result")
        try expect(again.events == first.events, "same envelopes")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "i1") == 3, "nothing appended twice")
    }

    func idempotentCreate() async throws {
        let store = try await backend.makeEventStore()
        let engine = Engine(store: store, services: (), idGenerator: .uuid)
        let first = try await engine.create(.start(id: "ignored", value: 1), idempotencyKey: "create-1")
        let again = try await engine.create(.start(id: "ignored", value: 1), idempotencyKey: "create-1")
        try expect(again.aggregateId == first.aggregateId && again.replayed, "the retry returns the first id")
        try expect(try await store.readAll(after: 0, limit: 100).count == 1, "one aggregate created")
    }

    func idempotencyKeyReuse() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "i2")
        _ = try await engine.update(id: "i2", .add(1), idempotencyKey: "k-2")
        try await expectError("INFRASTRUCTURE_IDEMPOTENCY_KEY_REUSED", status: 422) {
            try await engine.update(id: "i2", .add(2), idempotencyKey: "k-2")
        }
        try await expectError("INFRASTRUCTURE_IDEMPOTENCY_KEY_REUSED", status: 422) {
            try await engine.create(.start(id: "i3", value: 1), idempotencyKey: "k-2")
        }
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "i2") == 2, "nothing appended")
    }

    func concurrentIdempotentCommands() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "i4")
        let results = await withTaskGroup(of: Result<Int, CqrsError>.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do { return .success(try await engine.update(id: "i4", .add(1), idempotencyKey: "k-4").version) }
                    catch { return .failure(CqrsError.wrapping(error)) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        for case .failure(let error) in results {
            try expect(error.code == "INFRASTRUCTURE_CONCURRENCY_ERROR", "a racing retry got \(error)")
        }
        try expect(Set(results.compactMap { try? $0.get() }) == [2], "every success reports version 2")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "i4") == 2, "one append in all")
    }

    /// Many commits at once, as a store that groups concurrent commits into one transaction sees
    /// them: conflicting commits on one aggregate, retries of one idempotency key on another, and
    /// fresh aggregates each get their own outcome, and only the winners are written.
    func mixedConcurrentCommits() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "g0")
        try await start(engine, "g1")
        func pending(_ id: String, expected: Int, key: String? = nil) -> PendingCommit<ConformanceCounter> {
            PendingCommit(
                aggregateId: id, expectedVersion: expected, events: [PendingEvent(eventId: UUID(), payload: .added(1))],
                metadata: [:], occurredAt: Date().truncatedToMilliseconds, snapshot: nil,
                idempotency: key.map { IdempotencyClaim(key: $0, fingerprint: "same") })
        }
        let commits = (0..<8).map { _ in pending("g0", expected: 1) } + (0..<8).map { _ in pending("g1", expected: 1, key: "k-g1") }
            + (0..<16).map { pending("f\($0)", expected: 0) }
        let outcomes = await withTaskGroup(of: (String, Result<CommitOutcome<CounterEvent>, any Error>).self) { group in
            for commit in commits {
                group.addTask {
                    do {
                        return (commit.aggregateId, .success(try await store.commit(commit)))
                    } catch {
                        return (commit.aggregateId, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [String: [Result<CommitOutcome<CounterEvent>, any Error>]]()) { $0[$1.0, default: []].append($1.1) }
        }
        func committed(_ results: [Result<CommitOutcome<CounterEvent>, any Error>]) -> Int {
            results.filter { if case .success(.committed) = $0 { true } else { false } }.count
        }
        let g0 = outcomes["g0"] ?? []
        try expect(committed(g0) == 1, "one of the racing commits on g0 wins: \(g0)")
        for case .failure(let error) in g0 {
            try expect((error as? CqrsError)?.status == 409, "the others get a 409: \(error)")
        }
        let g1 = outcomes["g1"] ?? []
        try expect(committed(g1) == 1, "one commit with the key is written: \(g1)")
        for result in g1 {
            switch result {
            case .success(.duplicate(let record)): try expect(record.version == 2, "a replay reports the winner: \(record)")
            case .success(.committed): break
            case .failure(let error): try expect((error as? CqrsError)?.status == 409, "or a 409: \(error)")
            }
        }
        for index in 0..<16 {
            try expect(committed(outcomes["f\(index)"] ?? []) == 1, "fresh aggregate f\(index) is created")
        }
        let log = try await store.readAll(after: 0, limit: 1000)
        try expect(log.count == 2 + 1 + 1 + 16, "only the winners are in the log: \(log.count) events")
        try expect(zip(log, log.dropFirst()).allSatisfy { $0.globalPosition < $1.globalPosition }, "positions increase")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "g0") == 2, "g0 at version 2")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "g1") == 2, "g1 at version 2")
    }
}
