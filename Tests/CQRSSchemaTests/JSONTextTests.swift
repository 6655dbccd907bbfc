import Foundation
import Testing

@testable import CQRSSchema

@Suite("JSON text")
struct JSONTextTests {
    @Test func parsesValidDocuments() throws {
        let value = try JSONValue.parse(#" { "a" : [1, -2, 3.5, 1e2, true, false, null, "x\n\u00e9\ud83d\ude00\/"], "b": {} } "#)
        #expect(
            value
                == .object([
                    "a": [1, -2, 3.5, .double(100), true, false, nil, "x\né😀/"],
                    "b": .object([:]),
                ]))
        #expect(try JSONValue.parse("[]") == [])
        #expect(try JSONValue.parse("\"\"") == "")
        #expect(try JSONValue.parse(" 0 ") == 0)
        #expect(try JSONValue.parse("[[[]]]", maxDepth: 3) == [[[]]])
    }

    @Test func classifiesNumbers() throws {
        #expect(try JSONValue.parse("1") == .int(1))
        #expect(try JSONValue.parse("1.0") == .double(1))
        #expect(try JSONValue.parse("1E+2") == .double(100))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        // Beyond Int's range, and kept beyond it (a plain rounding would give -2^63 = Int.min).
        #expect(try JSONValue.parse("-9223372036854775809") == .double((-0x1p63).nextDown))
        #expect(try JSONValue.parse("-9223372036854775809.0") == .double(-0x1p63))
        guard case .double(let negativeZero) = try JSONValue.parse("-0.0") else {
            Issue.record("-0.0 should parse as a double")
            return
        }
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
        #expect(try JSONValue.parse("5e-324") == .double(.leastNonzeroMagnitude))
        #expect(try JSONValue.parse("1e-400") == .double(0))
    }

    static let malformed: [String] = [
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}", "{1:2}", "{a:1}",
        "01", "-01", "00", "1.", ".5", "1e", "1e+", "+1", "-", "--1", "0x10", "1.5e", "NaN", "Infinity",
        "-Infinity", "nul", "tru", "falsey", "True", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
        "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"", "\"\\uD800x\"", "\"\t\"", "\"\n\"", "\"\u{1F}\"",
        "1 2", "[] x", "{} {}", "'a'", "1e400", "-1e400", "[1]]", "\u{FEFF}1", "/* c */ 1", "[1,,2]",
    ]

    @Test(arguments: malformed)
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    static let malformedUTF8: [[UInt8]] = [
        [0x22, 0xFF, 0x22],  // never valid
        [0x22, 0xC0, 0xAF, 0x22],  // overlong "/"
        [0x22, 0xE0, 0x80, 0xAF, 0x22],  // overlong, 3 bytes
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // encoded surrogate
        [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // beyond U+10FFFF
        [0x22, 0x80, 0x22],  // lone continuation byte
        [0x22, 0xE2, 0x82],  // truncated at end of input
        [0x5B, 0xC3, 0xA9, 0x5D],  // non-ASCII outside a string
    ]

    @Test(arguments: malformedUTF8)
    func rejectsInvalidUTF8(_ bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }

    @Test func rejectsDuplicateKeys() {
        do {
            _ = try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#)
            Issue.record("duplicate key accepted")
        } catch {
            #expect(error.offset == 13)
            #expect(error.message.contains("duplicate"))
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"x":{"k":1,"k":1}}"#) }
    }

    @Test func enforcesDepthLimit() throws {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try JSONValue.parse(deep).arrayValue != nil)
        let tooDeep = "[" + deep + "]"
        #expect(throws: JSONParseError.self) { try JSONValue.parse(tooDeep) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(#"{"a":{"b":1}}"#, maxDepth: 1) }
        // A hostile document must fail fast instead of exhausting the stack.
        let hostile = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(hostile) }
    }

    @Test func reportsOffsets() {
        do {
            _ = try JSONValue.parse("[1, 2, x]")
            Issue.record("accepted garbage")
        } catch {
            #expect(error.offset == 7)
            #expect(error.description.contains("byte 7"))
        }
    }

    static let corpus: [JSONValue] = [
        "emoji 😀👩‍👩‍👧‍👦🇯🇵", "RTL שלום عليكم", "data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==", "\u{0}", "\u{1}\u{1F}\u{7F}",
        "quote \" backslash \\ slash / tab \t newline \n cr \r bs \u{8} ff \u{C}", "\u{2028}\u{2029}\u{FEFF}",
        .int(.max), .int(.min), 0, -1, 0.1, 1e308, -0.0, .double(.leastNonzeroMagnitude), 1.5, -2.25e-10, 123_456_789.0, 1e16, true, false, nil,
        [], [:], [[[["deep"]]]], ["a": ["b": [1, 2.5, "c", nil]], "": "empty key", "é": "accent"],
    ]

    @Test func roundTripsCorpus() throws {
        var corpus = Self.corpus
        let unit = "aé😀\u{0}\"\\/\n"
        corpus.append(.string(String(repeating: unit, count: (1 << 20) / unit.utf8.count)))
        corpus.append(.array(corpus))
        for value in corpus {
            for sorted in [false, true] {
                let text = value.serialized(sortedKeys: sorted)
                let reparsed = try JSONValue.parse(text)
                #expect(reparsed == value, "\(text.prefix(80))")
                #expect(try JSONValue.parse(value.serializedBytes(sortedKeys: sorted)) == value)
            }
        }
    }

    @Test func serializesCompactly() {
        #expect(JSONValue.string("a\"b\\c\n\u{1}é😀/").serialized() == #""a\"b\\c\n\u0001é😀/""#)
        #expect(JSONValue.array([.double(.nan), .double(.infinity), .double(-.infinity)]).serialized() == "[null,null,null]")
        #expect(JSONValue.object(["b": 1, "a": [true, nil], "A": "x", "é": 0]).serialized(sortedKeys: true)
            == #"{"A":"x","a":[true,null],"b":1,"é":0}"#)
        #expect(JSONValue.int(.min).serialized() == "-9223372036854775808")
        #expect(JSONValue.double(0.1).serialized() == "0.1")
        #expect(Array(JSONValue.string("é").serializedBytes()) == [0x22, 0xC3, 0xA9, 0x22])
        // Agrees with Foundation on what it accepts.
        let text = JSONValue.object(["k": [1, 2.5, "\u{0}😀", nil, -0.0, 1e308]]).serialized()
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil)
    }

    @Test func parsesFromNonContiguousCollections() throws {
        let bytes = Array(#"{"a":[1,"é"]}"#.utf8)
        #expect(try JSONValue.parse(bytes.lazy.map { $0 }) == ["a": [1, "é"]])
        #expect(try JSONValue.parse(Data(bytes)) == ["a": [1, "é"]])
    }
}
