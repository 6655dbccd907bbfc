import CQRS
import CQRSSchema
import Foundation

/// Opaque page cursors: the offset, base64url-encoded with a version prefix.
enum Cursor {
    static func encode(_ offset: Int) -> String {
        Data("o1:\(offset)".utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The offset a cursor stands for (0 without one).
    /// - Throws: 400 `VALIDATION_FAILED` for a cursor this server did not make.
    static func offset(_ cursor: JSONValue?) throws -> Int {
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

/// The JSON shape of list filters and sorting, and its translation to a ``ReadQuery``.
enum QueryArguments {
    static let filterSchema: JSONValue = [
        "type": "array",
        "description": "Conditions that must all hold, e.g. [{\"field\":\"state.balance\",\"op\":\"gte\",\"value\":100}]. Fields are dotted paths into the item; numbers compare as numbers, strings by UTF-8 bytes.",
        "maxItems": 32,
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
                        ["type": "array", "items": ["type": ["string", "number", "boolean", "null"]], "maxItems": 100],
                    ],
                ],
            ],
        ],
    ]

    static func sortSchema(_ fields: [String]) -> JSONValue {
        [
            "type": "array", "maxItems": 4,
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
            limit: try ToolCatalog.integer(arguments["limit"], "limit") ?? ReadQuery.defaultLimit)
    }
}

/// Tool names and titles from type and case names.
enum Naming {
    /// `addItem` → `add_item`, `user_right` stays.
    static func snake(_ name: String) -> String {
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
    static func title(_ name: String) -> String {
        let words = snake(name).split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func isValidToolName(_ name: String) -> Bool {
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
