// Enums decoded in the format Swift synthesizes for them (`{"case":{"label":value}}`) by code that
// `@EventTypes` generates from the case list: one `init(reading:)` serves both `Decoder`s in general
// (through ``CodableEnumCaseReader``) and the JSON tape, which it reads without `Codable`'s
// container boxes (about half of an event replay's time went to them).

/// An enum whose `init(from:)` reads Swift's synthesized enum format through an ``EnumCaseReader``.
/// `@EventTypes` conforms event enums to it; write it by hand only to match that format exactly.
public protocol EnumCaseDecodable: Decodable {
    /// The coding keys of the cases, in the order ``EnumCaseReader/caseIndex`` counts them.
    static var caseKeys: [String] { get }

    /// Builds the case at `reader.caseIndex` from the associated values `reader` decodes.
    init(reading reader: some EnumCaseReader) throws
}

/// One encoded enum value whose case has been found: decodes that case's associated values.
public protocol EnumCaseReader {
    /// The index in ``EnumCaseDecodable/caseKeys`` of the one case key the value holds.
    var caseIndex: Int { get }

    /// The associated value under `key` (its label, or `_0`, `_1`… when unlabeled). An `Optional`
    /// type, however spelled, decodes as the synthesized code's `decodeIfPresent`: nil when missing.
    /// - Throws: `DecodingError.keyNotFound` when a required value is missing, or the value's own error.
    func decode<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T
}

extension EnumCaseReader {
    /// ``decode(_:forKey:)`` with the type inferred from the associated value it builds (the code
    /// `@EventTypes` generates names no types, which an extension could not always resolve).
    public func decode<T: Decodable>(forKey key: String) throws -> T { try decode(T.self, forKey: key) }
}

/// nil as a `T` when `T` is an `Optional`, otherwise the error of a missing value.
private func absentValue<T>(_ type: T.Type, key: String, _ codingPath: @autoclosure () -> [any CodingKey]) throws -> T {
    if let optional = type as? any OptionalMarker.Type, let none = optional.absent as? T { return none }
    throw DecodingError.keyNotFound(
        AnyKey(stringValue: key), .init(codingPath: codingPath(), debugDescription: "No value associated with key \(key)."))
}

/// Reads an enum value from any `Decoder`, as the synthesized `init(from:)` does: exactly one of
/// the keys must name a case (other keys are ignored), and its value must be an object.
public struct CodableEnumCaseReader: EnumCaseReader {
    public let caseIndex: Int
    private let values: KeyedDecodingContainer<AnyKey>

    /// Finds the case of the value `decoder` holds.
    /// - Throws: `DecodingError.typeMismatch` unless exactly one key names one of `cases`.
    public init(_ decoder: any Decoder, cases: [String], of type: Any.Type) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        var found: [(key: AnyKey, index: Int)] = []
        for key in container.allKeys {
            if let index = cases.firstIndex(of: key.stringValue) { found.append((key, index)) }
        }
        guard found.count == 1 else { throw enumKeyCountMismatch(type, container.codingPath) }
        values = try container.nestedContainer(keyedBy: AnyKey.self, forKey: found[0].key)
        caseIndex = found[0].index
    }

    public func decode<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T {
        let codingKey = AnyKey(stringValue: key)
        guard values.contains(codingKey) else { return try absentValue(type, key: key, values.codingPath) }
        return try values.decode(type, forKey: codingKey)
    }
}

/// The synthesized `init(from:)`'s error for a value that does not hold exactly one case key.
private func enumKeyCountMismatch(_ type: Any.Type, _ codingPath: [any CodingKey]) -> DecodingError {
    DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Invalid number of keys found, expected one."))
}

/// An enum value on the tape: the object at `index`, whose one case member's object is `values`.
struct TapeEnumCaseReader: EnumCaseReader {
    let document: TapeDocument
    let values: Int
    let caseIndex: Int

    init(document: TapeDocument, index: Int, cases: [String], of type: Any.Type) throws {
        guard document.kind(index) == .object else {
            throw ValueDecoder.mismatch([String: JSONValue].self, document.scalar(at: index), document.path(to: index))
        }
        let tape = document.tape
        var found: (value: Int, index: Int)?
        var count = 0
        document.input.withUnsafeBufferPointer { input in
            var key = index + 1
            while key < tape.tokens[index].next {
                if let match = cases.firstIndex(where: { tape.string(at: key, in: input, equals: $0) }) {
                    found = (key + 1, match)
                    count += 1
                }
                key = tape.tokens[key + 1].next
            }
        }
        guard count == 1, let found else { throw enumKeyCountMismatch(type, document.path(to: index)) }
        guard document.kind(found.value) == .object else {
            throw ValueDecoder.mismatch([String: JSONValue].self, document.scalar(at: found.value), document.path(to: found.value))
        }
        self.document = document
        values = found.value
        caseIndex = found.index
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T {
        guard let value = document.member(key, of: values) else { return try absentValue(type, key: key, document.path(to: values)) }
        return try decode(type, at: value)
    }

    /// The common scalar types straight from the tape; anything else through its `Decodable`.
    private func decode<T: Decodable>(_ type: T.Type, at value: Int) throws -> T {
        if T.self == Int.self { return unsafeBitCast(try document.integer(Int.self, at: value), to: T.self) }
        if T.self == String.self { return unsafeBitCast(try document.text(at: value), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try document.bool(at: value), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try document.double(at: value), to: T.self) }
        return try TapeDecoder(document: document, index: value).unbox(type)
    }
}
