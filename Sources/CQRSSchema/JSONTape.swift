/// Parsed JSON text as a flat list of tokens in document order, as ``JSONParser`` writes it: the one
/// parse from which ``JSONValue`` trees are built and `Decodable` values decoded without a tree.
///
/// A container's token is followed by its members (key token, then value) or elements; `next` skips
/// a value with everything inside it. Strings and numerals point back into the input bytes.
struct JSONTape: Sendable {
    enum Kind: UInt8, Sendable {
        case null, `true`, `false`, int, double
        /// A string without escapes whose bytes are all ASCII (byte equality is string equality).
        case asciiString
        /// A string without escapes with non-ASCII bytes.
        case string
        /// A string with escapes: its text is in `strings`.
        case escapedString
        case object, array
    }

    struct Token: Sendable {
        var kind: Kind
        /// Where the value starts in the input; for strings, the first byte after the opening quote.
        var start: Int
        /// Strings and numerals: where they end (a string's closing quote). Containers: their count of
        /// members or elements.
        var end: Int
        /// `int`: the value; `double`: its bit pattern; `escapedString`: its index in `strings`.
        var value: Int
        /// The index of the first token after this value and everything inside it.
        var next: Int
    }

    var tokens: [Token] = []
    var strings: [String] = []

    @discardableResult
    mutating func append(_ kind: Kind, start: Int, end: Int = 0, value: Int = 0) -> Int {
        tokens.append(Token(kind: kind, start: start, end: end, value: value, next: tokens.count + 1))
        return tokens.count - 1
    }

    /// Ends the container at `index` after its last member or element was appended.
    mutating func close(_ index: Int, count: Int) {
        tokens[index].end = count
        tokens[index].next = tokens.count
    }

    /// The text of the string token at `index`.
    func string(at index: Int, in input: UnsafeBufferPointer<UInt8>) -> String {
        let token = tokens[index]
        if token.kind == .escapedString { return strings[token.value] }
        return String(decoding: UnsafeBufferPointer(rebasing: input[token.start..<token.end]), as: UTF8.self)
    }

    /// Whether the string token at `index` is `text`, compared as Swift compares strings.
    func string(at index: Int, in input: UnsafeBufferPointer<UInt8>, equals text: String) -> Bool {
        let token = tokens[index]
        if token.kind == .asciiString,
            let equal = text.utf8.withContiguousStorageIfAvailable({ $0.elementsEqual(bytes(of: token, in: input)) })
        {
            if equal { return true }
            // Different bytes: still equal only to a non-ASCII look-alike (the Kelvin sign "\u{212A}" is "K").
            if text.utf8.allSatisfy({ $0 < 0x80 }) { return false }
        }
        return string(at: index, in: input) == text
    }

    private func bytes(of token: Token, in input: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: input[token.start..<token.end])
    }

    /// The key tokens of the object at `index`.
    func keys(of index: Int) -> [Int] {
        var keys: [Int] = []
        keys.reserveCapacity(tokens[index].end)
        var current = index + 1
        while current < tokens[index].next {
            keys.append(current)
            current = tokens[current + 1].next
        }
        return keys
    }

    /// The value token of member `key` of the object at `index`, or nil.
    func member(_ key: String, of index: Int, in input: UnsafeBufferPointer<UInt8>) -> Int? {
        var current = index + 1
        let end = tokens[index].next
        while current < end {
            if string(at: current, in: input, equals: key) { return current + 1 }
            current = tokens[current + 1].next
        }
        return nil
    }

    /// The first key of the object at `index` that repeats an earlier one (by string equality, as a
    /// `[String: JSONValue]` would merge them), or nil.
    func duplicateKey(in index: Int, input: UnsafeBufferPointer<UInt8>) -> Int? {
        let end = tokens[index].next
        if tokens[index].end <= 16 {
            // Few keys, all ASCII (the usual case): compare bytes pairwise without allocating.
            var allASCII = true
            var key = index + 1
            while key < end, allASCII {
                allASCII = tokens[key].kind == .asciiString
                var earlier = index + 1
                while allASCII, earlier < key {
                    if bytes(of: tokens[key], in: input).elementsEqual(bytes(of: tokens[earlier], in: input)) { return key }
                    earlier = tokens[earlier + 1].next
                }
                key = tokens[key + 1].next
            }
            if allASCII { return nil }
        }
        var seen = Set<String>()
        return keys(of: index).first { !seen.insert(string(at: $0, in: input)).inserted }
    }

    /// The value at `index` as a tree.
    func value(at index: Int, in input: UnsafeBufferPointer<UInt8>) -> JSONValue {
        let token = tokens[index]
        switch token.kind {
        case .null: return .null
        case .true: return .bool(true)
        case .false: return .bool(false)
        case .int: return .int(token.value)
        case .double: return .double(Double(bitPattern: UInt64(UInt(bitPattern: token.value))))
        case .asciiString, .string, .escapedString: return .string(string(at: index, in: input))
        case .array:
            var elements: [JSONValue] = []
            elements.reserveCapacity(token.end)
            var current = index + 1
            while current < token.next {
                elements.append(value(at: current, in: input))
                current = tokens[current].next
            }
            return .array(elements)
        case .object:
            var members: [String: JSONValue] = [:]
            members.reserveCapacity(token.end)
            var current = index + 1
            while current < token.next {
                members[string(at: current, in: input)] = value(at: current + 1, in: input)
                current = tokens[current + 1].next
            }
            return .object(members)
        }
    }
}
