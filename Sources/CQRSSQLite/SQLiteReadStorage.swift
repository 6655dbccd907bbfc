import CQRS
import CQRSSchema
import Foundation

/// A `ReadStorage` in the same SQLite file as the events: documents are JSON in one table, and
/// filters, sorting and paging run in SQL with the same semantics as `InMemoryReadStorage`
/// (numbers compare as numbers, booleans as booleans, strings by UTF-8 bytes).
public final class SQLiteReadStorage<Model: ReadModel>: ReadStorage {
    let database: SQLiteDatabase

    /// A storage for `Model` documents in `database`.
    public init(database: SQLiteDatabase) {
        self.database = database
    }

    public func find(id: String, parentId: String?) async throws -> Model? {
        try Model.checkKey(id: id, parentId: parentId)
        let data = try await database.read { connection in
            try connection.statement("SELECT data FROM read_models WHERE model_type = ? AND parent_id = ? AND id = ?")
                .rows([.text(Model.modelType), .text(parentId ?? ""), .text(id)]) { $0.data(0) }.first
        }
        return try data.map { try Self.decode($0) }
    }

    public func upsert(_ model: Model) async throws {
        try Model.checkKey(id: model.id, parentId: model.parentId)
        let data = String(decoding: try CQRSJSON.encode(model), as: UTF8.self)
        let key: [SQLiteValue] = [.text(Model.modelType), .text(model.parentId ?? ""), .text(model.id), .text(data)]
        try await database.write { connection in
            try connection.statement("INSERT OR REPLACE INTO read_models (model_type, parent_id, id, data) VALUES (?, ?, ?, ?)")
                .run(key)
        }
    }

    public func delete(id: String, parentId: String?) async throws {
        try Model.checkKey(id: id, parentId: parentId)
        let key: [SQLiteValue] = [.text(Model.modelType), .text(parentId ?? ""), .text(id)]
        try await database.write { connection in
            try connection.statement("DELETE FROM read_models WHERE model_type = ? AND parent_id = ? AND id = ?").run(key)
        }
    }

    public func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model> {
        try Model.checkParent(parentId)
        try query.validate(for: Model.self)
        var whereClause = SQLFragment("model_type = ? AND parent_id = ?", [.text(Model.modelType), .text(parentId ?? "")])
        if let filter = query.filter { whereClause = whereClause.and(Self.translate(filter)) }
        var order = SQLFragment("", [])
        for key in query.sort {
            let direction = key.descending ? "DESC" : "ASC"
            let path = SQLiteValue.text(Self.path(key.field))
            order = order.joined(
                SQLFragment(
                    "CASE json_type(data, ?) WHEN 'true' THEN 1 WHEN 'false' THEN 1 WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3 WHEN 'array' THEN 4 WHEN 'object' THEN 4 ELSE 0 END \(direction), json_extract(data, ?) \(direction)",
                    [path, path]), separator: ", ")
        }
        order = order.joined(SQLFragment("id ASC", []), separator: ", ")
        let countSQL = "SELECT count(*) FROM read_models WHERE \(whereClause.sql)"
        let pageSQL = "SELECT data FROM read_models WHERE \(whereClause.sql) ORDER BY \(order.sql) LIMIT ? OFFSET ?"
        let pageValues = whereClause.values + order.values + [.integer(Int64(query.limit)), .integer(Int64(query.offset))]
        let countValues = whereClause.values
        let (total, rows) = try await database.read { connection in
            // One read transaction: the count and the page see the same data.
            // The SQL depends on the query's filters and sort: not worth caching per connection.
            let total = try connection.withTransientStatement(countSQL) { try $0.rows(countValues) { Int($0.int(0)) } }.first ?? 0
            let rows = try connection.withTransientStatement(pageSQL) { try $0.rows(pageValues) { $0.data(0) } }
            return (total, rows)
        }
        return Page(items: try rows.map { try Self.decode($0) }, total: total, offset: query.offset, limit: query.limit)
    }

    static func decode(_ data: Data) throws -> Model { try Model.decodeStored(data) }

    private static func path(_ field: String) -> String { "$." + field }

