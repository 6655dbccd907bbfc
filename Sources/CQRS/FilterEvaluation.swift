import CQRSSchema

/// The in-process semantics of ``Filter`` and ``SortKey`` over JSON documents. SQL stores translate
/// the same rules; the conformance suite checks that they agree.
package enum JSONQuery {
    package static func lookup(_ document: JSONValue, _ path: String) -> JSONValue? {
        var current = document
        for segment in path.split(separator: ".") {
            guard let next = current[String(segment)] else { return nil }
            current = next
        }
        return current
    }

    static func matches(_ document: JSONValue, _ filter: Filter) -> Bool {
        switch filter {
        case .compare(let field, let op, let value):
            return compare(lookup(document, field) ?? .null, op, value)
        case .isIn(let field, let values):
            let actual = lookup(document, field) ?? .null
            return values.contains { equal(actual, $0) }
        case .and(let filters): return filters.allSatisfy { matches(document, $0) }
        case .or(let filters): return filters.contains { matches(document, $0) }
        case .not(let inner): return !matches(document, inner)
        }
    }

    /// Numbers by exact value, strings by UTF-8 bytes, anything else structurally.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let order = JSONValue.numberOrder(a, b) { return order == 0 }
        if case .string(let x) = a, case .string(let y) = b { return x.utf8.elementsEqual(y.utf8) }
        return a == b
    }

    private static func compare(_ actual: JSONValue, _ op: ComparisonOperator, _ value: JSONValue) -> Bool {
        switch op {
        case .eq: return equal(actual, value)
        case .ne: return !equal(actual, value)
        case .contains, .startsWith:
            guard case .string(let text) = actual, case .string(let needle) = value else { return false }
            return op == .contains ? containsBytes(text, needle) : text.utf8.starts(with: needle.utf8)
        case .lt, .lte, .gt, .gte:
            guard let order = sameKindOrder(actual, value) else { return false }
            switch op {
            case .lt: return order < 0
            case .lte: return order <= 0
            case .gt: return order > 0
            default: return order >= 0
            }
        }
    }

    /// -1, 0 or 1 when both values are numbers, strings or booleans; nil otherwise.
    private static func sameKindOrder(_ a: JSONValue, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y ? 0 : (!x ? -1 : 1)
        case (.string(let x), .string(let y)): return bytesOrder(x, y)
        default: return JSONValue.numberOrder(a, b)
        }
    }

    /// Substring search on UTF-8 bytes (the empty needle is in every string, as in SQL).
    private static func containsBytes(_ text: String, _ needle: String) -> Bool {
        needle.isEmpty || text.utf8.firstRange(of: needle.utf8) != nil
    }

    private static func bytesOrder(_ x: String, _ y: String) -> Int {
        if x.utf8.elementsEqual(y.utf8) { return 0 }
        return x.utf8.lexicographicallyPrecedes(y.utf8) ? -1 : 1
    }

    /// The kinds in sort order: null, boolean, number, string, composite.
    package static func rank(_ value: JSONValue) -> Int {
        switch value {
        case .null: 0
        case .bool: 1
        case .int, .double: 2
        case .string: 3
        case .array, .object: 4
        }
    }

    /// Total order used for sorting: by kind rank, then by value.
    static func order(_ a: JSONValue, _ b: JSONValue) -> Int {
        let (ra, rb) = (rank(a), rank(b))
        if ra != rb { return ra < rb ? -1 : 1 }
        if let same = sameKindOrder(a, b) { return same }
        if ra == 0 { return 0 }
        return bytesOrder(a.sortedText, b.sortedText)
    }

    /// Sorts documents by the keys, then by id.
    static func sort<T>(_ items: inout [(id: String, json: JSONValue, item: T)], by keys: [SortKey]) {
        items.sort { left, right in
            for key in keys {
                let order = order(lookup(left.json, key.field) ?? .null, lookup(right.json, key.field) ?? .null)
                if order != 0 { return key.descending ? order > 0 : order < 0 }
            }
            return left.id.utf8.lexicographicallyPrecedes(right.id.utf8)
        }
    }
}

extension JSONValue {
    /// A canonical text (sorted keys), used to order composite values.
    fileprivate var sortedText: String { CQRSJSON.text(of: self) }
}
