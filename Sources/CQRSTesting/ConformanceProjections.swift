import CQRS
import CQRSSchema
import Foundation
import Synchronization

/// A view that counts every event it is fed, so that an event applied twice (or skipped) shows.
public struct ConformanceTally: ReadModel, Equatable {
    public static let modelType = "conformance_tally"
    /// The counter's id.
    public var id: String
    /// How many events were applied.
    public var events: Int
    /// The sum of the `added` amounts.
    public var total: Int
}

/// The projection of ``ConformanceTally``; it throws on `noted("poison")` while `poisoned` is set.
struct TallyProjection: Projection {
    typealias Source = ConformanceCounter
    typealias Model = ConformanceTally
    let poisoned: PoisonSwitch

    func key(for event: EventEnvelope<CounterEvent>) -> ViewKey? { ViewKey(id: event.aggregateId) }

    func project(_ current: ConformanceTally?, _ event: EventEnvelope<CounterEvent>) throws -> ViewChange<ConformanceTally> {
        var tally = current ?? ConformanceTally(id: event.aggregateId, events: 0, total: 0)
        tally.events += 1
        switch event.payload {
        case .added(let amount): tally.total += amount
        case .noted(let text) where text == "poison" && poisoned.isOn: throw CqrsError.validation("poisoned event")
        case .noted: break
        }
        return .upsert(tally)
    }
}

final class PoisonSwitch: Sendable {
    private let on = Atomic(false)
    var isOn: Bool { on.load(ordering: .relaxed) }
    func set(_ value: Bool) { on.store(value, ordering: .relaxed) }
}

extension ConformanceSuite {
    func projections() async throws {
        let store = try await backend.makeEventStore()
        let states = try await backend.makeReadStorage(AggregateState<ConformanceCounter>.self)
        let projector = Projector(store: store, projections: [RegisteredProjection(LatestStateProjection<ConformanceCounter>(), storage: states)])
        defer { projector.stop() }
        var wired = engine(store)
        wired.addDispatcher(projector.dispatcher(for: ConformanceCounter.self))
        let engine = wired
        try await start(engine, "j1", value: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<10 { group.addTask { _ = try? await engine.update(id: "j1", .add(1)) } }
            try await group.waitForAll()
        }
        let loaded = try await engine.load(id: "j1")
        let projected = try await states.find(id: "j1", parentId: nil)
        try expect(projected?.version == loaded?.version && projected?.state == loaded?.state, "the latest state projection matches the store: \(String(describing: projected)) vs \(String(describing: loaded))")
    }

    /// The storage side: a first claim clears stale documents, leases exclude, commits compare and set.
    func projectionCheckpoints() async throws {
        let storage = try await backend.makeReadStorage(ConformanceTally.self)
        try await storage.upsert(ConformanceTally(id: "stale", events: 9, total: 9))
        let fresh = try await storage.checkpoint("conformance_tally")
        try expect(fresh.position == 0 && fresh.owner == nil, "no checkpoint yet: \(fresh)")
        let first = try await storage.claim("conformance_tally", owner: "a", lease: .seconds(30))
        try expect(first.owner == "a" && first.position == 0, "a claims: \(first)")
        try expect(try await storage.find(id: "stale", parentId: nil) == nil, "a projection without a checkpoint owns no documents")
        let refused = try await storage.claim("conformance_tally", owner: "b", lease: .seconds(30))
        try expect(refused.owner == "a", "b cannot take a live lease: \(refused)")
        let doc = ConformanceTally(id: "t1", events: 1, total: 5)
        let key = ViewKey(id: "t1")
        let wrongOwner = ProjectionCommit(projection: "conformance_tally", owner: "b", from: 0, to: 7, writes: [(key, doc)], lease: .seconds(30))
        try expect(try await storage.commit(wrongOwner) == false, "a commit by a non-holder fails")
        let wrongFrom = ProjectionCommit(projection: "conformance_tally", owner: "a", from: 3, to: 7, writes: [(key, doc)], lease: .seconds(30))
        try expect(try await storage.commit(wrongFrom) == false, "a commit from a stale checkpoint fails")
        try expect(try await storage.find(id: "t1", parentId: nil) == nil, "failed commits write nothing")
        let good = ProjectionCommit(projection: "conformance_tally", owner: "a", from: 0, to: 7, writes: [(key, doc)], lease: .seconds(30))
        try expect(try await storage.commit(good), "the holder commits")
        try expect(try await storage.checkpoint("conformance_tally").position == 7, "the checkpoint moved")
        try expect(try await storage.find(keys: [key, ViewKey(id: "none")]) == [key: doc], "find(keys:) returns what exists")
        try expect(try await storage.commit(good) == false, "the same batch cannot commit twice")
        let removal = ProjectionCommit<ConformanceTally>(projection: "conformance_tally", owner: "a", from: 7, to: 9, writes: [(key, nil)], lease: .seconds(30))
        try expect(try await storage.commit(removal), "a delete commits")
        try expect(try await storage.find(id: "t1", parentId: nil) == nil, "deleted")
        try await storage.recordError("conformance_tally", message: "boom")
        try expect(try await storage.checkpoint("conformance_tally").lastError == "boom", "the error is recorded")
        try await storage.upsert(doc)
        try await storage.reset("conformance_tally")
        let reset = try await storage.checkpoint("conformance_tally")
        try expect(reset.position == 0 && reset.lastError == nil && reset.owner == "a", "reset keeps the lease: \(reset)")
        try expect(try await storage.find(id: "t1", parentId: nil) == nil, "reset deletes the documents")
        try await storage.release("conformance_tally", owner: "a")
        let taken = try await storage.claim("conformance_tally", owner: "b", lease: .milliseconds(200))
        try expect(taken.owner == "b", "a released lease is free: \(taken)")
        try await Task.sleep(for: .milliseconds(400))
        let expired = try await storage.claim("conformance_tally", owner: "a", lease: .seconds(30))
        try expect(expired.owner == "a", "an expired lease is taken over: \(expired)")
    }

