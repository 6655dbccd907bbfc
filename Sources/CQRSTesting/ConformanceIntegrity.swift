import CQRS
import CQRSSchema
import Foundation

/// The checks that every store gives the same answers to awkward input: ids and keys at and past
/// the ``Identifier`` rule, NUL, strings that are canonically equivalent but not byte-equal,
/// integers beyond 2⁵³ and `in` filters with the most values the tools allow.
extension ConformanceSuite {
    func contendedWritersWithoutExpectedVersion() async throws {
        let store = try await backend.makeEventStore()
        // Two engines are two processes: neither's lock helps the other, so only re-deciding does.
        let (first, second) = (engine(store), engine(store))
        try await start(first, "h1")
        let failures = await withTaskGroup(of: String?.self) { group in
            for n in 0..<16 {
                group.addTask {
                    let engine = n.isMultiple(of: 2) ? first : second
                    for _ in 0..<5 {
                        do { _ = try await engine.update(id: "h1", .add(1)) } catch { return "\(error)" }
                    }
                    return nil
                }
            }
            return await group.reduce(into: [String]()) { failures, failure in if let failure { failures.append(failure) } }
        }
        try expect(failures.isEmpty, "no conflict reaches a caller without an expected version: \(failures)")
        let final = try await first.load(id: "h1")
        try expect(final?.version == 81 && final?.state.value == 80, "all 80 applied once: \(String(describing: final))")
        // A stated expected version is still a conflict, reported as one.
        let stale = try await expectError("INFRASTRUCTURE_CONCURRENCY_ERROR", status: 409) {
            try await second.update(id: "h1", .add(1), expectedVersion: 80)
        }
        try expect(stale.details?["currentVersion"] == .int(81), "the conflict names the current version: \(stale)")
    }

