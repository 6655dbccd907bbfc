import CQRS
import CQRSSchema
import Foundation

/// The read-storage checks: CRUD, filters, sorting and paging, child documents.
extension ConformanceSuite {
    static let documents: [ConformanceDocument] = [
        .init(id: "d01", name: "alpha", count: 5, score: 1.5, active: true, city: "Paris"),
        .init(id: "d02", name: "bravo", count: 10, score: nil, active: false, city: "Lyon"),
        .init(id: "d03", name: "charlie", count: 9, score: -2, active: true, city: "Paris"),
        .init(id: "d04", name: "delta", count: 100, score: 0.25, active: false, city: "Nice"),
        .init(id: "d05", name: "Echo", count: -3, score: 10, active: true, city: "Lyon"),
        .init(id: "d06", name: "échelle", count: 0, score: 3, active: true, city: "Zürich"),
    ]

    func filledStorage() async throws -> any ReadStorage<ConformanceDocument> {
        let storage = try await backend.makeReadStorage(ConformanceDocument.self)
        for document in Self.documents.reversed() { try await storage.upsert(document) }
        return storage
    }

    func readStorageCrud() async throws {
        let storage = try await filledStorage()
        try expect(try await storage.find(id: "d03", parentId: nil) == Self.documents[2], "find")
        try expect(try await storage.find(id: "zz", parentId: nil) == nil, "find missing")
        var changed = Self.documents[2]
        changed.count = 42
        try await storage.upsert(changed)
        try expect(try await storage.find(id: "d03", parentId: nil)?.count == 42, "upsert replaces")
        try await storage.delete(id: "d03", parentId: nil)
        try await storage.delete(id: "d03", parentId: nil)
        try expect(try await storage.find(id: "d03", parentId: nil) == nil, "delete")
        try expect(try await storage.query(ReadQuery(), parentId: nil).total == 5, "count after delete")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.find(id: "d01", parentId: "p") }
    }

    func ids(_ storage: any ReadStorage<ConformanceDocument>, _ filter: Filter?, sort: [SortKey] = []) async throws -> [String] {
        try await storage.query(ReadQuery(filter: filter, sort: sort, limit: 1000), parentId: nil).items.map(\.id)
    }

    func readStorageFilters() async throws {
        let storage = try await filledStorage()
        let cases: [(Filter, [String])] = [
            (.compare(field: "count", op: .eq, value: 10), ["d02"]),
            (.compare(field: "count", op: .eq, value: 10.0), ["d02"]),
            (.compare(field: "count", op: .gt, value: 9), ["d02", "d04"]),
            (.compare(field: "count", op: .gte, value: 9), ["d02", "d03", "d04"]),
            (.compare(field: "count", op: .lt, value: 0), ["d05"]),
            (.compare(field: "count", op: .lte, value: 0), ["d05", "d06"]),
            (.compare(field: "count", op: .ne, value: 5), ["d02", "d03", "d04", "d05", "d06"]),
            (.compare(field: "score", op: .gt, value: 1), ["d01", "d05", "d06"]),
            (.compare(field: "score", op: .lt, value: 0.5), ["d03", "d04"]),
            (.compare(field: "score", op: .eq, value: .null), ["d02"]),
            (.compare(field: "active", op: .eq, value: true), ["d01", "d03", "d05", "d06"]),
            (.compare(field: "active", op: .eq, value: false), ["d02", "d04"]),
            (.compare(field: "active", op: .eq, value: 1), []),
            (.compare(field: "count", op: .eq, value: "10"), []),
            (.compare(field: "count", op: .gt, value: "1"), []),
            (.compare(field: "name", op: .gt, value: "charlie"), ["d04", "d06"]),
            (.compare(field: "name", op: .lt, value: "a"), ["d05"]),
            (.compare(field: "name", op: .contains, value: "arl"), ["d03"]),
            (.compare(field: "name", op: .startsWith, value: "é"), ["d06"]),
            (.compare(field: "name", op: .contains, value: "%"), []),
            (.compare(field: "name", op: .contains, value: "_"), []),
            (.compare(field: "address.city", op: .eq, value: "Paris"), ["d01", "d03"]),
            (.compare(field: "missing", op: .eq, value: .null), ["d01", "d02", "d03", "d04", "d05", "d06"]),
            (.isIn(field: "address.city", values: ["Lyon", "Nice"]), ["d02", "d04", "d05"]),
            (.isIn(field: "count", values: [5, 100.0]), ["d01", "d04"]),
            (.and([.compare(field: "active", op: .eq, value: true), .compare(field: "count", op: .gt, value: 4)]), ["d01", "d03"]),
            (.or([.compare(field: "count", op: .eq, value: 5), .compare(field: "name", op: .eq, value: "delta")]), ["d01", "d04"]),
            (.not(.compare(field: "active", op: .eq, value: true)), ["d02", "d04"]),
            (.and([]), ["d01", "d02", "d03", "d04", "d05", "d06"]),
            (.or([]), []),
        ]
        for (filter, expected) in cases {
            let got = try await ids(storage, filter)
            try expect(got == expected, "filter \(filter): expected \(expected), got \(got)")
        }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
            try await storage.query(ReadQuery(filter: .compare(field: "x') OR 1=1 --", op: .eq, value: 1)), parentId: nil)
        }
    }

    func readStorageSortAndPaging() async throws {
        let storage = try await filledStorage()
        try expect(try await ids(storage, nil) == ["d01", "d02", "d03", "d04", "d05", "d06"], "default order is by id")
        try expect(try await ids(storage, nil, sort: [SortKey("count")]) == ["d05", "d06", "d01", "d03", "d02", "d04"], "sort by count")
        try expect(try await ids(storage, nil, sort: [SortKey("count", descending: true)]) == ["d04", "d02", "d03", "d01", "d06", "d05"], "sort by count desc")
        try expect(try await ids(storage, nil, sort: [SortKey("name")]) == ["d05", "d01", "d02", "d03", "d04", "d06"], "sort by name (UTF-8 byte order)")
        try expect(try await ids(storage, nil, sort: [SortKey("score")]) == ["d02", "d03", "d04", "d01", "d06", "d05"], "sort by score, null first")
        try expect(try await ids(storage, nil, sort: [SortKey("score", descending: true)]) == ["d05", "d06", "d01", "d04", "d03", "d02"], "sort by score desc, null last")
        try expect(try await ids(storage, nil, sort: [SortKey("address.city"), SortKey("count", descending: true)]) == ["d02", "d05", "d04", "d03", "d01", "d06"], "two keys")
        try expect(try await ids(storage, nil, sort: [SortKey("active")]) == ["d02", "d04", "d01", "d03", "d05", "d06"], "booleans false first, ties by id")
        let page = try await storage.query(ReadQuery(sort: [SortKey("count")], offset: 2, limit: 2), parentId: nil)
        try expect(page.items.map(\.id) == ["d01", "d03"] && page.total == 6 && page.nextOffset == 4, "page 2 of 3")
        let filtered = try await storage.query(ReadQuery(filter: .compare(field: "active", op: .eq, value: true), offset: 3, limit: 5), parentId: nil)
        try expect(filtered.items.map(\.id) == ["d06"] && filtered.total == 4 && filtered.nextOffset == nil, "the total counts the filter, not the page")
        let beyond = try await storage.query(ReadQuery(offset: 10), parentId: nil)
        try expect(beyond.items.isEmpty && beyond.total == 6, "beyond the end")
        try expect(ReadQuery().limit == 20, "default limit")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.query(ReadQuery(limit: 1001), parentId: nil) }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.query(ReadQuery(limit: 0), parentId: nil) }
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.query(ReadQuery(offset: -1), parentId: nil) }
        let sortError = try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) {
            try await storage.query(ReadQuery(sort: [SortKey("address")]), parentId: nil)
        }
        try expect(sortError.message.contains("address"), "the error names the field")
        var many: [ConformanceDocument] = []
        for n in 0..<45 { many.append(.init(id: String(format: "m%03d", n), name: "m", count: n, score: nil, active: true, city: "X")) }
        let big = try await backend.makeReadStorage(ConformanceDocument.self)
        for document in many { try await big.upsert(document) }
        let defaultPage = try await big.query(ReadQuery(), parentId: nil)
        try expect(defaultPage.items.count == 20 && defaultPage.total == 45, "default page of 20 out of 45")
    }

    func readStorageChildren() async throws {
        let storage = try await backend.makeReadStorage(ConformanceChild.self)
        try await storage.upsert(ConformanceChild(id: "x", owner: "p1", rank: 2))
        try await storage.upsert(ConformanceChild(id: "y", owner: "p1", rank: 1))
        try await storage.upsert(ConformanceChild(id: "x", owner: "p2", rank: 9))
        try expect(try await storage.find(id: "x", parentId: "p2")?.rank == 9, "same id under two parents")
        let page = try await storage.query(ReadQuery(sort: [SortKey("rank")]), parentId: "p1")
        try expect(page.items.map(\.id) == ["y", "x"] && page.total == 2, "children of one parent")
        try await expectError("INFRASTRUCTURE_VALIDATION_FAILED", status: 400) { try await storage.query(ReadQuery(), parentId: nil) }
        try await storage.delete(id: "x", parentId: "p1")
        try expect(try await storage.find(id: "x", parentId: "p2") != nil, "delete touches one parent only")
    }
}
