/// An error thrown when JSON text does not conform to RFC 8259.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A human-readable explanation of what is wrong.
    public var message: String
    /// The zero-based byte offset in the input at which the problem was found.
    public var offset: Int

    /// Creates an error with a message and the byte offset it refers to.
    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Parses JSON text strictly according to RFC 8259.
    ///
    /// Rejects duplicate object keys, nesting deeper than `maxDepth`, invalid UTF-8, lone
    /// surrogates in `\u` escapes, unescaped control characters, leading zeros, non-finite or
    /// out-of-range numbers, a byte order mark and trailing non-whitespace. An integer literal
    /// without fraction or exponent that fits `Int` becomes ``JSONValue/int(_:)``; any other
    /// number becomes ``JSONValue/double(_:)`` (an integer literal beyond `Int`'s range, the nearest
    /// double that is beyond it too, so that range checks still refuse it).
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 encoded JSON text.
    ///   - maxDepth: The deepest nesting of arrays and objects accepted; a top-level array has depth 1.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        func build(_ input: UnsafeBufferPointer<UInt8>) -> Result<JSONValue, JSONParseError> {
            JSONParser.run(input, maxDepth: maxDepth).map { $0.value(at: 0, in: input) }
        }
        let result: Result<JSONValue, JSONParseError>
        if let direct = bytes.withContiguousStorageIfAvailable(build) {
            result = direct
        } else {
            result = Array(bytes).withUnsafeBufferPointer(build)
        }
        return try result.get()
    }

    /// Parses JSON text held in a string; see the byte-based `parse(_:maxDepth:)`.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        var text = text
        // makeContiguousUTF8 lets the byte view hand out its storage without copying.
        text.makeContiguousUTF8()
        return try parse(text.utf8, maxDepth: maxDepth)
    }
}

// MARK: - Parser

/// The strict RFC 8259 parser: it validates the text and writes its values to a ``JSONTape``.
struct JSONParser {
    let input: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var position = 0
    var depth = 0
    var tape = JSONTape()
    /// Reused scratch space for strings with escapes, so each one does not allocate anew.
    var scratch: [UInt8] = []

