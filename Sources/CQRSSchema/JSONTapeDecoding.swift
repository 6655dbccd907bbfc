import Foundation

// Decoding straight from JSON text: the strict parser's tape, read by `Decodable` types without a
// `JSONValue` tree in between. The rules are those of `decode(_:from: JSONValue)`, which the scalar
// readers and the special types (dates, URLs, data, decimals, `JSONValue`) share.

extension JSONValueDecoder {
    /// Decodes a value of `type` from UTF-8 JSON text, parsed as strictly as `JSONValue.parse`
    /// (duplicate keys, invalid UTF-8, leading zeros… are refused) but without building a ``JSONValue``
    /// tree: several times faster than parsing first, and than Foundation's `JSONDecoder`. Unlike a
    /// tree, the numeral's text is at hand: `Decimal`s and integers beyond 2⁵³ (a `UInt64` near its
    /// maximum) decode exactly, as with `JSONDecoder`.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - bytes: UTF-8 encoded JSON text.
    ///   - maxDepth: The deepest nesting accepted (Foundation's `JSONDecoder` accepts 512).
    /// - Throws: `DecodingError.dataCorrupted` (with the ``JSONParseError`` as its underlying error)
    ///   for text that is not JSON, or the `DecodingError` of the value that does not fit `type`.
    public func decode<T: Decodable>(_ type: T.Type, fromJSON bytes: some Collection<UInt8>, maxDepth: Int = 512) throws -> T {
        try TapeDecoder(document: document(bytes, maxDepth: maxDepth), index: 0).unbox(type)
    }

    /// Decodes each element of the JSON array in `bytes` as `type`: the same as decoding `[T]`
    /// (errors name the element), without the array's unkeyed container (a batch of stored events
    /// decodes this way).
    /// - Throws: as ``decode(_:fromJSON:maxDepth:)``; `DecodingError.typeMismatch` when the text is
    ///   not an array.
    public func decodeElements<T: Decodable>(_ type: T.Type, fromJSON bytes: some Collection<UInt8>, maxDepth: Int = 512) throws
        -> [T]
    {
        let document = try document(bytes, maxDepth: maxDepth)
        let tokens = document.tape.tokens
        guard tokens[0].kind == .array else { throw ValueDecoder.mismatch([JSONValue].self, document.scalar(at: 0), []) }
        var elements: [T] = []
        elements.reserveCapacity(tokens[0].end)
        var element = 1
        while element < tokens[0].next {
            elements.append(try TapeDecoder(document: document, index: element).unbox(type))
            element = tokens[element].next
        }
        return elements
    }

    private func document(_ bytes: some Collection<UInt8>, maxDepth: Int) throws -> TapeDocument {
        let input = Array(bytes)
        switch input.withUnsafeBufferPointer({ JSONParser.run($0, maxDepth: maxDepth) }) {
        case .failure(let error):
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)", underlyingError: error))
        case .success(let tape):
            return TapeDocument(options: self, input: input, tape: tape)
        }
    }
}

/// One parsed text, shared (immutable) by the decoders and containers reading it.
final class TapeDocument: Sendable {
    let options: JSONValueDecoder
    let input: [UInt8]
    let tape: JSONTape

    init(options: JSONValueDecoder, input: [UInt8], tape: JSONTape) {
        self.options = options
        self.input = input
        self.tape = tape
    }

    func kind(_ index: Int) -> JSONTape.Kind { tape.tokens[index].kind }

    /// The scalar at `index` as a `JSONValue`; a container as an empty one (enough to name what was found).
    func scalar(at index: Int) -> JSONValue {
        switch kind(index) {
        case .object: return .object([:])
        case .array: return .array([])
        case .int: return .int(tape.tokens[index].value)
        default: return input.withUnsafeBufferPointer { tape.value(at: index, in: $0) }
        }
    }