    /// Two projectors over one storage while writers commit, the holder dropping out midway: the
    /// tally equals a replay (no event applied twice or skipped), and only one ran at a time.
    func projectorExactlyOnce() async throws {
        let store = try await backend.makeEventStore()
        let storage = try await backend.makeReadStorage(ConformanceTally.self)
        let options = Projector.Options(batchSize: 7, lease: .milliseconds(300), idlePoll: .milliseconds(10), standbyPoll: .milliseconds(50))
        let poison = PoisonSwitch()
        let first = Projector(store: store, projections: [RegisteredProjection(TallyProjection(poisoned: poison), storage: storage)], options: options)
        let second = Projector(store: store, projections: [RegisteredProjection(TallyProjection(poisoned: poison), storage: storage)], options: options)
        defer {
            first.stop()
            second.stop()
        }
        let engine = engine(store)
        for index in 0..<4 { try await start(engine, "x\(index)", value: index) }
        first.start()
        second.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask { for _ in 0..<15 { _ = try await engine.update(id: "x\(index)", .add(2)) } }
            }
            try await group.waitForAll()
        }
        let holder = try await storage.checkpoint("conformance_tally").owner
        try expect(holder == first.owner || holder == second.owner, "one of them holds the lease: \(String(describing: holder))")
        (holder == first.owner ? first : second).stop()
        var last: Int64 = 0
        for index in 0..<4 { last = max(last, try await engine.update(id: "x\(index)", .addMany(count: 3)).globalPosition ?? 0) }
        let survivor = holder == first.owner ? second : first
        // The last commit's own position: a store's head may trail it while other transactions run.
        let caught = try await survivor.waitFor("conformance_tally", position: last, timeout: .seconds(20))
        try expect(caught.reached, "the other projector took over and caught up: \(caught)")
        for index in 0..<4 {
            let tally = try await storage.find(id: "x\(index)", parentId: nil)
            let loaded = try await engine.load(id: "x\(index)")
            try expect(tally?.events == loaded?.version && tally?.total == loaded?.state.value, "x\(index): tally \(String(describing: tally)) vs \(String(describing: loaded))")
        }
        let status = try await survivor.status()
        try expect(status.first?.lag == 0 && status.first?.runsHere == true && status.first?.stalled == false, "status \(status)")
    }

    /// A projection that fails on an event retries it, reports it, and skips nothing.
    func projectorRetriesAFailingEvent() async throws {
        let store = try await backend.makeEventStore()
        let storage = try await backend.makeReadStorage(ConformanceTally.self)
        let poison = PoisonSwitch()
        poison.set(true)
        let projector = Projector(
            store: store, projections: [RegisteredProjection(TallyProjection(poisoned: poison), storage: storage)],
            options: .init(idlePoll: .milliseconds(10), maximumBackoff: .milliseconds(100), consistencyTimeout: .milliseconds(300)))
        defer { projector.stop() }
        var wired = engine(store)
        wired.addDispatcher(projector.dispatcher(for: ConformanceCounter.self))
        let engine = wired
        try await start(engine, "p1", value: 1)
        let poisoned = try await engine.update(id: "p1", .note("poison"))
        let after = try await engine.update(id: "p1", .add(4))
        try expect(after.version == 3, "commands still succeed while a projection fails")
        var failing: ProjectionStatus?
        for _ in 0..<100 {
            failing = try await projector.status().first
            if failing?.lastError != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try expect(failing?.lastError?.contains("poisoned") == true && failing?.stalled == true, "the failure is reported: \(String(describing: failing))")
        try expect((failing?.checkpoint ?? .max) < poisoned.globalPosition!, "the failing event is not skipped")
        poison.set(false)
        let caught = try await projector.waitFor("conformance_tally", position: after.globalPosition!, timeout: .seconds(10))
        try expect(caught.reached, "it recovers: \(caught)")
        let tally = try await storage.find(id: "p1", parentId: nil)
        try expect(tally?.events == 3 && tally?.total == 5, "every event applied once: \(String(describing: tally))")
        let recovered = try await projector.status().first
        try expect(recovered?.lastError == nil && recovered?.stalled == false, "the error clears: \(String(describing: recovered))")
    }

    /// A subscription from the start sees every event once, in order, through catch-up and live
    /// commits of concurrent writers.
    func globalLogSubscription() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "s0")
        let wake = LogWake()
        let expected = 1 + 4 * 10
        let collected = try await withThrowingTaskGroup(of: [EventEnvelope<JSONValue>]?.self) { group in
            group.addTask {
                var seen: [EventEnvelope<JSONValue>] = []
                for try await event in store.subscribe(after: 0, batchSize: 3, pollInterval: .milliseconds(20), wake: wake) {
                    seen.append(event)
                    if seen.count == expected { break }
                }
                return seen
            }
            for index in 0..<4 {
                group.addTask {
                    try await self.start(engine, "s\(index + 1)")
                    for _ in 0..<9 {
                        _ = try await engine.update(id: "s\(index + 1)", .add(1))
                        wake.bump()
                    }
                    return nil
                }
            }
            var result: [EventEnvelope<JSONValue>] = []
            for try await seen in group { if let seen { result = seen } }
            return result
        }
        let all = try await store.readAll(after: 0, limit: 1000)
        try expect(collected.count == expected, "the subscription saw \(collected.count) of \(expected) events")
        try expect(collected.map(\.globalPosition) == all.map(\.globalPosition), "in log order, none skipped or repeated")
    }
}
