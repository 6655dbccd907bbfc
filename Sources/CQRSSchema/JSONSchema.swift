/// A JSON Schema (draft 2020-12) with the keywords used to describe commands, events and tool
/// arguments.
///
/// Properties keep their declaration order in the model. ``json`` renders the schema as a
/// ``JSONValue``; serialize it with `sortedKeys: true` for byte-identical output across runs.
/// Keywords that the model has no field for are kept in ``extra``, so reading a schema with
/// ``init(json:)`` and rendering it again loses nothing.
public struct JSONSchema: Sendable, Hashable {
    /// A JSON type name, as used by the `type` keyword.
    public enum InstanceType: String, Sendable, Hashable, CaseIterable {
        case null, boolean, integer, number, string, array, object
    }

    /// A numeric bound that keeps integers exact.
    public enum Number: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
        case int(Int)
        case double(Double)

        public init(integerLiteral value: Int) { self = .int(value) }
        public init(floatLiteral value: Double) { self = .double(value) }

        /// The bound as JSON.
        public var json: JSONValue {
            switch self {
            case .int(let number): return .int(number)
            case .double(let number): return .double(number)
            }
        }

        init?(json: JSONValue) {
            switch json {
            case .int(let number): self = .int(number)
            case .double(let number): self = .double(number)
            default: return nil
            }
        }
    }

    /// One entry of `properties`.
    public struct Property: Sendable, Hashable {
        /// The member name.
        public var name: String
        /// The member's schema.
        public var schema: JSONSchema

        /// Creates a property entry.
        public init(_ name: String, _ schema: JSONSchema) {
            self.name = name
            self.schema = schema
        }
    }

    /// The value of `additionalProperties`.
    public indirect enum AdditionalProperties: Sendable, Hashable {
        /// `true` or `false`.
        case allowed(Bool)
        /// Members not named in `properties` must match this schema.
        case schema(JSONSchema)
    }

    // Recursive single-schema slots need indirection, which an indirect enum provides.
    private indirect enum Box: Sendable, Hashable {
        case schema(JSONSchema)
        var value: JSONSchema {
            switch self {
            case .schema(let schema): return schema
            }
        }
    }

    /// `type`: one type renders as a string, several as a list. `nil` leaves the type open.
    public var type: [InstanceType]?
    /// `title`.
    public var title: String?
    /// `description`.
    public var description: String?
    /// `properties`, in declaration order.
    public var properties: [Property]?
    /// `required`.
    public var required: [String]?
    /// `additionalProperties`.
    public var additionalProperties: AdditionalProperties?
    private var itemsBox: Box?
    /// `enum`.
    public var enumValues: [JSONValue]?
    /// `const`.
    public var const: JSONValue?
    /// `anyOf`.
    public var anyOf: [JSONSchema]?
    /// `oneOf`.
    public var oneOf: [JSONSchema]?
    /// `allOf`.
    public var allOf: [JSONSchema]?
    private var notBox: Box?
    /// `format` (an annotation; validators do not assert it).
    public var format: String?
    /// `minimum`.
    public var minimum: Number?
    /// `maximum`.
    public var maximum: Number?
    /// `exclusiveMinimum`.
    public var exclusiveMinimum: Number?
    /// `exclusiveMaximum`.
    public var exclusiveMaximum: Number?
    /// `minLength`, in Unicode scalars.
    public var minLength: Int?
    /// `maxLength`, in Unicode scalars.
    public var maxLength: Int?
    /// `pattern`, an ECMA 262 regular expression.
    public var pattern: String?
    /// `minItems`.
    public var minItems: Int?
    /// `maxItems`.
    public var maxItems: Int?
    /// `uniqueItems`.
    public var uniqueItems: Bool?
    /// `default`.
    public var defaultValue: JSONValue?
    /// `$ref`, such as `#/$defs/Name`.
    public var ref: String?
    /// `$defs`.
    public var defs: [String: JSONSchema]?
    /// Any other keywords, rendered as given.
    public var extra: [String: JSONValue] = [:]

    /// `items`.
    public var items: JSONSchema? {
        get { itemsBox?.value }
        set { itemsBox = newValue.map(Box.schema) }
    }

    /// `not`.
    public var not: JSONSchema? {
        get { notBox?.value }
        set { notBox = newValue.map(Box.schema) }
    }

    /// The empty schema `{}`, which accepts any value.
    public init() {}

    /// Creates a schema constraining the type only.
    public init(type: InstanceType...) {
        self.type = type
    }
}

// MARK: - Builders

extension JSONSchema {
    /// Any value: `{}`.
    public static var any: JSONSchema { JSONSchema() }

    /// No value: `{"not":{}}`.
    public static var never: JSONSchema {
        var schema = JSONSchema()
        schema.not = JSONSchema()
        return schema
    }

    /// `{"type":"null"}`.
    public static var null: JSONSchema { JSONSchema(type: .null) }

    /// `{"type":"boolean"}`.
    public static var boolean: JSONSchema { JSONSchema(type: .boolean) }

    /// `{"type":"string"}`.
    public static var string: JSONSchema { JSONSchema(type: .string) }

    /// `{"type":"integer"}`.
    public static var integer: JSONSchema { JSONSchema(type: .integer) }

    /// `{"type":"number"}`.
    public static var number: JSONSchema { JSONSchema(type: .number) }

