/// Finds U+0000 in any string (or key) a value encodes, without building its JSON: the in-memory
/// store keeps events typed, and must refuse what PostgreSQL cannot store at the cost of one walk.
struct NULScanner {
    /// Whether a string or key of `value`'s encoding holds U+0000.
    static func containsNUL(_ value: some Encodable) throws -> Bool {
        let encoder = ScanningEncoder()
        try value.encode(to: encoder)
        return encoder.found
    }
}

private final class ScanningEncoder: Encoder {
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var found = false

    func note(_ text: String) { if !found, text.containsNUL { found = true } }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed(encoder: self))
    }
    func unkeyedContainer() -> any UnkeyedEncodingContainer { Unkeyed(encoder: self) }
    func singleValueContainer() -> any SingleValueEncodingContainer { Single(encoder: self) }

    private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ScanningEncoder
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws { encoder.note(key.stringValue) }
        mutating func encode(_ value: String, forKey key: Key) throws {
            encoder.note(key.stringValue)
            encoder.note(value)
        }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            encoder.note(key.stringValue)
            if let text = value as? String { encoder.note(text) } else { try value.encode(to: encoder) }
        }
        mutating func encode(_ value: Bool, forKey key: Key) throws { encoder.note(key.stringValue) }
        mutating func encode(_ value: Int, forKey key: Key) throws { encoder.note(key.stringValue) }
        mutating func encode(_ value: Double, forKey key: Key) throws { encoder.note(key.stringValue) }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            encoder.note(key.stringValue)
            return KeyedEncodingContainer(Keyed<NestedKey>(encoder: encoder))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            encoder.note(key.stringValue)
            return Unkeyed(encoder: encoder)
        }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder {
            encoder.note(key.stringValue)
            return encoder
        }
    }

    private struct Unkeyed: UnkeyedEncodingContainer {
        let encoder: ScanningEncoder
        var codingPath: [any CodingKey] { [] }
        var count = 0
        mutating func encodeNil() throws { count += 1 }
        mutating func encode(_ value: String) throws {
            count += 1
            encoder.note(value)
        }
        mutating func encode<T: Encodable>(_ value: T) throws {
            count += 1
            if let text = value as? String { encoder.note(text) } else { try value.encode(to: encoder) }
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            count += 1
            return KeyedEncodingContainer(Keyed<NestedKey>(encoder: encoder))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            count += 1
            return Unkeyed(encoder: encoder)
        }
        mutating func superEncoder() -> any Encoder { encoder }
    }

    private struct Single: SingleValueEncodingContainer {
        let encoder: ScanningEncoder
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() throws {}
        mutating func encode(_ value: Bool) throws {}
        mutating func encode(_ value: String) throws { encoder.note(value) }
        mutating func encode(_ value: Double) throws {}
        mutating func encode(_ value: Float) throws {}
        mutating func encode(_ value: Int) throws {}
        mutating func encode(_ value: Int8) throws {}
        mutating func encode(_ value: Int16) throws {}
        mutating func encode(_ value: Int32) throws {}
        mutating func encode(_ value: Int64) throws {}
        mutating func encode(_ value: UInt) throws {}
        mutating func encode(_ value: UInt8) throws {}
        mutating func encode(_ value: UInt16) throws {}
        mutating func encode(_ value: UInt32) throws {}
        mutating func encode(_ value: UInt64) throws {}
        mutating func encode<T: Encodable>(_ value: T) throws {
            if let text = value as? String { encoder.note(text) } else { try value.encode(to: encoder) }
        }
    }
}
