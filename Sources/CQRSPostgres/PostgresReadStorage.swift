import CQRS
import CQRSSchema
import Foundation
import PostgresNIO

/// A `ReadStorage` in PostgreSQL: documents are `jsonb` rows of one `read_models` table, and
/// filters, sorting and paging run in SQL with the semantics of `InMemoryReadStorage`: numbers
/// compare as numbers and booleans as booleans (checked with `jsonb_typeof`), strings by UTF-8 bytes
/// (`COLLATE "C"`), null or missing fields sort first ascending, ties are broken by id. The total and
/// the page come from one statement, hence one snapshot.
public final class PostgresReadStorage<Model: ReadModel>: ReadStorage {
    /// The schema holding the table.
    public let schema: PostgresSchema
    let table: String

    /// A storage for `Model` documents in `schema`.
    public init(schema: PostgresSchema) {
        self.schema = schema
        self.table = schema.table("read_models")
    }

    var database: PostgresDatabase { schema.database }

    public func find(id: String, parentId: String?) async throws -> Model? {
        try Model.checkKey(id: id, parentId: parentId)
        var binds = PostgresBindings()
        binds.append(Model.modelType)
        binds.append(parentId ?? "")
        binds.append(id)
        let rows = try await database.rows(
            PostgresQuery(
                unsafeSQL: "SELECT data::text FROM \(table) WHERE model_type = $1 AND parent_id = $2 AND id = $3",
                binds: binds)
        ) { try $0.decode(String.self) }
        return try rows.first.map(Self.decode)
    }

