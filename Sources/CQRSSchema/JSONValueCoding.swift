import Foundation

// Codable straight to and from `JSONValue`, without a round trip through JSON text: what
// `JSONEncoder` + `JSONDecoder` give, at a fraction of the cost (tool arguments, read models and
// tool results cross this boundary on every call).
//
// It follows `JSONEncoder`/`JSONDecoder` defaults, except that dates go through the given
// strategies, and integers may be decoded from integral doubles (`1.0`), as JSON Schema's
// `integer` accepts them. Like the JSON text parser, it keeps integers exactly within `Int`'s range;
// a `UInt64` above `Int.max` becomes a double.

/// Encodes `Encodable` values into a ``JSONValue``.
public struct JSONValueEncoder: Sendable {
    /// How dates are written (as `JSONEncoder` does by default when nil: seconds since 2001).
    public var dateEncoding: (@Sendable (Date) -> JSONValue)?

    /// An encoder.
    public init(dateEncoding: (@Sendable (Date) -> JSONValue)? = nil) {
        self.dateEncoding = dateEncoding
    }

    /// The JSON form of a value.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        try ValueEncoder(options: self, codingPath: []).box(value)
    }
}

// MARK: - Encoding

/// What an encoder writes into: an object or an array whose members are finished values, or
/// boxes still being filled by nested containers.
private final class Box {
    enum Node {
        case value(JSONValue)
        case box(Box)
    }

    var scalar: JSONValue?
    var members: [String: Node]?
    var elements: [Node]?

    init(scalar: JSONValue? = nil, members: [String: Node]? = nil, elements: [Node]? = nil) {
        self.scalar = scalar
        self.members = members
        self.elements = elements
    }

    func finish() -> JSONValue {
        func resolve(_ node: Node) -> JSONValue {
            switch node {
            case .value(let value): value
            case .box(let box): box.finish()
            }
        }
        if let members { return .object(members.mapValues(resolve)) }
        if let elements { return .array(elements.map(resolve)) }
        return scalar ?? .object([:])
    }
}

struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private final class ValueEncoder: Encoder {
    let options: JSONValueEncoder
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var box: Box?

    init(options: JSONValueEncoder, codingPath: [any CodingKey], box: Box? = nil) {
        self.options = options
        self.codingPath = codingPath
        self.box = box
    }

    /// Encodes a value, handling the types `JSONEncoder` treats specially.
    func box(_ value: some Encodable) throws -> JSONValue {
        switch value {
        case let json as JSONValue: return json
        case let date as Date:
            if let encode = options.dateEncoding { return encode(date) }
            return try Self.number(date.timeIntervalSinceReferenceDate, codingPath)
        case let url as URL: return .string(url.absoluteString)
        case let data as Data: return .string(data.base64EncodedString())
        case let decimal as Decimal:
            if let exact = Int(exactly: NSDecimalNumber(decimal: decimal).doubleValue), Decimal(exact) == decimal {
                return .int(exact)
            }
            return .double(NSDecimalNumber(decimal: decimal).doubleValue)
        default:
            let encoder = ValueEncoder(options: options, codingPath: codingPath)
            try value.encode(to: encoder)
            return encoder.box?.finish() ?? .object([:])
        }
    }

    // A box handed in by a parent (nested or super encoder) is filled in place, so the parent sees it.
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let target = box ?? Box()
        if target.members == nil { target.members = [:] }
        box = target
        return KeyedEncodingContainer(KeyedEncoder<Key>(encoder: self, box: target))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let target = box ?? Box()
        if target.elements == nil { target.elements = [] }
        box = target
        return UnkeyedEncoder(encoder: self, box: target)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(encoder: self) }

    func child(_ key: any CodingKey, box: Box? = nil) -> ValueEncoder {
        ValueEncoder(options: options, codingPath: codingPath + [key], box: box)
    }

    static func integer(_ value: some BinaryInteger) -> JSONValue {
        Int(exactly: value).map(JSONValue.int) ?? .double(Double(value))
    }

    static func number(_ value: Double, _ path: [any CodingKey]) throws -> JSONValue {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: path, debugDescription: "Unable to encode \(value) directly in JSON."))
        }
        // JSONEncoder writes 2.0 as `2`, which reads back as an integer: give the same value.
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992, !(value == 0 && value.sign == .minus) {
            return .int(Int(value))
        }
        return .double(value)
    }
}

private struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: ValueEncoder
    let box: Box
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ key: Key, _ value: JSONValue) { box.members![key.stringValue] = .value(value) }

    mutating func encodeNil(forKey key: Key) throws { set(key, .null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(key, .bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(key, .string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        set(key, try ValueEncoder.number(value, codingPath + [key]))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        set(key, try ValueEncoder.number(Double(value), codingPath + [key]))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(key, .int(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(key, ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(key, ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(key, .int(Int(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(key, ValueEncoder.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(key, try encoder.child(key).box(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        let nested = Box(members: [:])
        box.members![key.stringValue] = .box(nested)
        return encoder.child(key, box: nested).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = Box(elements: [])
        box.members![key.stringValue] = .box(nested)
        return encoder.child(key, box: nested).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { nestedEncoder(AnyKey(stringValue: "super")) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { nestedEncoder(key) }

    private func nestedEncoder(_ key: any CodingKey) -> any Encoder {
        let nested = Box()
        box.members![key.stringValue] = .box(nested)
        return encoder.child(key, box: nested)
    }
}

private struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let encoder: ValueEncoder
    let box: Box
    var codingPath: [any CodingKey] { encoder.codingPath }
    var count: Int { box.elements!.count }

    private func append(_ value: JSONValue) { box.elements!.append(.value(value)) }
    private var nextKey: AnyKey { AnyKey(intValue: count) }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try ValueEncoder.number(value, codingPath + [nextKey])) }
    mutating func encode(_ value: Float) throws { append(try ValueEncoder.number(Double(value), codingPath + [nextKey])) }
    mutating func encode(_ value: Int) throws { append(.int(value)) }
    mutating func encode(_ value: Int8) throws { append(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { append(ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt) throws { append(ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int(value))) }
    mutating func encode(_ value: UInt64) throws { append(ValueEncoder.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try encoder.child(nextKey).box(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = Box(members: [:])
        let key = nextKey
        box.elements!.append(.box(nested))
        return encoder.child(key, box: nested).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = Box(elements: [])
        let key = nextKey
        box.elements!.append(.box(nested))
        return encoder.child(key, box: nested).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let nested = Box()
        let key = nextKey
        box.elements!.append(.box(nested))
        return encoder.child(key, box: nested)
    }
}

private struct SingleEncoder: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ value: JSONValue) {
        let target = encoder.box ?? Box()
        target.scalar = value
        encoder.box = target
    }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try ValueEncoder.number(value, codingPath)) }
    mutating func encode(_ value: Float) throws { set(try ValueEncoder.number(Double(value), codingPath)) }
    mutating func encode(_ value: Int) throws { set(.int(value)) }
    mutating func encode(_ value: Int8) throws { set(.int(Int(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int(value))) }
    mutating func encode(_ value: Int64) throws { set(ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(ValueEncoder.integer(value)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int(value))) }
    mutating func encode(_ value: UInt64) throws { set(ValueEncoder.integer(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { set(try encoder.box(value)) }
}
