import CQRSSchema
import Foundation

/// A document of the read side, stored by a ``ReadStorage``.
public protocol ReadModel: Codable, Sendable {
    /// The model's type name, e.g. `"movement"`: it names tools, routes and stored collections.
    static var modelType: String { get }
    /// The fields a caller may sort on (dotted paths into the JSON form). Sorting on any other is a 400.
    static var sortableFields: Set<String> { get }
    /// Whether every document lives under a parent (a child view); its reads then need the parent id.
    static var isChild: Bool { get }
    /// The document's id (unique within its parent).
    var id: String { get }
    /// The parent's id for a child view (usually the aggregate id), nil otherwise.
    var parentId: String? { get }
}

extension ReadModel {
    public static var sortableFields: Set<String> { [] }
    public static var isChild: Bool { false }
    public var parentId: String? { nil }
}

/// A comparison in a ``Filter``.
public enum ComparisonOperator: String, Sendable, Hashable, Codable, CaseIterable {
    /// Equal (numbers compare by value: `1 == 1.0`; a missing field equals `null`).
    case eq
    /// Not equal.
    case ne
    /// Less than; numbers with numbers, strings with strings (by UTF-8 bytes), booleans with booleans.
    case lt
    /// Less than or equal.
    case lte
    /// Greater than.
    case gt
    /// Greater than or equal.
    case gte
    /// The string field contains the string value (case-sensitive).
    case contains
    /// The string field starts with the string value.
    case startsWith
}

/// A filter expression over the JSON form of read models. Fields are dotted paths (`owner.name`).
public indirect enum Filter: Sendable, Hashable {
    /// Compares one field with a value.
    case compare(field: String, op: ComparisonOperator, value: JSONValue)
    /// The field equals one of the values.
    case isIn(field: String, values: [JSONValue])
    /// Every sub-filter matches (an empty list matches everything).
    case and([Filter])
    /// At least one sub-filter matches (an empty list matches nothing).
    case or([Filter])
    /// The sub-filter does not match.
    case not(Filter)

    /// Whether the filter compares with an array or an object (not supported).
    var hasCompositeValue: Bool {
        func composite(_ value: JSONValue) -> Bool { value.arrayValue != nil || value.objectValue != nil }
        switch self {
        case .compare(_, _, let value): return composite(value)
        case .isIn(_, let values): return values.contains(where: composite)
        case .and(let filters), .or(let filters): return filters.contains { $0.hasCompositeValue }
        case .not(let filter): return filter.hasCompositeValue
        }
    }

    /// Every value the filter compares with.
    var values: [JSONValue] {
        switch self {
        case .compare(_, _, let value): [value]
        case .isIn(_, let values): values
        case .and(let filters), .or(let filters): filters.flatMap(\.values)
        case .not(let filter): filter.values
        }
    }

    /// Every field the filter names.
    public var fields: [String] {
        switch self {
        case .compare(let field, _, _), .isIn(let field, _): [field]
        case .and(let filters), .or(let filters): filters.flatMap(\.fields)
        case .not(let filter): filter.fields
        }
    }
}

/// One sort criterion.
public struct SortKey: Sendable, Hashable, Codable {
    /// The dotted field path.
    public var field: String
    /// Descending when true.
    public var descending: Bool

    /// Creates a sort key.
    public init(_ field: String, descending: Bool = false) {
        self.field = field
        self.descending = descending
    }
}

/// A read query: filter, sort and a page window.
///
/// Without a sort, documents come in id order. Ties are always broken by id, so paging is stable.
/// Values are ordered null (or missing) < booleans < numbers < strings < others; descending reverses that.
public struct ReadQuery: Sendable, Hashable {
    /// The page size used when none is given.
    public static let defaultLimit = 20
    /// The largest page size allowed.
    public static let maximumLimit = 1000

    /// The filter, or nil for every document.
    public var filter: Filter?
    /// The sort criteria, applied in order.
    public var sort: [SortKey]
    /// How many documents to skip.
    public var offset: Int
    /// How many documents to return (1 to ``maximumLimit``).
    public var limit: Int

    /// Creates a query.
    public init(filter: Filter? = nil, sort: [SortKey] = [], offset: Int = 0, limit: Int = ReadQuery.defaultLimit) {
        self.filter = filter
        self.sort = sort
        self.offset = offset
        self.limit = limit
    }