    /// The text of the number at `index`, or nil when it is not a number.
    func numeral(at index: Int) -> String? {
        let token = tape.tokens[index]
        guard token.kind == .int || token.kind == .double else { return nil }
        return input.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[token.start..<token.end]), as: UTF8.self) }
    }

    func bool(at index: Int) throws -> Bool { try ValueDecoder.bool(scalar(at: index), path(to: index)) }

    func text(at index: Int) throws -> String { try ValueDecoder.string(scalar(at: index), path(to: index)) }

    /// The integer at `index`: exact from the numeral when it is beyond `Int` (a `UInt64` near its
    /// maximum), otherwise on the terms of `JSONValue` trees (an integral `1.0` counts).
    func integer<T: FixedWidthInteger>(_ type: T.Type, at index: Int) throws -> T {
        let token = tape.tokens[index]
        if token.kind == .int, let exact = T(exactly: token.value) { return exact }
        if token.kind == .double, let numeral = numeral(at: index), let exact = T(numeral) { return exact }
        return try ValueDecoder.integer(type, scalar(at: index), path(to: index))
    }

    /// The double at `index`, read from the numeral as `JSONDecoder` reads it (`-0` keeps its sign, and
    /// a numeral just beyond `Int`'s range is not moved off it).
    func double(at index: Int) throws -> Double {
        if let numeral = numeral(at: index), let number = Double(numeral), number.isFinite { return number }
        return try ValueDecoder.double(scalar(at: index), path(to: index))
    }

    /// The float at `index`, rounded once from the numeral; one beyond `Float`'s range is refused.
    func float(at index: Int) throws -> Float {
        guard let numeral = numeral(at: index) else { return Float(try ValueDecoder.double(scalar(at: index), path(to: index))) }
        guard let number = Float(numeral), number.isFinite else {
            throw ValueDecoder.corrupted(path(to: index), "Parsed JSON number <\(numeral)> does not fit in Float.")
        }
        return number
    }

    func value(at index: Int) -> JSONValue { input.withUnsafeBufferPointer { tape.value(at: index, in: $0) } }

    func string(at index: Int) -> String { input.withUnsafeBufferPointer { tape.string(at: index, in: $0) } }

    func member(_ key: String, of index: Int) -> Int? {
        input.withUnsafeBufferPointer { tape.member(key, of: index, in: $0) }
    }

    /// The coding path from the root to the value at `target`, found by walking down the tape (only
    /// errors and the rare type that asks need it, so no decoder carries one).
    func path(to target: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var current = 0
        while current != target, current < target, target < tape.tokens[current].next {
            let token = tape.tokens[current]
            var child = current + 1
            var offset = 0
            if token.kind == .object {
                while child < token.next, target >= tape.tokens[child + 1].next { child = tape.tokens[child + 1].next }
                guard child < token.next else { break }
                path.append(AnyKey(stringValue: string(at: child)))
                current = child + 1
            } else {
                while child < token.next, target >= tape.tokens[child].next {
                    child = tape.tokens[child].next
                    offset += 1
                }
                guard child < token.next else { break }
                path.append(AnyKey(intValue: offset))
                current = child
            }
        }
        return path
    }
}

struct TapeDecoder: Decoder {
    let document: TapeDocument
    let index: Int
    var codingPath: [any CodingKey] { document.path(to: index) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func unbox<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Decimal.self, let numeral = document.numeral(at: index) {
            guard let decimal = Decimal(string: numeral, locale: Locale(identifier: "en_US_POSIX")) else {
                throw ValueDecoder.corrupted(codingPath, "Parsed JSON number <\(numeral)> does not fit in Decimal.")
            }
            return decimal as! T
        }
        // (The coding path is found by walking the tape: only an error may build it.)
        if let special = try ValueDecoder.special(type, document.value(at: index), options: document.options, codingPath) {
            return special
        }
        if let enumType = type as? any EnumCaseDecodable.Type { return try unboxEnum(enumType) as! T }
        return try T(from: self)
    }

    /// An enum of generated decoding (`@EventTypes`), read without `Codable`'s containers.
    private func unboxEnum<E: EnumCaseDecodable>(_ type: E.Type) throws -> E {
        try E(reading: TapeEnumCaseReader(document: document, index: index, cases: E.caseKeys, of: E.self))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard document.kind(index) == .object else {
            throw ValueDecoder.mismatch([String: JSONValue].self, document.scalar(at: index), codingPath)
        }
        return KeyedDecodingContainer(TapeKeyedDecoder<Key>(document: document, index: index))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard document.kind(index) == .array else {
            throw ValueDecoder.mismatch([JSONValue].self, document.scalar(at: index), codingPath)
        }
        return TapeUnkeyedDecoder(document: document, index: index)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { TapeSingleDecoder(decoder: self) }
}

private struct TapeKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let document: TapeDocument
    let index: Int
    /// A large object's members by key (a `[String: X]` of many entries would otherwise scan the
    /// object once per key); small objects are scanned, which is faster.
    let members: [String: Int]?