    /// The SQL of a filter; field names were validated, and every value is a bound parameter.
    static func translate(_ filter: Filter) -> SQLFragment {
        switch filter {
        case .and(let filters):
            return filters.isEmpty ? SQLFragment("1", []) : filters.map(translate).reduce(nil) { $0?.and($1) ?? $1 }!
        case .or(let filters):
            return filters.isEmpty
                ? SQLFragment("0", []) : filters.map(translate).reduce(nil) { $0?.or($1) ?? $1 }!
        case .not(let inner):
            let sql = translate(inner)
            return SQLFragment("NOT (\(sql.sql))", sql.values)
        case .isIn(let field, let values):
            return membership(.text(path(field)), values)
        case .compare(let field, let op, let value):
            let path = SQLiteValue.text(path(field))
            switch op {
            case .eq: return equality(path, value)
            case .ne:
                let sql = equality(path, value)
                return SQLFragment("NOT (\(sql.sql))", sql.values)
            case .contains:
                guard case .string(let needle) = value else { return SQLFragment("0", []) }
                return SQLFragment(
                    "(json_type(data, ?) = 'text' AND instr(json_extract(data, ?), ?) > 0)", [path, path, .text(needle)])
            case .startsWith:
                guard case .string(let prefix) = value else { return SQLFragment("0", []) }
                return SQLFragment(
                    "(json_type(data, ?) = 'text' AND substr(json_extract(data, ?), 1, length(?)) = ?)",
                    [path, path, .text(prefix), .text(prefix)])
            case .lt, .lte, .gt, .gte:
                let symbol = [ComparisonOperator.lt: "<", .lte: "<=", .gt: ">", .gte: ">="][op]!
                guard let (types, bound) = typed(value) else { return SQLFragment("0", []) }
                return SQLFragment(
                    "(json_type(data, ?) IN (\(types)) AND json_extract(data, ?) \(symbol) ?)", [path, path, bound])
            }
        }
    }

    private static func equality(_ path: SQLiteValue, _ value: JSONValue) -> SQLFragment {
        if value == .null {
            return SQLFragment("(json_type(data, ?) IS NULL OR json_type(data, ?) = 'null')", [path, path])
        }
        guard let (types, bound) = typed(value) else { return SQLFragment("0", []) }
        return SQLFragment("(json_type(data, ?) IN (\(types)) AND json_extract(data, ?) = ?)", [path, path, bound])
    }

    /// `in`: one bound JSON array per kind of value (`json_each`), whatever the number of values;
    /// a chain of `OR`s overflows SQLite's parser stack near 80 values.
    private static func membership(_ path: SQLiteValue, _ values: [JSONValue]) -> SQLFragment {
        var strings: [JSONValue] = [], numbers: [JSONValue] = [], flags: [JSONValue] = [], null = false
        for value in values {
            switch value {
            case .string: strings.append(value)
            case .int, .double: numbers.append(value)
            case .bool(let flag): flags.append(.int(flag ? 1 : 0))
            case .null: null = true
            case .array, .object: break
            }
        }
        var alternatives: [SQLFragment] = []
        for (list, types) in [(strings, "'text'"), (numbers, "'integer', 'real'"), (flags, "'true', 'false'")] where !list.isEmpty {
            alternatives.append(
                SQLFragment(
                    "(json_type(data, ?) IN (\(types)) AND json_extract(data, ?) IN (SELECT value FROM json_each(?)))",
                    [path, path, .text(CQRSJSON.text(of: JSONValue.array(list)))]))
        }
        if null { alternatives.append(equality(path, .null)) }
        return alternatives.reduce(nil) { $0?.or($1) ?? $1 } ?? SQLFragment("0", [])
    }

    /// The JSON types a scalar compares with, and its bound form.
    private static func typed(_ value: JSONValue) -> (String, SQLiteValue)? {
        switch value {
        case .bool(let flag): ("'true', 'false'", .integer(flag ? 1 : 0))
        case .int(let number): ("'integer', 'real'", .integer(Int64(number)))
        case .double(let number): ("'integer', 'real'", .real(number))
        case .string(let text): ("'text'", .text(text))
        case .null, .array, .object: nil
        }
    }
}

/// A piece of SQL and the values of its `?` parameters, in order.
struct SQLFragment {
    var sql: String
    var values: [SQLiteValue]

    init(_ sql: String, _ values: [SQLiteValue]) {
        self.sql = sql
        self.values = values
    }

    func and(_ other: SQLFragment) -> SQLFragment {
        SQLFragment("(\(sql)) AND (\(other.sql))", values + other.values)
    }

    func or(_ other: SQLFragment) -> SQLFragment {
        SQLFragment("(\(sql)) OR (\(other.sql))", values + other.values)
    }

    func joined(_ other: SQLFragment, separator: String) -> SQLFragment {
        sql.isEmpty ? other : SQLFragment(sql + separator + other.sql, values + other.values)
    }
}
