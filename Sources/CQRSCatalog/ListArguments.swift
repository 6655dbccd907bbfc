import CQRS
import CQRSSchema
import Foundation

/// Opaque page cursors: the offset, base64url-encoded with a version prefix. Every front end
/// hands out and takes the same cursors.
public enum Cursor {
    /// The cursor of the page that starts at `offset`.
    public static func encode(_ offset: Int) -> String {
        Data("o1:\(offset)".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The offset a cursor stands for (0 without one).
    /// - Throws: 400 `VALIDATION_FAILED` for a cursor this server did not make.
    public static func offset(_ cursor: JSONValue?) throws -> Int {
        guard let text = cursor?.stringValue else { return 0 }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8),
            plain.hasPrefix("o1:"), let offset = Int(plain.dropFirst(3)), offset >= 0
        else {
            throw CqrsError.validation("Invalid cursor '\(text)': pass the nextCursor of a previous page", details: ["cursor": .string(text)])
        }
        return offset
    }
}

/// The bounds of one list query, the same for every front end.
public enum QueryLimits {
    /// The most conditions of one filter.
    public static let conditions = 32
    /// The most values of one `in` list.
    public static let listValues = 100
    /// The most sort keys.
    public static let sortKeys = 4
}

/// The JSON shape of list filters and sorting, and its translation to a ``ReadQuery``.
enum QueryArguments {
    static let filterSchema: JSONValue = [
        "type": "array",
        "description": "Conditions that must all hold, e.g. [{\"field\":\"state.balance\",\"op\":\"gte\",\"value\":100}]. Fields are dotted paths into the item; numbers compare as numbers, strings by UTF-8 bytes.",
        "maxItems": .int(QueryLimits.conditions),
        "items": [
            "type": "object",
            "additionalProperties": false,
            "required": ["field", "op", "value"],
            "properties": [
                "field": ["type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$", "description": "A dotted field path."],
                "op": [
                    "type": "string", "enum": ["eq", "ne", "lt", "lte", "gt", "gte", "contains", "startsWith", "in"],
                    "description": "Comparison; `in` takes an array of values.",
                ],
                "value": [
                    "description": "A string, number, boolean or null (an array of them for `in`).",
                    "anyOf": [
                        ["type": ["string", "number", "boolean", "null"]],
                        ["type": "array", "items": ["type": ["string", "number", "boolean", "null"]], "maxItems": .int(QueryLimits.listValues)],
                    ],
                ],
            ],
        ],
    ]

    static func sortSchema(_ fields: [String]) -> JSONValue {
        [
            "type": "array", "maxItems": .int(QueryLimits.sortKeys),
            "description": "Sort keys in order of priority; ties are broken by id.",
            "items": [
                "type": "object", "additionalProperties": false, "required": ["field"],
                "properties": [
                    "field": ["type": "string", "enum": .array(fields.map { .string($0) })],
                    "order": ["type": "string", "enum": ["asc", "desc"], "default": "asc"],
                ],
            ],
        ]
    }

    static func query(from arguments: JSONValue) throws -> ReadQuery {
        var conditions: [Filter] = []
        for condition in arguments["filter"]?.arrayValue ?? [] {
            let field = condition["field"]?.stringValue ?? ""
            let value = condition["value"] ?? .null
            let op = condition["op"]?.stringValue ?? "eq"
            if op == "in" {
                guard let values = value.arrayValue else {
                    throw CqrsError.validation("The `in` operator takes an array of values", details: ["field": .string(field)])
                }
                conditions.append(.isIn(field: field, values: values))
            } else if let comparison = ComparisonOperator(rawValue: op) {
                guard value.arrayValue == nil else {
                    throw CqrsError.validation("Only the `in` operator takes an array", details: ["field": .string(field)])
                }
                conditions.append(.compare(field: field, op: comparison, value: value))
            }
        }
        let sort = (arguments["sort"]?.arrayValue ?? []).map {
            SortKey($0["field"]?.stringValue ?? "", descending: $0["order"]?.stringValue == "desc")
        }
        return ReadQuery(
            filter: conditions.isEmpty ? nil : .and(conditions), sort: sort, offset: try Cursor.offset(arguments["cursor"]),
            limit: try OperationCatalog.integer(arguments["limit"], "limit") ?? ReadQuery.defaultLimit)
    }
}

/// Operation names, titles and path segments from type and case names.
public enum Naming {
    /// `addItem` → `add_item`, `user_right` stays.
    public static func snake(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                if !result.isEmpty, result.last != "_" { result.append("_") }
                result += character.lowercased()
            } else if character.isLetter || character.isNumber || character == "_" {
                result.append(character)
            } else {
                result.append("_")
            }
        }
        return result
    }

    /// `user_right` → "User right", `addItem` → "Add item".
    public static func title(_ name: String) -> String {
        let words = snake(name).split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// `user_right` → `UserRight`: a schema name.
    public static func pascal(_ name: String) -> String {
        snake(name).split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// `account` → `accounts`, `user_right` → `user_rights`, `account_summary` → `account_summaries`:
    /// the path segment of a collection.
    public static func plural(_ name: String) -> String {
        let word = snake(name)
        let vowels = "aeiou"
        if word.hasSuffix("y"), let before = word.dropLast().last, !vowels.contains(before) { return word.dropLast() + "ies" }
        if ["s", "x", "z", "ch", "sh"].contains(where: { word.hasSuffix($0) }) { return word + "es" }
        return word + "s"
    }

    /// Whether a name is `^[a-z0-9_]{1,64}$` (what MCP hosts accept as a tool name).
    public static func isValidOperationName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}

extension JSONValue {
    /// About the length of the value's JSON text, without writing it.
    var estimatedSize: Int {
        switch self {
        case .null, .bool: 5
        case .int, .double: 20
        case .string(let text): text.utf8.count + 2
        case .array(let elements): elements.reduce(2) { $0 + $1.estimatedSize + 1 }
        case .object(let members): members.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.value.estimatedSize }
        }
    }
}

/// The rule that a query names only fields its item schema declares.
enum FieldPaths {
    /// - Throws: 400 naming the first filter field the item schema does not declare, or the first
    ///   sort field that is not sortable.
    static func check(_ query: ReadQuery, item: JSONValue, sortable: [String]) throws {
        for field in query.filter?.fields ?? [] where !declares(item, path: field.split(separator: ".").map(String.init)) {
            throw CqrsError.validation(
                "Unknown filter field '\(field)'", details: ["field": .string(field), "parameter": "filter"])
        }
        for key in query.sort where !sortable.contains(key.field) {
            throw CqrsError.validation(
                "Cannot sort on '\(key.field)'; sortable fields: \(sortable.joined(separator: ", "))",
                details: ["field": .string(key.field), "parameter": "sort"])
        }
    }

    /// Whether `schema` declares the dotted path (through `properties`, and any branch of
    /// `oneOf`/`anyOf`/`allOf`); an object schema that allows other properties declares them all.
    static func declares(_ schema: JSONValue, path: [String]) -> Bool {
        guard let first = path.first else { return true }
        for keyword in ["oneOf", "anyOf", "allOf"] {
            if let branches = schema[keyword]?.arrayValue, branches.contains(where: { declares($0, path: path) }) { return true }
        }
        if let property = schema["properties"]?[first] { return declares(property, path: Array(path.dropFirst())) }
        if let additional = schema["additionalProperties"], additional != .bool(false), additional.objectValue != nil {
            return declares(additional, path: Array(path.dropFirst()))
        }
        return schema["additionalProperties"] == .bool(true)
    }
}