    /// Checks the query against a model type: page bounds, field names, sortable fields.
    /// - Throws: 400 `VALIDATION_FAILED` naming the offending part.
    public func validate<M: ReadModel>(for model: M.Type) throws {
        guard offset >= 0 else {
            throw CqrsError.validation("offset must be 0 or more", details: ["offset": .int(offset)])
        }
        guard (1...Self.maximumLimit).contains(limit) else {
            throw CqrsError.validation(
                "limit must be between 1 and \(Self.maximumLimit)", details: ["limit": .int(limit)])
        }
        for field in (filter?.fields ?? []) + sort.map(\.field) where !Self.isValidField(field) {
            throw CqrsError.validation("Invalid field name '\(field)'", details: ["field": .string(field)])
        }
        if let filter, filter.hasCompositeValue {
            throw CqrsError.validation("Filters compare scalar values only (no arrays or objects)")
        }
        if let filter, filter.values.contains(where: { $0.stringValue?.containsNUL == true }) {
            throw CqrsError.validation("Filter values must not contain the NUL character (U+0000)")
        }
        for key in sort where !M.sortableFields.contains(key.field) && key.field != "id" {
            throw CqrsError.validation(
                "Cannot sort \(M.modelType) on '\(key.field)'; sortable fields: \(M.sortableFields.union(["id"]).sorted().joined(separator: ", "))",
                details: ["field": .string(key.field), "sortable": .array(M.sortableFields.union(["id"]).sorted().map { .string($0) })])
        }
    }

    /// Whether `field` is a dotted path of identifiers (`[A-Za-z_][A-Za-z0-9_]*` segments).
    public static func isValidField(_ field: String) -> Bool {
        let segments = field.split(separator: ".", omittingEmptySubsequences: false)
        return !segments.isEmpty && segments.allSatisfy { segment in
            guard let first = segment.utf8.first, first == 95 || (first | 0x20 >= 97 && first | 0x20 <= 122) else {
                return false
            }
            return segment.utf8.allSatisfy { $0 == 95 || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }
        }
    }
}

/// One page of a query's result.
public struct Page<Item: Sendable>: Sendable {
    /// The documents of the page.
    public var items: [Item]
    /// How many documents match the filter in all.
    public var total: Int
    /// The query's offset.
    public var offset: Int
    /// The query's limit.
    public var limit: Int

    /// Creates a page.
    public init(items: [Item], total: Int, offset: Int, limit: Int) {
        self.items = items
        self.total = total
        self.offset = offset
        self.limit = limit
    }

    /// The offset of the next page, or nil on the last page.
    public var nextOffset: Int? { offset + items.count < total && !items.isEmpty ? offset + items.count : nil }
}

extension Page: Equatable where Item: Equatable {}

/// Typed storage of read models; a ``Projector`` writes them through the ``ProjectionStorage`` part.
public protocol ReadStorage<Model>: ProjectionStorage {
    /// The document with this id (under `parentId` for a child model).
    func find(id: String, parentId: String?) async throws -> Model?
    /// Inserts or replaces a document.
    func upsert(_ model: Model) async throws
    /// Deletes a document; deleting a missing one is not an error.
    func delete(id: String, parentId: String?) async throws
    /// The documents under `parentId` (required for a child model) matching the query; the total and
    /// the page come from one consistent read.
    func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model>
}

extension ReadModel {
    /// A document as a storage reads it back.
    /// - Throws: 500 `SERIALIZATION_ERROR` when it no longer decodes (the model changed shape).
    public static func decodeStored(_ data: Data) throws -> Self {
        do {
            return try CQRSJSON.decode(Self.self, from: data)
        } catch {
            throw CqrsError.serialization("A stored \(modelType) document does not decode: \(error)")
        }
    }

    /// Checks that a parent id is given for a child model (and only then), and that it follows the
    /// ``Identifier`` rule.
    public static func checkParent(_ parentId: String?) throws {
        if isChild, parentId == nil {
            throw CqrsError.validation("\(modelType) is a child view: a parent id is required")
        }
        if !isChild, parentId != nil {
            throw CqrsError.validation("\(modelType) has no parent: no parent id is allowed")
        }
        if let parentId { try Identifier.check(parentId, as: "parentId") }
    }

    /// Checks a document key before a storage sees it: ``checkParent(_:)`` and the ``Identifier``
    /// rule for the id.
    public static func checkKey(id: String, parentId: String?) throws {
        try checkParent(parentId)
        try Identifier.check(id, as: "id")
    }
}