    public func upsert(_ model: Model) async throws {
        try Model.checkKey(id: model.id, parentId: model.parentId)
        var binds = PostgresBindings()
        binds.append(Model.modelType)
        binds.append(model.parentId ?? "")
        binds.append(model.id)
        binds.append(String(decoding: try CQRSJSON.encode(model), as: UTF8.self))
        try await database.execute(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO \(table) (model_type, parent_id, id, data) VALUES ($1, $2, $3, $4::text::jsonb)
                    ON CONFLICT (model_type, parent_id, id) DO UPDATE SET data = excluded.data
                    """, binds: binds))
    }

    public func delete(id: String, parentId: String?) async throws {
        try Model.checkKey(id: id, parentId: parentId)
        var binds = PostgresBindings()
        binds.append(Model.modelType)
        binds.append(parentId ?? "")
        binds.append(id)
        try await database.execute(
            PostgresQuery(
                unsafeSQL: "DELETE FROM \(table) WHERE model_type = $1 AND parent_id = $2 AND id = $3", binds: binds))
    }

    public func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model> {
        try Model.checkParent(parentId)
        try query.validate(for: Model.self)
        var builder = SQLBuilder()
        let type = builder.bind(Model.modelType)
        let parent = builder.bind(parentId ?? "")
        var condition = "model_type = \(type) AND parent_id = \(parent)"
        if let filter = query.filter { condition += " AND (\(builder.translate(filter)))" }
        var order: [String] = []
        for key in query.sort {
            let direction = key.descending ? "DESC" : "ASC"
            let value = "(data #> \(builder.bind(SQLBuilder.path(key.field)))::text[])"
            let kind = "jsonb_typeof(\(value))"
            order += [
                "CASE \(kind) WHEN 'boolean' THEN 1 WHEN 'number' THEN 2 WHEN 'string' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 4 ELSE 0 END \(direction)",
                "CASE WHEN \(kind) = 'boolean' THEN \(value)::boolean END \(direction)",
                "CASE WHEN \(kind) = 'number' THEN \(value)::numeric END \(direction)",
                "(CASE WHEN \(kind) = 'string' THEN \(value) #>> '{}' END) COLLATE \"C\" \(direction)",
                "(CASE WHEN \(kind) IN ('array', 'object') THEN \(value)::text END) COLLATE \"C\" \(direction)",
            ]
        }
        order.append("id ASC")
        let orderBy = order.joined(separator: ", ")
        let limit = builder.bind(query.limit)
        let offset = builder.bind(query.offset)
        // One statement: the count and the page see the same snapshot.
        let sql = """
            SELECT total.n, page.data, page.ord
            FROM (SELECT count(*) AS n FROM \(table) WHERE \(condition)) AS total
            LEFT JOIN LATERAL (
                SELECT data::text AS data, row_number() OVER (ORDER BY \(orderBy)) AS ord
                FROM \(table) WHERE \(condition)
                ORDER BY \(orderBy) LIMIT \(limit) OFFSET \(offset)
            ) AS page ON true
            ORDER BY page.ord
            """
        let rows = try await database.rows(PostgresQuery(unsafeSQL: sql, binds: builder.binds)) { row in
            let (total, data, _) = try row.decode((Int, String?, Int64?).self)
            return (total, data)
        }
        let items = try rows.compactMap(\.1).map(Self.decode)
        return Page(items: items, total: rows.first?.0 ?? 0, offset: query.offset, limit: query.limit)
    }

    static func decode(_ text: String) throws -> Model { try Model.decodeStored(Data(text.utf8)) }
}

/// Builds SQL with numbered parameters (`$1`, `$2`, …); values are never spliced into the text.
struct SQLBuilder {
    private(set) var binds = PostgresBindings()

    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    static func path(_ field: String) -> [String] {
        field.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The SQL of a filter. Every leaf is `true` or `false`, never NULL, so `NOT` keeps the in-memory
    /// semantics; casts sit behind a `CASE` on `jsonb_typeof` so they never see another JSON type.
    mutating func translate(_ filter: Filter) -> String {
        switch filter {
        case .and(let filters):
            return filters.isEmpty ? "true" : filters.map { "(\(translate($0)))" }.joined(separator: " AND ")
        case .or(let filters):
            return filters.isEmpty ? "false" : filters.map { "(\(translate($0)))" }.joined(separator: " OR ")
        case .not(let inner):
            return "NOT (\(translate(inner)))"
        case .isIn(let field, let values):
            return membership(field, values)
        case .compare(let field, let op, let value):
            let segments = Self.path(field)
            let v = "(data #> \(bind(segments))::text[])"
            let kind = "jsonb_typeof(\(v))"
            switch op {
            case .eq: return equality(v, kind, segments, value)
            case .ne: return "NOT (\(equality(v, kind, segments, value)))"
            case .contains:
                guard case .string(let needle) = value else { return "false" }
                return "CASE WHEN \(kind) = 'string' THEN strpos(\(v) #>> '{}', \(bind(needle))) > 0 ELSE false END"
            case .startsWith:
                guard case .string(let prefix) = value else { return "false" }
                return "CASE WHEN \(kind) = 'string' THEN starts_with(\(v) #>> '{}', \(bind(prefix))) ELSE false END"
            case .lt, .lte, .gt, .gte:
                let symbol = [ComparisonOperator.lt: "<", .lte: "<=", .gt: ">", .gte: ">="][op]!
                guard let (jsonType, left, right) = typed(v, value) else { return "false" }
                return "CASE WHEN \(kind) = '\(jsonType)' THEN \(left) \(symbol) \(right) ELSE false END"
            }
        }
    }

    private mutating func equality(_ v: String, _ kind: String, _ segments: [String], _ value: JSONValue) -> String {
        if value == .null { return "(\(v) IS NULL OR \(kind) = 'null')" }
        guard let (jsonType, left, right) = typed(v, value) else { return "false" }
        let exact = "CASE WHEN \(kind) = '\(jsonType)' THEN \(left) = \(right) ELSE false END"
        // A containment test the GIN index can serve; it is implied by the exact test, so the result is
        // unchanged (it only narrows the rows the exact test looks at).
        // jsonb containment compares a double by its shortest decimal form, not its exact value.
        if case .double = value { return exact }
        var document = value
        for segment in segments.reversed() { document = .object([segment: document]) }
        return "(data @> \(bind(CQRSJSON.text(of: document)))::jsonb AND \(exact))"
    }

    /// `in`: one array parameter per kind of value, whatever the number of values.
    private mutating func membership(_ field: String, _ values: [JSONValue]) -> String {
        let v = "(data #> \(bind(Self.path(field)))::text[])"
        let kind = "jsonb_typeof(\(v))"
        var alternatives: [String] = []
        let strings = values.compactMap(\.stringValue)
        if !strings.isEmpty {
            alternatives.append("CASE WHEN \(kind) = 'string' THEN (\(v) #>> '{}') = ANY(\(bind(strings))::text[]) ELSE false END")
        }
        let numbers = values.compactMap(Self.numericText)
        if !numbers.isEmpty {
            alternatives.append("CASE WHEN \(kind) = 'number' THEN \(v)::numeric = ANY(\(bind(numbers))::text[]::numeric[]) ELSE false END")
        }
        let flags = values.compactMap(\.boolValue)
        if !flags.isEmpty {
            alternatives.append("CASE WHEN \(kind) = 'boolean' THEN \(v)::boolean = ANY(\(bind(flags))::boolean[]) ELSE false END")
        }
        if values.contains(.null) { alternatives.append("(\(v) IS NULL OR \(kind) = 'null')") }
        return alternatives.isEmpty ? "false" : alternatives.map { "(\($0))" }.joined(separator: " OR ")
    }

    /// A number as `numeric` text with the value the other stores compare by: an integer or an
    /// integral double exactly, any other double by its shortest round-trip form.
    static func numericText(_ value: JSONValue) -> String? {
        switch value {
        case .int(let number): return String(number)
        case .double(let number) where number.isFinite:
            if let exact = Int(exactly: number) { return String(exact) }
            // Integral doubles beyond Int print exactly with %.0f; the others round-trip in Swift's form.
            return number.rounded() == number ? String(format: "%.0f", number) : "\(number)"
        default: return nil
        }
    }

    /// The JSON type a scalar compares with, and the two sides of the comparison.
    private mutating func typed(_ v: String, _ value: JSONValue) -> (String, String, String)? {
        switch value {
        case .bool(let flag): ("boolean", "\(v)::boolean", "\(bind(flag))::boolean")
        case .int, .double:
            Self.numericText(value).map { ("number", "\(v)::numeric", "\(bind($0))::numeric") }
        case .string(let text): ("string", "(\(v) #>> '{}') COLLATE \"C\"", "\(bind(text))::text")
        case .null, .array, .object: nil
        }
    }
}
