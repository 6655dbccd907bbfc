import Foundation

/// One way in which a JSON value fails a schema.
public struct SchemaViolation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// RFC 6901 JSON Pointer to the offending part of the instance; `""` is the root.
    public var pointer: String
    /// A human-readable explanation.
    public var message: String
    /// The schema keyword that failed, such as `required` or `type`.
    public var keyword: String

    /// Creates a violation.
    public init(pointer: String, message: String, keyword: String) {
        self.pointer = pointer
        self.message = message
        self.keyword = keyword
    }

    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(message)" }
}

extension JSONSchema {
    /// Every way in which `value` fails this schema; empty when it is valid.
    public func validate(_ value: JSONValue) -> [SchemaViolation] {
        JSONSchema.validate(value, against: json)
    }

    /// Every way in which `value` fails `schema`, a JSON Schema (draft 2020-12) in JSON form.
    ///
    /// Asserts `type`, `enum`, `const`, `properties`, `patternProperties`, `required`,
    /// `additionalProperties`, `minProperties`, `maxProperties`, `prefixItems`, `items`,
    /// `minItems`, `maxItems`, `uniqueItems`, `anyOf`, `oneOf`, `allOf`, `not`,
    /// `if`/`then`/`else`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
    /// `multipleOf`, `minLength`, `maxLength`, `pattern` and local `$ref`s (`#` or `#/...`).
    /// `format` is an annotation and is not asserted. Malformed keywords are ignored; an invalid
    /// `pattern` or an unresolvable `$ref` is reported as a violation.
    public static func validate(_ value: JSONValue, against schema: JSONValue) -> [SchemaViolation] {
        var validator = Validator(root: schema)
        validator.validate(value, schema, pointer: "")
        return validator.violations
    }
}

private struct Validator {
    let root: JSONValue
    var violations: [SchemaViolation] = []
    var refDepth = 0

    init(root: JSONValue) {
        self.root = root
    }

    mutating func fail(_ pointer: String, _ keyword: String, _ message: String) {
        violations.append(SchemaViolation(pointer: pointer, message: message, keyword: keyword))
    }

    /// Runs `body` in isolation and returns the violations it found, leaving the list untouched.
    mutating func probe(_ body: (inout Validator) -> Void) -> [SchemaViolation] {
        let saved = violations
        violations = []
        body(&self)
        let found = violations
        violations = saved
        return found
    }

    mutating func validate(_ value: JSONValue, _ schema: JSONValue, pointer: String) {
        switch schema {
        case .bool(true): return
        case .bool(false):
            fail(pointer, "false", "no value is allowed here")
            return
        case .object(let keywords):
            validate(value, keywords, pointer: pointer)
        default:
            return  // not a schema; nothing to assert
        }
    }

    mutating func validate(_ value: JSONValue, _ schema: [String: JSONValue], pointer: String) {
        if let ref = schema["$ref"]?.stringValue { validateRef(value, ref, pointer: pointer) }
        if let type = schema["type"] { checkType(value, type, pointer: pointer) }
        if let options = schema["enum"]?.arrayValue, !options.contains(where: { jsonEqual($0, value) }) {
            let listed = options.prefix(10).map { $0.serialized() }.joined(separator: ", ")
            fail(pointer, "enum", "value \(brief(value)) is not one of \(listed)\(options.count > 10 ? ", ..." : "")")
        }
        if let constant = schema["const"], !jsonEqual(constant, value) {
            fail(pointer, "const", "value \(brief(value)) is not \(constant.serialized())")
        }
        switch value {
        case .object(let members): checkObject(members, schema, pointer: pointer)
        case .array(let elements): checkArray(elements, schema, pointer: pointer)
        case .string(let text): checkString(text, schema, pointer: pointer)
        case .int, .double: checkNumber(value, schema, pointer: pointer)
        default: break
        }
        checkCombinators(value, schema, pointer: pointer)
    }

    mutating func validateRef(_ value: JSONValue, _ ref: String, pointer: String) {
        guard let target = resolve(ref) else {
            fail(pointer, "$ref", "cannot resolve reference \(ref)")
            return
        }
        // A reference cycle that never reaches deeper instance data would recurse forever.
        guard refDepth < 128 else {
            fail(pointer, "$ref", "reference \(ref) nests too deeply")
            return
        }
        refDepth += 1
        validate(value, target, pointer: pointer)
        refDepth -= 1
    }

