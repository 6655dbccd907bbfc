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

/// Decodes `Decodable` values from a ``JSONValue``.
public struct JSONValueDecoder: Sendable {
    /// How dates are read (seconds since 2001 when nil, as `JSONDecoder` by default).
    public var dateDecoding: (@Sendable (JSONValue) throws -> Date)?

    /// A decoder.
    public init(dateDecoding: (@Sendable (JSONValue) throws -> Date)? = nil) {
        self.dateDecoding = dateDecoding
    }

    /// Decodes a value of `type` from `json`.
    public func decode<T: Decodable>(_ type: T.Type, from json: JSONValue) throws -> T {
        try ValueDecoder(options: self, value: json, codingPath: []).unbox(type)
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

private struct AnyKey: CodingKey {
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

// MARK: - Decoding

private struct ValueDecoder: Decoder {
    let options: JSONValueDecoder
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if type == JSONValue.self { return value as! T }
        if type == Date.self {
            if let decode = options.dateDecoding { return try decode(value) as! T }
            return Date(timeIntervalSinceReferenceDate: try Self.double(value, codingPath)) as! T
        }
        if type == URL.self {
            guard let text = value.stringValue, let url = URL(string: text) else {
                throw Self.corrupted(codingPath, "Invalid URL string.")
            }
            return url as! T
        }
        if type == Data.self {
            guard let text = value.stringValue, let data = Data(base64Encoded: text) else {
                throw Self.corrupted(codingPath, "Encountered Data is not valid Base64.")
            }
            return data as! T
        }
        if type == Decimal.self {
            guard let number = value.doubleValue else { throw Self.mismatch(Decimal.self, value, codingPath) }
            if case .int(let integer) = value { return Decimal(integer) as! T }
            return Decimal(number) as! T
        }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw Self.mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedDecoder<Key>(decoder: self, members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw Self.mismatch([JSONValue].self, value, codingPath) }
        return UnkeyedDecoder(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleDecoder(decoder: self) }

    func child(_ value: JSONValue, _ key: any CodingKey) -> ValueDecoder {
        ValueDecoder(options: options, value: value, codingPath: codingPath + [key])
    }

    // MARK: Scalars

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        let found: String
        switch value {
        case .null: found = "null"
        case .bool: found = "a boolean"
        case .int, .double: found = "a number"
        case .string: found = "a string"
        case .array: found = "an array"
        case .object: found = "an object"
        }
        if value == .null {
            return DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "Expected \(type) value but found null instead."))
        }
        return DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }

    static func corrupted(_ path: [any CodingKey], _ message: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: message))
    }

    static func bool(_ value: JSONValue, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(Bool.self, value, path) }
        return flag
    }

    static func string(_ value: JSONValue, _ path: [any CodingKey]) throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self, value, path) }
        return text
    }

    static func double(_ value: JSONValue, _ path: [any CodingKey]) throws -> Double {
        guard let number = value.doubleValue else { throw mismatch(Double.self, value, path) }
        return number
    }

    /// An integer; an integral double (`1.0`) counts, as JSON Schema's `integer` accepts it, below
    /// 2⁵³ only: beyond it a double may stand for another integer (`9007199254740993.0` reads as
    /// 2⁵³), and a silently different amount is worse than a refusal.
    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, _ path: [any CodingKey]) throws -> T {
        switch value {
        case .int(let number):
            guard let exact = T(exactly: number) else {
                throw corrupted(path, "Parsed JSON number <\(number)> does not fit in \(T.self).")
            }
            return exact
        case .double(let number):
            guard number.rounded() == number, abs(number) < 0x1p53, let exact = T(exactly: number) else {
                throw corrupted(path, "Parsed JSON number <\(number)> does not fit in \(T.self).")
            }
            return exact
        default:
            throw mismatch(T.self, value, path)
        }
    }
}

private struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: ValueDecoder
    let members: [String: JSONValue]
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func value(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try ValueDecoder.bool(value(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try ValueDecoder.string(value(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try ValueDecoder.double(value(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try ValueDecoder.double(value(key), codingPath + [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try ValueDecoder.integer(type, value(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(value(key), key).unbox(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try decoder.child(value(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(value(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder.child(members["super"] ?? .null, AnyKey(stringValue: "super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(members[key.stringValue] ?? .null, key) }
}

private struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let decoder: ValueDecoder
    let elements: [JSONValue]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    init(decoder: ValueDecoder, elements: [JSONValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    private var key: AnyKey { AnyKey(intValue: currentIndex) }

    private mutating func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [key], debugDescription: "Unkeyed container is at end."))
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let path = codingPath + [key]; return try ValueDecoder.bool(next(type), path) }
    mutating func decode(_ type: String.Type) throws -> String { let path = codingPath + [key]; return try ValueDecoder.string(next(type), path) }
    mutating func decode(_ type: Double.Type) throws -> Double { let path = codingPath + [key]; return try ValueDecoder.double(next(type), path) }
    mutating func decode(_ type: Float.Type) throws -> Float { let path = codingPath + [key]; return Float(try ValueDecoder.double(next(type), path)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let path = codingPath + [key]
        return try ValueDecoder.integer(type, next(type), path)
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let key = self.key
        return try decoder.child(next(type), key).unbox(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let key = self.key
        return try decoder.child(next(type), key).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let key = self.key
        return try decoder.child(next([JSONValue].self), key).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let key = self.key
        return decoder.child(try next(JSONValue.self), key)
    }
}

private struct SingleDecoder: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var value: JSONValue { decoder.value }

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try ValueDecoder.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try ValueDecoder.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try ValueDecoder.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try ValueDecoder.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try ValueDecoder.integer(type, value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try ValueDecoder.integer(type, value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
}