    static func run(_ input: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONTape, JSONParseError> {
        var parser = JSONParser(input: input, maxDepth: maxDepth)
        // About one token per 5 bytes of typical JSON: most documents never regrow the tape (capped, so
        // that a large string does not reserve several times its size).
        parser.tape.tokens.reserveCapacity(min(input.count / 5 + 1, 1 << 16))
        do throws(JSONParseError) {
            try parser.parseDocument()
            return .success(parser.tape)
        } catch {
            return .failure(error)
        }
    }

    init(input: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.input = input
        self.maxDepth = maxDepth
    }

    func fail(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(message: message, offset: offset ?? position)
    }

    mutating func parseDocument() throws(JSONParseError) {
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF {
            throw fail("byte order mark is not allowed")
        }
        skipWhitespace()
        try parseValue()
        skipWhitespace()
        if position < input.count { throw fail("unexpected data after the JSON value") }
    }

    mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) {
        guard position < input.count else { throw fail("unexpected end of input, expected a value") }
        switch input[position] {
        case UInt8(ascii: "{"): try parseObject()
        case UInt8(ascii: "["): try parseArray()
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try expectLiteral("true"); tape.append(.true, start: position - 4)
        case UInt8(ascii: "f"): try expectLiteral("false"); tape.append(.false, start: position - 5)
        case UInt8(ascii: "n"): try expectLiteral("null"); tape.append(.null, start: position - 4)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw fail("unexpected character, expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard input.count - position >= count else { throw fail("invalid literal") }
        let bytes = literal.utf8Start
        for index in 0..<count where input[position + index] != bytes[index] {
            throw fail("invalid literal")
        }
        position += count
    }

    mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting is deeper than \(maxDepth)") }
        position += 1
    }

    mutating func parseObject() throws(JSONParseError) {
        let index = tape.append(.object, start: position)
        try enterContainer()
        var count = 0
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < input.count, input[position] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key")
                }
                try parseString()
                skipWhitespace()
                guard position < input.count, input[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                position += 1
                skipWhitespace()
                try parseValue()
                count += 1
                if try closes(UInt8(ascii: "}"), "object") { break }
            }
        }
        depth -= 1
        tape.close(index, count: count)
        if count > 1, let duplicate = tape.duplicateKey(in: index, input: input) {
            throw fail("duplicate key \"\(tape.string(at: duplicate, in: input))\"", at: tape.tokens[duplicate].start - 1)
        }
    }

    /// After a member or element: consumes the container's closing byte (true) or a comma (false).
    mutating func closes(_ closing: UInt8, _ container: String) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard position < input.count else { throw fail("unexpected end of input in \(container)") }
        let byte = input[position]
        position += 1
        if byte == closing { return true }
        guard byte == UInt8(ascii: ",") else {
            throw fail("expected ',' or '\(Character(Unicode.Scalar(closing)))'", at: position - 1)
        }
        skipWhitespace()
        return false
    }

    mutating func parseArray() throws(JSONParseError) {
        let index = tape.append(.array, start: position)
        try enterContainer()
        var count = 0
        skipWhitespace()
        if position < input.count, input[position] == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try parseValue()
                count += 1
                if try closes(UInt8(ascii: "]"), "array") { break }
            }
        }
        depth -= 1
        tape.close(index, count: count)
    }

    mutating func parseNumber() throws(JSONParseError) {
        let start = position
        var negative = false
        if input[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < input.count, isDigit(input[position]) else { throw fail("expected a digit") }
        // Accumulate negatively so that Int.min fits.
        var accumulator = 0
        var overflow = false
        if input[position] == UInt8(ascii: "0") {
            position += 1
            if position < input.count, isDigit(input[position]) { throw fail("leading zeros are not allowed") }
        } else {
            while position < input.count, isDigit(input[position]) {
                let digit = Int(input[position] &- UInt8(ascii: "0"))
                if !overflow {
                    let (times10, o1) = accumulator.multipliedReportingOverflow(by: 10)
                    let (next, o2) = times10.subtractingReportingOverflow(digit)
                    if o1 || o2 { overflow = true } else { accumulator = next }
                }
                position += 1
            }
        }
        var isInteger = true
        if position < input.count, input[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard position < input.count, isDigit(input[position]) else { throw fail("expected a digit after '.'") }
            while position < input.count, isDigit(input[position]) { position += 1 }
        }
        if position < input.count, input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < input.count, input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard position < input.count, isDigit(input[position]) else { throw fail("expected a digit in exponent") }
            while position < input.count, isDigit(input[position]) { position += 1 }
        }
        if isInteger, !overflow {
            if negative { tape.append(.int, start: start, end: position, value: accumulator); return }
            if accumulator != .min { tape.append(.int, start: start, end: position, value: -accumulator); return }
        }
        // Short numerals fit a small string, which does not allocate.
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else {
            throw fail("number is out of range", at: start)
        }
        // An integer literal beyond Int's range must stay beyond it, or a schema's `minimum` of Int.min
        // would pass it: -2^63 - 1 … -2^63 - 1024 round to -2^63 itself, so take the next double down.
        let exact = isInteger && negative && number == -0x1p63 ? number.nextDown : number
        tape.append(.double, start: start, end: position, value: Int(bitPattern: UInt(exact.bitPattern)))
    }

    @inline(__always) func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Appends a string token: the byte range between the quotes, or the unescaped text when the
    /// string has escapes.
    mutating func parseString() throws(JSONParseError) {
        position += 1  // opening quote
        let start = position
        var ascii = true
        // Fast path: no escapes, so the string is a straight slice of the input.
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                tape.append(ascii ? .asciiString : .string, start: start, end: position)
                position += 1
                return
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte >= 0x80 { ascii = false }
            try consumeRawByte(byte)
        }
        guard position < input.count else { throw fail("unterminated string", at: start - 1) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                tape.strings.append(String(decoding: scratch, as: UTF8.self))
                tape.append(.escapedString, start: start, end: position, value: tape.strings.count - 1)
                position += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                try parseEscape()
            } else {
                let chunkStart = position
                try consumeRawByte(byte)
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[chunkStart..<position]))
            }
        }
        throw fail("unterminated string", at: start - 1)
    }

    /// Validates one raw (unescaped) character starting at `byte` and advances past it.
    @inline(__always) mutating func consumeRawByte(_ byte: UInt8) throws(JSONParseError) {
        if byte < 0x20 { throw fail("unescaped control character in string") }
        if byte < 0x80 {
            position += 1
            return
        }
        // Well-formed UTF-8 per Unicode Table 3-7: no overlongs, surrogates or values past U+10FFFF.
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch byte {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw fail("invalid UTF-8")
        }
        guard input.count - position >= length else { throw fail("invalid UTF-8") }
        let second = input[position + 1]
        guard second >= low, second <= high else { throw fail("invalid UTF-8") }
        for index in 2..<length where input[position + index] & 0xC0 != 0x80 {
            throw fail("invalid UTF-8")
        }
        position += length
    }

    mutating func parseEscape() throws(JSONParseError) {
        let escapeStart = position
        position += 1
        guard position < input.count else { throw fail("unterminated escape") }
        let byte = input[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try readHex4())
            if scalar >= 0xD800, scalar <= 0xDBFF {
                guard input.count - position >= 6, input[position] == UInt8(ascii: "\\"),
                    input[position + 1] == UInt8(ascii: "u")
                else { throw fail("lone high surrogate", at: escapeStart) }
                position += 2
                let lowHalf = UInt32(try readHex4())
                guard lowHalf >= 0xDC00, lowHalf <= 0xDFFF else { throw fail("lone high surrogate", at: escapeStart) }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (lowHalf - 0xDC00)
            } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                throw fail("lone low surrogate", at: escapeStart)
            }
            // Every value reaching here is a valid scalar: surrogates were handled above.
            guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape", at: escapeStart) }
            scratch.append(contentsOf: UTF8.encode(unicode)!)
        default:
            throw fail("invalid escape", at: escapeStart)
        }
    }

    mutating func readHex4() throws(JSONParseError) -> UInt16 {
        guard input.count - position >= 4 else { throw fail("incomplete \\u escape") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | UInt16(digit)
            position += 1
        }
        return value
    }
}