    init(document: TapeDocument, index: Int) {
        self.document = document
        self.index = index
        guard document.tape.tokens[index].end > 32 else {
            members = nil
            return
        }
        var members: [String: Int] = [:]
        members.reserveCapacity(document.tape.tokens[index].end)
        for key in document.tape.keys(of: index) { members[document.string(at: key)] = key + 1 }
        self.members = members
    }

    private func member(_ name: String) -> Int? {
        if let members { return members[name] }
        return document.member(name, of: index)
    }
    var codingPath: [any CodingKey] { document.path(to: index) }
    var allKeys: [Key] {
        // A plain loop: `compactMap` over an unspecialised `Key` looks up generic metadata per call.
        var keys: [Key] = []
        keys.reserveCapacity(document.tape.tokens[index].end)
        var current = index + 1
        while current < document.tape.tokens[index].next {
            if let key = Key(stringValue: document.string(at: current)) { keys.append(key) }
            current = document.tape.tokens[current + 1].next
        }
        return keys
    }

    func contains(_ key: Key) -> Bool { member(key.stringValue) != nil }

    private func value(_ key: Key) throws -> Int {
        guard let value = member(key.stringValue) else {
            throw DecodingError.keyNotFound(
                key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { document.kind(try value(key)) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try document.bool(at: value(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try document.text(at: value(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try document.double(at: value(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try document.float(at: value(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type, _ key: Key) throws -> T {
        try document.integer(type, at: value(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TapeDecoder(document: document, index: value(key)).unbox(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try TapeDecoder(document: document, index: value(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TapeDecoder(document: document, index: value(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try superDecoder(named: "super") }
    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder(named: key.stringValue) }

    private func superDecoder(named name: String) throws -> any Decoder {
        guard let index = member(name) else {
            // A missing member decodes as null, as from a `JSONValue` tree.
            return ValueDecoder(options: document.options, value: .null, codingPath: codingPath + [AnyKey(stringValue: name)])
        }
        return TapeDecoder(document: document, index: index)
    }
}

private struct TapeUnkeyedDecoder: UnkeyedDecodingContainer {
    let document: TapeDocument
    let index: Int
    /// The token of the next element.
    var element: Int
    var currentIndex = 0
    var codingPath: [any CodingKey] { document.path(to: index) }
    var count: Int? { document.tape.tokens[index].end }
    var isAtEnd: Bool { element >= document.tape.tokens[index].next }

    init(document: TapeDocument, index: Int) {
        self.document = document
        self.index = index
        element = index + 1
    }

    /// Runs `body` on the next element and moves past it only when `body` succeeds (as
    /// `JSONDecoder` does: `try? decode(Int.self)` that fails leaves the element for another try).
    private mutating func next<R>(_ type: Any.Type, _ body: (Int) throws -> R) throws -> R {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: codingPath + [AnyKey(intValue: currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        let result = try body(element)
        element = document.tape.tokens[element].next
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, document.kind(element) == .null else { return false }
        return try next(Never.self) { _ in true }
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type) { [document] in try document.bool(at: $0) } }
    mutating func decode(_ type: String.Type) throws -> String { try next(type) { [document] in try document.text(at: $0) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type) { [document] in try document.double(at: $0) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type) { [document] in try document.float(at: $0) } }
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
        try next(type) { [document] in try document.integer(type, at: $0) }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { [document] in try TapeDecoder(document: document, index: $0).unbox(type) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(type) { [document] in try TapeDecoder(document: document, index: $0).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([JSONValue].self) { [document] in try TapeDecoder(document: document, index: $0).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next(JSONValue.self) { [document] in TapeDecoder(document: document, index: $0) }
    }
}

private struct TapeSingleDecoder: SingleValueDecodingContainer {
    let decoder: TapeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.document.kind(decoder.index) == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.document.bool(at: decoder.index) }
    func decode(_ type: String.Type) throws -> String { try decoder.document.text(at: decoder.index) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.document.double(at: decoder.index) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.document.float(at: decoder.index) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.document.integer(type, at: decoder.index) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.document.integer(type, at: decoder.index) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.unbox(type) }
}