    func identifierRules() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        let longest = String(repeating: "😀", count: Identifier.maximumLength)  // 1,024 UTF-8 bytes
        try await start(engine, longest, value: 1)
        _ = try await engine.update(id: longest, .add(1), idempotencyKey: String(repeating: "k", count: Identifier.maximumLength))
        try expect(try await engine.load(id: longest)?.state.value == 2, "the longest id works")
        for bad in ["", "a\u{0}b", "tab\there", "line\n", "\u{7F}", "\u{85}", longest + "x"] {
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.create(.start(id: bad, value: 1)) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.update(id: bad, .add(1)) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.load(id: bad) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.auditLog(id: bad) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
                try await engine.update(id: longest, .add(1), idempotencyKey: bad)
            }
        }
        try expect(try await store.readAll(after: 0, limit: 100).count == 2, "nothing else was written")
        let storage = try await backend.makeReadStorage(ConformanceChild.self)
        try await storage.upsert(ConformanceChild(id: longest, owner: longest, rank: 1))
        try expect(try await storage.find(id: longest, parentId: longest)?.rank == 1, "the longest view key works")
        for bad in ["a\u{0}b", longest + "x"] {
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.find(id: bad, parentId: "p") }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.find(id: "x", parentId: bad) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.query(ReadQuery(), parentId: bad) }
            try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
                try await storage.upsert(ConformanceChild(id: bad, owner: "p", rank: 1))
            }
        }
    }

    func nulInText() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "n1")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await engine.update(id: "n1", .note("a\u{0}b")) }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
            try await engine.update(id: "n1", .add(1), context: CommandContext(currentUser: "eve\u{0}"))
        }
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "n1") == 1, "nothing appended")
        // Text that only looks like an escaped NUL, control characters and a large string are kept exactly.
        let kept = ["\\u0000", "\\\\u0000", "tab\there\r\n\u{1}", String(repeating: "x", count: 256 * 1024)]
        for text in kept { _ = try await engine.update(id: "n1", .note(text)) }
        let notes = try await engine.load(id: "n1")?.state.notes
        try expect(notes == kept, "notes round-trip: \(notes?.map { $0.prefix(20) } ?? [])")
        let storage = try await backend.makeReadStorage(ConformanceDocument.self)
        let large = String(repeating: "y", count: 256 * 1024)
        try await storage.upsert(.init(id: "large", name: large, count: 1, score: nil, active: true, city: large))
        try expect(try await storage.find(id: "large", parentId: nil)?.name == large, "a 256 KiB field round-trips")
        try expect(try await ids(storage, .compare(field: "name", op: .eq, value: .string(large))) == ["large"], "and matches")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
            try await storage.query(ReadQuery(filter: .compare(field: "name", op: .eq, value: "a\u{0}")), parentId: nil)
        }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
            try await storage.query(ReadQuery(filter: .isIn(field: "name", values: ["a", "b\u{0}"])), parentId: nil)
        }
    }

    func bytewiseStrings() async throws {
        let (composed, decomposed) = ("\u{E9}", "e\u{301}")  // "é" twice, canonically equivalent
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, composed, value: 1)
        try await start(engine, decomposed, value: 2)
        try expect(try await engine.load(id: composed)?.state.value == 1, "the composed id is its own aggregate")
        try expect(try await engine.load(id: decomposed)?.state.value == 2, "the decomposed id is its own aggregate")
        let first = try await engine.update(id: composed, .add(10), idempotencyKey: "k" + composed)
        let second = try await engine.update(id: composed, .add(10), idempotencyKey: "k" + decomposed)
        try expect(!first.replayed && !second.replayed, "two keys, two commands: \(first.replayed) \(second.replayed)")
        try expect(try await engine.load(id: composed)?.state.value == 21, "both deposits applied")

        let storage = try await backend.makeReadStorage(ConformanceDocument.self)
        try await storage.upsert(.init(id: composed, name: composed, count: 1, score: nil, active: true, city: "x"))
        try await storage.upsert(.init(id: decomposed, name: decomposed, count: 2, score: nil, active: true, city: ""))
        try expect(try await storage.find(id: composed, parentId: nil)?.count == 1, "find by the composed id")
        try expect(try await storage.find(id: decomposed, parentId: nil)?.count == 2, "find by the decomposed id")
        let cases: [(Filter, [String])] = [
            (.compare(field: "name", op: .eq, value: .string(composed)), [composed]),
            (.compare(field: "name", op: .ne, value: .string(composed)), [decomposed]),
            (.isIn(field: "name", values: [.string(decomposed)]), [decomposed]),
            (.compare(field: "name", op: .contains, value: "\u{301}"), [decomposed]),
            (.compare(field: "name", op: .startsWith, value: "e"), [decomposed]),
            (.compare(field: "name", op: .contains, value: ""), [decomposed, composed]),
            (.compare(field: "address.city", op: .startsWith, value: ""), [decomposed, composed]),
            (.compare(field: "name", op: .gt, value: "e"), [decomposed, composed]),
        ]
        for (filter, expected) in cases {
            let got = try await ids(storage, filter)
            try expect(got == expected, "filter \(filter): expected \(expected), got \(got) (ids in UTF-8 byte order)")
        }
    }

    func exactNumbers() async throws {
        let storage = try await backend.makeReadStorage(ConformanceDocument.self)
        let big = 9_007_199_254_740_992  // 2^53
        let values: [(String, Int)] = [("b1", big), ("b2", big + 1), ("b3", Int.max), ("b4", Int.min), ("b5", -big - 1)]
        for (id, count) in values { try await storage.upsert(.init(id: id, name: id, count: count, score: nil, active: true, city: "x")) }
        let cases: [(Filter, [String])] = [
            (.compare(field: "count", op: .gt, value: 9_007_199_254_740_992.0), ["b2", "b3"]),
            (.compare(field: "count", op: .eq, value: 9_007_199_254_740_992.0), ["b1"]),
            (.compare(field: "count", op: .eq, value: .int(big + 1)), ["b2"]),
            (.compare(field: "count", op: .lt, value: 9_223_372_036_854_775_808.0), ["b1", "b2", "b3", "b4", "b5"]),
            (.compare(field: "count", op: .gte, value: 9_223_372_036_854_775_808.0), []),
            (.compare(field: "count", op: .eq, value: .int(Int.max)), ["b3"]),
            (.compare(field: "count", op: .eq, value: -9_223_372_036_854_775_808.0), ["b4"]),
            (.compare(field: "count", op: .lt, value: -9_007_199_254_740_992.0), ["b4", "b5"]),
            (.compare(field: "count", op: .gt, value: 1e300), []),
            (.compare(field: "count", op: .lt, value: 0.5), ["b4", "b5"]),
            (.isIn(field: "count", values: [.int(big + 1), 9_223_372_036_854_775_808.0]), ["b2"]),
        ]
        for (filter, expected) in cases {
            let got = try await ids(storage, filter)
            try expect(got == expected, "filter \(filter): expected \(expected), got \(got)")
        }
        let sorted = try await ids(storage, nil, sort: [SortKey("count")])
        try expect(sorted == ["b4", "b5", "b1", "b2", "b3"], "sorted exactly: \(sorted)")
    }

    func largeInFilters() async throws {
        let storage = try await filledStorage()
        let names: [JSONValue] = (0..<98).map { .string("none\($0)") } + ["delta", "alpha"]
        try expect(try await ids(storage, .isIn(field: "name", values: names)) == ["d01", "d04"], "100 strings")
        let counts: [JSONValue] = (1000..<1098).map { .int($0) } + [.int(-3), 9.0]
        try expect(try await ids(storage, .isIn(field: "count", values: counts)) == ["d03", "d05"], "100 numbers")
        let mixed: [JSONValue] = ["Paris", 100, true, .null]
        try expect(try await ids(storage, .isIn(field: "address.city", values: mixed)) == ["d01", "d03"], "mixed kinds")
        try expect(try await ids(storage, .isIn(field: "active", values: [false, 0, "true"])) == ["d02", "d04"], "booleans are not numbers")
        try expect(try await ids(storage, .isIn(field: "score", values: [.null, 3])) == ["d02", "d06"], "null and a number")
        try expect(try await ids(storage, .not(.isIn(field: "count", values: counts))) == ["d01", "d02", "d04", "d06"], "not in")
        try expect(try await ids(storage, .isIn(field: "count", values: [])) == [], "empty in")
    }
}
