import CQRS
import CQRSSchema
import Foundation

/// A BSON value: the subset of the BSON specification the store writes, plus what it may read back
/// from a server (object ids, timestamps and the like are kept opaque).
enum BSON: Sendable, Hashable {
    case double(Double)
    case string(String)
    case document(BSONDocument)
    case array([BSON])
    case bool(Bool)
    case null
    case int32(Int32)
    case int64(Int64)
    case datetime(Int64)
    /// Any other type, kept as its type byte and raw bytes.
    case other(UInt8, [UInt8])

    /// An integer value of any integer width (doubles that are integral too).
    var int64: Int64? {
        switch self {
        case .int32(let value): Int64(value)
        case .int64(let value): value
        case .double(let value): Int64(exactly: value)
        default: nil
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var document: BSONDocument? { if case .document(let value) = self { value } else { nil } }
    var array: [BSON]? { if case .array(let value) = self { value } else { nil } }

    /// A JSON scalar or composite as BSON (integers as int64, so the type never depends on the size).
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int64(Int64(number))
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items): self = .array(items.map(BSON.init))
        case .object(let fields): self = .document(BSONDocument(fields.sorted { $0.key < $1.key }.map { ($0.key, BSON($0.value)) }))
        }
    }
}

/// An ordered BSON document (order matters to MongoDB: the command name comes first).
struct BSONDocument: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    private(set) var fields: [Field]

    struct Field: Sendable, Hashable {
        var name: String
        var value: BSON
    }

    init(_ pairs: [(String, BSON)] = []) { fields = pairs.map { Field(name: $0.0, value: $0.1) } }
    init(dictionaryLiteral elements: (String, BSON)...) { self.init(elements) }

    subscript(name: String) -> BSON? {
        get { fields.first { $0.name == name }?.value }
        set {
            if let index = fields.firstIndex(where: { $0.name == name }) {
                if let newValue { fields[index].value = newValue } else { fields.remove(at: index) }
            } else if let newValue {
                fields.append(Field(name: name, value: newValue))
            }
        }
    }
}

extension BSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByDictionaryLiteral {
    init(dictionaryLiteral elements: (String, BSON)...) { self = .document(BSONDocument(elements)) }
    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int64) { self = .int64(value) }
}

// MARK: - Encoding

extension BSONDocument {
    /// The document's BSON bytes.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        Self.write(self, into: &out)
        return out
    }

    fileprivate static func write(_ document: BSONDocument, into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        for field in document.fields { writeElement(field.name, field.value, into: &out) }
        out.append(0)
        patchLength(at: start, in: &out)
    }

    private static func writeArray(_ items: [BSON], into out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0])
        for (index, item) in items.enumerated() { writeElement(String(index), item, into: &out) }
        out.append(0)
        patchLength(at: start, in: &out)
    }

    private static func patchLength(at start: Int, in out: inout [UInt8]) {
        let length = UInt32(out.count - start)
        for i in 0..<4 { out[start + i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
    }

    private static func writeElement(_ name: String, _ value: BSON, into out: inout [UInt8]) {
        out.append(value.typeByte)
        out.append(contentsOf: name.utf8)
        out.append(0)
        switch value {
        case .double(let number): append(number.bitPattern, to: &out)
        case .string(let text):
            append(UInt32(text.utf8.count + 1), to: &out)
            out.append(contentsOf: text.utf8)
            out.append(0)
        case .document(let document): write(document, into: &out)
        case .array(let items): writeArray(items, into: &out)
        case .bool(let flag): out.append(flag ? 1 : 0)
        case .null: break
        case .int32(let number): append(UInt32(bitPattern: number), to: &out)
        case .int64(let number), .datetime(let number): append(UInt64(bitPattern: number), to: &out)
        case .other(_, let raw): out.append(contentsOf: raw)
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}

extension BSON {
    fileprivate var typeByte: UInt8 {
        switch self {
        case .double: 0x01
        case .string: 0x02
        case .document: 0x03
        case .array: 0x04
        case .bool: 0x08
        case .null: 0x0A
        case .int32: 0x10
        case .int64: 0x12
        case .datetime: 0x09
        case .other(let type, _): type
        }
    }
}

// MARK: - Decoding

/// Reads BSON bytes; every length is checked against the buffer, so a malformed reply is an error.
struct BSONReader {
    private let bytes: [UInt8]
    private var offset = 0

    struct Malformed: Error {}

    static func document(_ bytes: [UInt8]) throws -> BSONDocument {
        var reader = BSONReader(bytes: bytes)
        return try reader.readDocument()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func readDocument() throws -> BSONDocument {
        let end = try documentEnd()
        var pairs: [(String, BSON)] = []
        while offset < end - 1 {
            let type = try byte()
            let name = try cString()
            pairs.append((name, try value(type)))
        }
        guard offset == end - 1, try byte() == 0 else { throw Malformed() }
        return BSONDocument(pairs)
    }

    private mutating func readArray() throws -> [BSON] {
        try readDocument().fields.map(\.value)
    }

    private mutating func documentEnd() throws -> Int {
        let length = Int(try integer(Int32.self))
        let end = offset - 4 + length
        guard length >= 5, end <= bytes.count else { throw Malformed() }
        return end
    }

    private mutating func value(_ type: UInt8) throws -> BSON {
        switch type {
        case 0x01: return .double(Double(bitPattern: UInt64(bitPattern: try integer(Int64.self))))
        case 0x02:
            let length = Int(try integer(Int32.self))
            guard length >= 1, offset + length <= bytes.count, bytes[offset + length - 1] == 0 else { throw Malformed() }
            let text = String(decoding: bytes[offset..<(offset + length - 1)], as: UTF8.self)
            offset += length
            return .string(text)
        case 0x03: return .document(try readDocument())
        case 0x04: return .array(try readArray())
        case 0x08: return .bool(try byte() != 0)
        case 0x0A, 0x06, 0xFF, 0x7F: return type == 0x0A ? .null : .other(type, [])
        case 0x10: return .int32(try integer(Int32.self))
        case 0x12: return .int64(try integer(Int64.self))
        case 0x09: return .datetime(try integer(Int64.self))
        case 0x07: return .other(type, try raw(12))
        case 0x11: return .other(type, try raw(8))
        case 0x13: return .other(type, try raw(16))
        case 0x05:
            let length = Int(try integer(Int32.self))
            guard length >= 0 else { throw Malformed() }
            return .other(type, try raw(length + 1))
        case 0x0B:
            let pattern = try cString()
            let options = try cString()
            return .other(type, Array(pattern.utf8) + [0] + Array(options.utf8) + [0])
        default: throw Malformed()
        }
    }

    private mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw Malformed() }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func raw(_ count: Int) throws -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw Malformed() }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw Malformed() }
        var value: T = 0
        for i in 0..<size { value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }

    private mutating func cString() throws -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw Malformed() }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}