    /// A string schema with optional constraints.
    public static func string(
        format: String? = nil, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        description: String? = nil
    ) -> JSONSchema {
        var schema = JSONSchema(type: .string)
        schema.format = format
        schema.pattern = pattern
        schema.minLength = minLength
        schema.maxLength = maxLength
        schema.description = description
        return schema
    }

    /// An integer schema with optional bounds.
    public static func integer(minimum: Number? = nil, maximum: Number? = nil, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(type: .integer)
        schema.minimum = minimum
        schema.maximum = maximum
        schema.description = description
        return schema
    }

    /// A number schema with optional bounds.
    public static func number(minimum: Number? = nil, maximum: Number? = nil, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(type: .number)
        schema.minimum = minimum
        schema.maximum = maximum
        schema.description = description
        return schema
    }

    /// A string that must be one of `values`.
    public static func stringEnum(_ values: [String], description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(type: .string)
        schema.enumValues = values.map(JSONValue.string)
        schema.description = description
        return schema
    }

    /// An integer that must be one of `values`.
    public static func integerEnum(_ values: [Int], description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(type: .integer)
        schema.enumValues = values.map(JSONValue.int)
        schema.description = description
        return schema
    }

    /// Exactly `value`.
    public static func constant(_ value: JSONValue) -> JSONSchema {
        var schema = JSONSchema()
        schema.const = value
        return schema
    }

    /// An array whose elements match `items`.
    public static func array(
        of items: JSONSchema, minItems: Int? = nil, maxItems: Int? = nil, uniqueItems: Bool? = nil,
        description: String? = nil
    ) -> JSONSchema {
        var schema = JSONSchema(type: .array)
        schema.items = items
        schema.minItems = minItems
        schema.maxItems = maxItems
        schema.uniqueItems = uniqueItems
        schema.description = description
        return schema
    }

    /// An object with the given properties, in order.
    ///
    /// Unknown members are rejected unless `additionalProperties` says otherwise.
    public static func object(
        properties: KeyValuePairs<String, JSONSchema>, required: [String] = [],
        additionalProperties: AdditionalProperties = .allowed(false), description: String? = nil
    ) -> JSONSchema {
        object(
            orderedProperties: properties.map { Property($0.key, $0.value) }, required: required,
            additionalProperties: additionalProperties, description: description)
    }

    /// An object with the given properties, in order.
    public static func object(
        orderedProperties: [Property], required: [String] = [],
        additionalProperties: AdditionalProperties = .allowed(false), description: String? = nil
    ) -> JSONSchema {
        var schema = JSONSchema(type: .object)
        schema.properties = orderedProperties
        schema.required = required.isEmpty ? nil : required
        schema.additionalProperties = additionalProperties
        schema.description = description
        return schema
    }

    /// An object whose members all match `values`, keyed by arbitrary strings.
    public static func dictionary(of values: JSONSchema, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(type: .object)
        schema.additionalProperties = .schema(values)
        schema.description = description
        return schema
    }

    /// A value matching at least one of `schemas`.
    public static func anyOf(_ schemas: [JSONSchema], description: String? = nil) -> JSONSchema {
        var schema = JSONSchema()
        schema.anyOf = schemas
        schema.description = description
        return schema
    }

    /// A value matching exactly one of `schemas`.
    public static func oneOf(_ schemas: [JSONSchema], description: String? = nil) -> JSONSchema {
        var schema = JSONSchema()
        schema.oneOf = schemas
        schema.description = description
        return schema
    }

    /// A reference to `#/$defs/name`.
    public static func ref(_ name: String) -> JSONSchema {
        var schema = JSONSchema()
        schema.ref = "#/$defs/" + name.jsonPointerEscaped
        return schema
    }

    /// `wrapped`, or `null`.
    ///
    /// A plain typed schema gains `"null"` in its type list (and in its `enum`, if any), which
    /// reads better for language models than a wrapping `anyOf`; other schemas are wrapped.
    public static func optional(_ wrapped: JSONSchema) -> JSONSchema {
        if wrapped.acceptsNullTrivially { return wrapped }
        if var types = wrapped.type, !types.isEmpty, wrapped.const == nil, wrapped.ref == nil, wrapped.anyOf == nil,
            wrapped.oneOf == nil, wrapped.allOf == nil, wrapped.not == nil
        {
            var schema = wrapped
            types.append(.null)
            schema.type = types
            if schema.enumValues != nil, !schema.enumValues!.contains(.null) {
                schema.enumValues!.append(.null)
            }
            return schema
        }
        var schema = JSONSchema()
        schema.anyOf = [wrapped, .null]
        return schema
    }

    /// Whether the schema obviously accepts `null`: it is empty, or lists `"null"` as a type
    /// without narrowing further.
    private var acceptsNullTrivially: Bool {
        if self == JSONSchema() { return true }
        guard let type, type.contains(.null) else { return false }
        return (enumValues == nil || enumValues!.contains(.null)) && const == nil && ref == nil && anyOf == nil
            && oneOf == nil && allOf == nil && not == nil
    }

    /// A copy with `description` replaced.
    public func describedAs(_ description: String?) -> JSONSchema {
        var schema = self
        schema.description = description
        return schema
    }

    /// A copy with `title` replaced.
    public func titled(_ title: String?) -> JSONSchema {
        var schema = self
        schema.title = title
        return schema
    }
}

extension String {
    /// The string escaped for use as one JSON Pointer reference token (RFC 6901).
    var jsonPointerEscaped: String {
        guard contains("~") || contains("/") else { return self }
        return replacing("~", with: "~0").replacing("/", with: "~1")
    }
}
