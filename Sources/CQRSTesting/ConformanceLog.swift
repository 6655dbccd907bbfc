import CQRS
import CQRSSchema
import Foundation

/// The checks of what a stream and the global log hold: snapshots, order without skips, audit pages.
extension ConformanceSuite {
    func snapshotPolicies() async throws {
        for (policy, expected) in [(SnapshotPolicy.everyCommit, 7), (.every(4), 5), (.never, nil)] as [(SnapshotPolicy, Int?)] {
            let store = try await backend.makeEventStore()
            let engine = engine(store, policy: policy)
            try await start(engine, "p1", value: 1)
            for _ in 0..<3 { _ = try await engine.update(id: "p1", .addMany(count: 2)) }
            let slice = try await store.loadStream(ConformanceCounter.self, id: "p1", useSnapshot: true)
            try expect(slice.snapshot?.version == expected, "\(policy): snapshot at \(String(describing: slice.snapshot?.version)), expected \(String(describing: expected))")
            try expect(slice.version == 7 && slice.events.count == 7 - (expected ?? 0), "\(policy): events after the snapshot")
            // What the engine replays from holds the same as the full read, with and without the snapshot.
            for useSnapshot in [true, false] {
                let full = StreamReplay(try await store.loadStream(ConformanceCounter.self, id: "p1", useSnapshot: useSnapshot))
                let replay = try await store.loadReplay(ConformanceCounter.self, id: "p1", useSnapshot: useSnapshot)
                try expect(
                    replay.snapshot == full.snapshot && replay.events == full.events && replay.lastEventVersion == full.lastEventVersion
                        && replay.version == full.version && (replay.lastEventVersion ?? replay.snapshot?.version) == 7,
                    "\(policy), useSnapshot \(useSnapshot): replay \(replay) against \(full)")
            }
            let loaded = try await engine.load(id: "p1")
            try expect(loaded?.state.value == 7 && loaded?.version == 7, "\(policy): loaded \(String(describing: loaded))")
        }
    }

    func undecodableSnapshot() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store, policy: .everyCommit)
        try await start(engine, "b1", value: 2)
        _ = try await engine.update(id: "b1", .note("hello"))
        let newShape = CommandEngine<ConformanceCounterV2>(store: store, services: (), snapshotPolicy: .everyCommit)
        let loaded = try await newShape.load(id: "b1")
        try expect(loaded?.version == 2 && loaded?.state.value == 2 && loaded?.state.notes == ["hello"], "full replay: \(String(describing: loaded))")
        try expect(loaded?.state.label == "v2", "the new field comes from init(id:)")
    }

    func globalLogOrder() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "g1")
        try await start(engine, "g2")
        _ = try await engine.update(id: "g1", .note("a"))
        _ = try await engine.update(id: "g2", .addMany(count: 2))
        let all = try await store.readAll(after: 0, limit: 100)
        try expect(all.map(\.globalPosition) == all.map(\.globalPosition).sorted() && Set(all.map(\.globalPosition)).count == 5, "positions increase: \(all.map(\.globalPosition))")
        try expect(all.map(\.aggregateId) == ["g1", "g2", "g1", "g2", "g2"], "commit order: \(all.map(\.aggregateId))")
        try expect(all[2].payload == ["noted": ["_0": "a"]] && all[2].eventType == "noted", "JSON payload \(all[2].payload)")
        let tail = try await store.readAll(after: all[1].globalPosition, limit: 2)
        try expect(tail.map(\.globalPosition) == [all[2].globalPosition, all[3].globalPosition], "read after a position")
    }

    func globalLogNoSkip() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        let writers = 8, commitsPerWriter = 25
        for w in 0..<writers { try await start(engine, "n\(w)") }
        let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for w in 0..<writers {
                group.addTask {
                    for _ in 0..<commitsPerWriter { _ = try await engine.update(id: "n\(w)", .add(1)) }
                    return []
                }
            }
            group.addTask {
                var positions: [Int64] = []
                var cursor: Int64 = 0
                let deadline = Date().addingTimeInterval(60)
                while positions.count < writers * (commitsPerWriter + 1), Date() < deadline {
                    let batch = try await store.readAll(after: cursor, limit: 7)
                    positions += batch.map(\.globalPosition)
                    cursor = batch.last?.globalPosition ?? cursor
                    if batch.isEmpty { await Task.yield() }
                }
                return positions
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let all = try await store.readAll(after: 0, limit: 10_000).map(\.globalPosition)
        try expect(all.count == writers * (commitsPerWriter + 1), "every event is in the log")
        try expect(seen == all, "a tailing reader saw every position once and in order (saw \(seen.count) of \(all.count))")
    }

    func auditPaging() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "a1")
        _ = try await engine.update(id: "a1", .addMany(count: 24))
        let first = try await engine.auditLog(id: "a1", offset: 0, limit: 10)
        try expect(first.events.map(\.version) == Array(1...10) && first.total == 25, "first page")
        let last = try await engine.auditLog(id: "a1", offset: 20, limit: 10)
        try expect(last.events.map(\.version) == Array(21...25) && last.total == 25, "last page")
        let beyond = try await engine.auditLog(id: "a1", offset: 30, limit: 10)
        try expect(beyond.events.isEmpty && beyond.total == 25, "beyond the end")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.auditLog(id: "a1", limit: 0) }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.auditLog(id: "a1", offset: -1) }
        try await expectError("INFRASTRUCTURE_AGGREGATE_NOT_FOUND", status: 404) { try await engine.auditLog(id: "none") }
    }

    /// Two engines (as in two processes) on one store: each engine's cache must catch up with the
    /// other's commits, and concurrent commands from both must never lose an event.
}
