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
}
