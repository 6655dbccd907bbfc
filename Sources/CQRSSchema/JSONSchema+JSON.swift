// MARK: - JSON form

extension JSONSchema {
    /// The schema as a JSON value.
    public var json: JSONValue {
        var object = extra
        if let type {
            object["type"] = type.count == 1 ? .string(type[0].rawValue) : .array(type.map { .string($0.rawValue) })
        }
        if let title { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if let properties {
            var members: [String: JSONValue] = [:]
            for property in properties { members[property.name] = property.schema.json }
            object["properties"] = .object(members)
        }
        if let required { object["required"] = .array(required.map(JSONValue.string)) }
        switch additionalProperties {
        case .allowed(let flag): object["additionalProperties"] = .bool(flag)
        case .schema(let schema): object["additionalProperties"] = schema.json
        case nil: break
        }
        if let items { object["items"] = items.json }
        if let enumValues { object["enum"] = .array(enumValues) }
        if let const { object["const"] = const }
        if let anyOf { object["anyOf"] = .array(anyOf.map(\.json)) }
        if let oneOf { object["oneOf"] = .array(oneOf.map(\.json)) }
        if let allOf { object["allOf"] = .array(allOf.map(\.json)) }
        if let not { object["not"] = not.json }
        if let format { object["format"] = .string(format) }
        if let minimum { object["minimum"] = minimum.json }
        if let maximum { object["maximum"] = maximum.json }
        if let exclusiveMinimum { object["exclusiveMinimum"] = exclusiveMinimum.json }
        if let exclusiveMaximum { object["exclusiveMaximum"] = exclusiveMaximum.json }
        if let minLength { object["minLength"] = .int(minLength) }
        if let maxLength { object["maxLength"] = .int(maxLength) }
        if let pattern { object["pattern"] = .string(pattern) }
        if let minItems { object["minItems"] = .int(minItems) }
        if let maxItems { object["maxItems"] = .int(maxItems) }
        if let uniqueItems { object["uniqueItems"] = .bool(uniqueItems) }
        if let defaultValue { object["default"] = defaultValue }
        if let ref { object["$ref"] = .string(ref) }
        if let defs { object["$defs"] = .object(defs.mapValues(\.json)) }
        return .object(object)
    }

    /// Reads a schema from its JSON form.
    ///
    /// `true` reads as ``any`` and `false` as ``never``. Keywords this model does not know, or
    /// whose value has an unexpected shape, are kept in ``extra``. Returns `nil` when `json` is
    /// neither an object nor a boolean. Property order follows the keys' UTF-8 order, because
    /// ``JSONValue`` objects are unordered.
    public init?(json: JSONValue) {
        switch json {
        case .bool(true): self.init()
        case .bool(false): self = .never
        case .object(let object):
            self.init()
            for (key, value) in object where !read(key, value) {
                extra[key] = value
            }
        default: return nil
        }
    }

    /// Stores one keyword; returns false when the keyword is unknown or malformed.
    private mutating func read(_ key: String, _ value: JSONValue) -> Bool {
        func schemas(_ value: JSONValue) -> [JSONSchema]? {
            guard let array = value.arrayValue else { return nil }
            let parsed = array.compactMap(JSONSchema.init(json:))
            return parsed.count == array.count ? parsed : nil
        }
        func count(_ value: JSONValue) -> Int? {
            guard let number = value.intValue, number >= 0 else { return nil }
            return number
        }
        switch key {
        case "type":
            if let name = value.stringValue, let single = InstanceType(rawValue: name) {
                type = [single]
            } else if let names = value.arrayValue {
                let parsed = names.compactMap { $0.stringValue.flatMap(InstanceType.init(rawValue:)) }
                guard parsed.count == names.count else { return false }
                type = parsed
            } else {
                return false
            }
        case "title": guard let text = value.stringValue else { return false }; title = text
        case "description": guard let text = value.stringValue else { return false }; description = text
        case "format": guard let text = value.stringValue else { return false }; format = text
        case "pattern": guard let text = value.stringValue else { return false }; pattern = text
        case "$ref": guard let text = value.stringValue else { return false }; ref = text
        case "properties":
            guard let members = value.objectValue else { return false }
            var parsed: [Property] = []
            for name in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                guard let schema = JSONSchema(json: members[name]!) else { return false }
                parsed.append(Property(name, schema))
            }
            properties = parsed
        case "$defs":
            guard let members = value.objectValue else { return false }
            var parsed: [String: JSONSchema] = [:]
            for (name, member) in members {
                guard let schema = JSONSchema(json: member) else { return false }
                parsed[name] = schema
            }
            defs = parsed
        case "required":
            guard let names = value.arrayValue else { return false }
            let parsed = names.compactMap(\.stringValue)
            guard parsed.count == names.count else { return false }
            required = parsed
        case "additionalProperties":
            if let flag = value.boolValue {
                additionalProperties = .allowed(flag)
            } else if let schema = JSONSchema(json: value) {
                additionalProperties = .schema(schema)
            } else {
                return false
            }
        case "items": guard let schema = JSONSchema(json: value) else { return false }; items = schema
        case "not": guard let schema = JSONSchema(json: value) else { return false }; not = schema
        case "enum": guard let values = value.arrayValue else { return false }; enumValues = values
        case "const": const = value
        case "default": defaultValue = value
        case "anyOf": guard let list = schemas(value) else { return false }; anyOf = list
        case "oneOf": guard let list = schemas(value) else { return false }; oneOf = list
        case "allOf": guard let list = schemas(value) else { return false }; allOf = list
        case "minimum": guard let bound = Number(json: value) else { return false }; minimum = bound
        case "maximum": guard let bound = Number(json: value) else { return false }; maximum = bound
        case "exclusiveMinimum": guard let bound = Number(json: value) else { return false }; exclusiveMinimum = bound
        case "exclusiveMaximum": guard let bound = Number(json: value) else { return false }; exclusiveMaximum = bound
        case "minLength": guard let number = count(value) else { return false }; minLength = number
        case "maxLength": guard let number = count(value) else { return false }; maxLength = number
        case "minItems": guard let number = count(value) else { return false }; minItems = number
        case "maxItems": guard let number = count(value) else { return false }; maxItems = number
        case "uniqueItems": guard let flag = value.boolValue else { return false }; uniqueItems = flag
        default: return false
        }
        return true
    }
}