    func resolve(_ ref: String) -> JSONValue? {
        guard ref.hasPrefix("#") else { return nil }
        let fragment = ref.dropFirst()
        if fragment.isEmpty { return root }
        guard fragment.hasPrefix("/") else { return nil }
        var current = root
        for token in fragment.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            let name = (token.removingPercentEncoding ?? String(token))
                .replacing("~1", with: "/").replacing("~0", with: "~")
            switch current {
            case .object(let members):
                guard let next = members[name] else { return nil }
                current = next
            case .array(let elements):
                guard let index = Int(name), elements.indices.contains(index) else { return nil }
                current = elements[index]
            default:
                return nil
            }
        }
        return current
    }

    // MARK: type

    mutating func checkType(_ value: JSONValue, _ type: JSONValue, pointer: String) {
        let names: [String]
        if let single = type.stringValue {
            names = [single]
        } else if let list = type.arrayValue {
            names = list.compactMap(\.stringValue)
        } else {
            return
        }
        if names.contains(where: { matchesType(value, $0) }) { return }
        let expected = names.count == 1 ? names[0] : "one of " + names.joined(separator: ", ")
        fail(pointer, "type", "expected \(expected), got \(typeName(value))")
    }

    func matchesType(_ value: JSONValue, _ name: String) -> Bool {
        switch (name, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
            ("number", .int), ("number", .double), ("integer", .int):
            return true
        case ("integer", .double(let number)):
            return number.isFinite && number.rounded(.towardZero) == number
        default:
            return false
        }
    }

    func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    // MARK: objects

    mutating func checkObject(_ members: [String: JSONValue], _ schema: [String: JSONValue], pointer: String) {
        if let required = schema["required"]?.arrayValue {
            for name in required.compactMap(\.stringValue) where members[name] == nil {
                fail(pointer, "required", "missing required property \"\(name)\"")
            }
        }
        if let minimum = schema["minProperties"]?.intValue, members.count < minimum {
            fail(pointer, "minProperties", "has \(members.count) properties, fewer than \(minimum)")
        }
        if let maximum = schema["maxProperties"]?.intValue, members.count > maximum {
            fail(pointer, "maxProperties", "has \(members.count) properties, more than \(maximum)")
        }
        let properties = schema["properties"]?.objectValue ?? [:]
        let patternProperties = schema["patternProperties"]?.objectValue ?? [:]
        let additional = schema["additionalProperties"]
        // Sorted so that the order of reported violations is deterministic.
        for name in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let member = members[name]!
            let memberPointer = pointer + "/" + name.jsonPointerEscaped
            var matched = false
            if let propertySchema = properties[name] {
                matched = true
                validate(member, propertySchema, pointer: memberPointer)
            }
            for (pattern, patternSchema) in patternProperties {
                guard let compiled = CompiledPatterns.shared.pattern(pattern) else {
                    fail(pointer, "patternProperties", "invalid regular expression \(JSONValue.string(pattern).serialized())")
                    continue
                }
                if compiled.matches(name) {
                    matched = true
                    validate(member, patternSchema, pointer: memberPointer)
                }
            }
            guard !matched, let additional else { continue }
            if additional == .bool(false) {
                fail(memberPointer, "additionalProperties", "property \"\(name)\" is not allowed")
            } else {
                validate(member, additional, pointer: memberPointer)
            }
        }
    }

    // MARK: arrays

    mutating func checkArray(_ elements: [JSONValue], _ schema: [String: JSONValue], pointer: String) {
        if let minimum = schema["minItems"]?.intValue, elements.count < minimum {
            fail(pointer, "minItems", "has \(elements.count) items, fewer than \(minimum)")
        }
        if let maximum = schema["maxItems"]?.intValue, elements.count > maximum {
            fail(pointer, "maxItems", "has \(elements.count) items, more than \(maximum)")
        }
        if schema["uniqueItems"] == .bool(true), elements.count > 1 {
            outer: for first in elements.indices {
                for second in elements.indices[(first + 1)...] where jsonEqual(elements[first], elements[second]) {
                    fail(pointer, "uniqueItems", "items \(first) and \(second) are equal")
                    break outer
                }
            }
        }
        let prefix = schema["prefixItems"]?.arrayValue ?? []
        for (index, element) in elements.enumerated() {
            let elementSchema = index < prefix.count ? prefix[index] : schema["items"]
            if let elementSchema {
                validate(element, elementSchema, pointer: pointer + "/" + String(index))
            }
        }
    }

    // MARK: strings

    mutating func checkString(_ text: String, _ schema: [String: JSONValue], pointer: String) {
        let minimum = schema["minLength"]?.intValue
        let maximum = schema["maxLength"]?.intValue
        if minimum != nil || maximum != nil {
            // Unicode scalars, like Python's len(), rather than grapheme clusters.
            let length = text.unicodeScalars.count
            if let minimum, length < minimum {
                fail(pointer, "minLength", "is \(length) characters long, shorter than \(minimum)")
            }
            if let maximum, length > maximum {
                fail(pointer, "maxLength", "is \(length) characters long, longer than \(maximum)")
            }
        }
        if let pattern = schema["pattern"]?.stringValue {
            if let compiled = CompiledPatterns.shared.pattern(pattern) {
                if !compiled.matches(text) {
                    fail(pointer, "pattern", "\(brief(.string(text))) does not match \(JSONValue.string(pattern).serialized())")
                }
            } else {
                fail(pointer, "pattern", "invalid regular expression \(JSONValue.string(pattern).serialized())")
            }
        }
    }

    // MARK: numbers

    mutating func checkNumber(_ value: JSONValue, _ schema: [String: JSONValue], pointer: String) {
        if let bound = schema["minimum"], isNumber(bound), compareNumbers(value, bound) == .orderedAscending {
            fail(pointer, "minimum", "\(value.serialized()) is less than the minimum \(bound.serialized())")
        }
        if let bound = schema["maximum"], isNumber(bound), compareNumbers(value, bound) == .orderedDescending {
            fail(pointer, "maximum", "\(value.serialized()) is greater than the maximum \(bound.serialized())")
        }
        if let bound = schema["exclusiveMinimum"], isNumber(bound), compareNumbers(value, bound) != .orderedDescending {
            fail(pointer, "exclusiveMinimum", "\(value.serialized()) must be greater than \(bound.serialized())")
        }
        if let bound = schema["exclusiveMaximum"], isNumber(bound), compareNumbers(value, bound) != .orderedAscending {
            fail(pointer, "exclusiveMaximum", "\(value.serialized()) must be less than \(bound.serialized())")
        }
        if let divisor = schema["multipleOf"], isNumber(divisor) {
            let isMultiple: Bool
            if case .int(let number) = value, case .int(let step) = divisor, step > 0 {
                isMultiple = number % step == 0
            } else if let number = value.doubleValue, let step = divisor.doubleValue, step > 0 {
                let quotient = number / step
                isMultiple = quotient.isFinite && quotient.rounded(.towardZero) == quotient
            } else {
                isMultiple = true
            }
            if !isMultiple { fail(pointer, "multipleOf", "\(value.serialized()) is not a multiple of \(divisor.serialized())") }
        }
    }

    func isNumber(_ value: JSONValue) -> Bool {
        switch value {
        case .int, .double: return true
        default: return false
        }
    }

    // MARK: combinators

    mutating func checkCombinators(_ value: JSONValue, _ schema: [String: JSONValue], pointer: String) {
        if let branches = schema["allOf"]?.arrayValue {
            for branch in branches { validate(value, branch, pointer: pointer) }
        }
        if let branches = schema["anyOf"]?.arrayValue {
            let results = branches.map { branch in probe { $0.validate(value, branch, pointer: pointer) } }
            if !results.contains(where: \.isEmpty) {
                if let selected = selectedBranch(value, branches) {
                    violations += results[selected]
                } else {
                    fail(pointer, "anyOf", "value matches none of the \(branches.count) alternatives" + closest(results, branches))
                }
            }
        }
        if let branches = schema["oneOf"]?.arrayValue {
            let results = branches.map { branch in probe { $0.validate(value, branch, pointer: pointer) } }
            let matching = results.indices.filter { results[$0].isEmpty }
            if matching.isEmpty {
                if let selected = selectedBranch(value, branches) {
                    violations += results[selected]
                } else {
                    fail(pointer, "oneOf", "value matches none of the \(branches.count) alternatives" + closest(results, branches))
                }
            } else if matching.count > 1 {
                let names = matching.map { label(branches[$0], $0) }.joined(separator: ", ")
                fail(pointer, "oneOf", "value matches \(matching.count) alternatives (\(names)) but must match exactly one")
            }
        }
        if let negated = schema["not"] {
            if probe({ $0.validate(value, negated, pointer: pointer) }).isEmpty {
                fail(pointer, "not", "value must not match the schema in \"not\"")
            }
        }
        if let condition = schema["if"] {
            if probe({ $0.validate(value, condition, pointer: pointer) }).isEmpty {
                if let then = schema["then"] { validate(value, then, pointer: pointer) }
            } else if let otherwise = schema["else"] {
                validate(value, otherwise, pointer: pointer)
            }
        }
    }

    /// The one branch an object clearly meant: the only one whose required members are all present
    /// (a keyed enum case such as `{"deposit":{…}}`). Its own violations, with their precise
    /// pointers, then explain the failure better than "matches none of the alternatives".
    func selectedBranch(_ value: JSONValue, _ branches: [JSONValue]) -> Int? {
        guard let members = value.objectValue else { return nil }
        let candidates = branches.indices.filter { index in
            guard let required = branches[index]["required"]?.arrayValue, !required.isEmpty else { return false }
            return required.allSatisfy { $0.stringValue.map { members[$0] != nil } ?? false }
        }
        return candidates.count == 1 ? candidates[0] : nil
    }

    /// Names the branch with the fewest violations and its first violation.
    func closest(_ results: [[SchemaViolation]], _ branches: [JSONValue]) -> String {
        guard let best = results.indices.min(by: { results[$0].count < results[$1].count }),
            let first = results[best].first
        else { return "" }
        return "; closest is \(label(branches[best], best)), which fails with: \(first)"
    }

    func label(_ branch: JSONValue, _ index: Int) -> String {
        if let title = branch["title"]?.stringValue { return "alternative \(index) (\"\(title)\")" }
        return "alternative \(index)"
    }

    func brief(_ value: JSONValue) -> String {
        let text = value.serialized()
        return text.unicodeScalars.count > 60 ? String(text.unicodeScalars.prefix(57)) + "..." : text
    }
}
