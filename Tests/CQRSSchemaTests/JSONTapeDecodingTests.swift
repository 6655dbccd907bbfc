import CQRSSchema
import Foundation
import Testing

/// `JSONValueDecoder.decode(_:fromJSON:)`: decoding straight from JSON text must give what
/// Foundation's `JSONDecoder` gives, refuse what `JSONValue.parse` refuses, and name the failing path.
@Suite("Decoding from JSON text")
struct JSONTapeDecodingTests {
    let decoder = JSONValueDecoder()

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try decoder.decode(type, fromJSON: Array(text.utf8))
    }

    struct Amounts: Codable, Equatable {
        var big: UInt64
        var small: Int64
        var price: Decimal
        var ratio: Double
        var note: String?
    }

    @Test func numbersAreExactWhereFoundationIsExact() throws {
        let text = #"{"big":18446744073709551615,"small":-9223372036854775808,"price":0.1,"ratio":1e-3,"note":null}"#
        let reference = try JSONDecoder().decode(Amounts.self, from: Data(text.utf8))
        let decoded = try decode(Amounts.self, text)
        #expect(decoded == reference)
        #expect(decoded.big == .max && decoded.small == .min && decoded.price == Decimal(string: "0.1")!)
        #expect(throws: DecodingError.self) { try decode(UInt8.self, "256") }
        #expect(throws: DecodingError.self) { try decode(Int.self, "1.5") }
        #expect(try decode(Int.self, "2.0") == 2)
    }

    @Test func stringsWithEscapesAndNonASCIIKeys() throws {
        #expect(try decode([String: String].self, #"{"caf\u00e9":"a\"b\n","crème":"é"}"#) == ["café": "a\"b\n", "crème": "é"])
        #expect(try decode([String].self, #"["\ud83d\ude00", ""]"#) == ["😀", ""])
    }

    @Test func refusesWhatTheParserRefuses() {
        for text in [#"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, "{\"\u{E9}\":1,\"e\u{301}\":2}", "[01]", "[1,]", "\"\u{1}\"", "[1] x", "{\"a\"}"] {
            do {
                _ = try decode(JSONValue.self, text)
                Issue.record("accepted \(text)")
            } catch DecodingError.dataCorrupted(let context) {
                #expect(context.underlyingError is JSONParseError, "\(text): \(context)")
            } catch {
                Issue.record("\(text): \(error)")
            }
            #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        }
        #expect(throws: DecodingError.self) { try decoder.decode(Int.self, fromJSON: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func depthLimitIsFoundationsByDefault() throws {
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(try decode(JSONValue.self, deep).arrayValue != nil)
        #expect(throws: DecodingError.self) { try decode(JSONValue.self, "[" + deep + "]") }
        #expect(throws: DecodingError.self) { try decoder.decode(JSONValue.self, fromJSON: Array("[[1]]".utf8), maxDepth: 1) }
    }

    @Test func errorsNameThePathAsFoundationDoes() throws {
        let cases = [
            #"[{"deposit":{"amount":1}},{"deposit":{"amount":"5"}}]"#,
            #"[{"deposit":{}}]"#, #"[{"teleport":{}}]"#, #"[{"withdraw":{"_0":1}}]"#, #"["close"]"#,
            #"[{"transfer":{"to":{"street":"s","city":"c"},"amounts":[1,"x"],"currency":"usd"}}]"#,
        ]
        for text in cases {
            var ours: DecodingError?
            var theirs: DecodingError?
            do { _ = try decode([Command].self, text) } catch { ours = error as? DecodingError }
            do { _ = try JSONDecoder().decode([Command].self, from: Data(text.utf8)) } catch { theirs = error as? DecodingError }
            let (found, expected) = (ours.map(Self.path), theirs.map(Self.path))
            #expect(found != nil && found == expected, "\(text): \(String(describing: ours)) vs \(String(describing: theirs))")
        }
    }

    @Test func datesDataAndJSONValuesUseTheDecodersRules() throws {
        let dated = JSONValueDecoder(dateDecoding: { json in Date(timeIntervalSince1970: Double(json.stringValue?.count ?? -1)) })
        #expect(try dated.decode([Date].self, fromJSON: Array(#"["abc"]"#.utf8)) == [Date(timeIntervalSince1970: 3)])
        #expect(try decode(Data.self, #""AAH/""#) == Data([0, 1, 255]))
        #expect(try decode([String: JSONValue].self, #"{"x":[1,2.5,{"y":null}]}"#) == ["x": [1, 2.5, ["y": nil]]])
    }

    /// An array read as "an Int, or else a String" element by element.
    struct Mixed: Decodable, Equatable {
        var items: [String]
        init(items: [String]) { self.items = items }
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            items = []
            while !container.isAtEnd {
                if let number = try? container.decode(Int.self) { items.append("#\(number)") } else { items.append(try container.decode(String.self)) }
            }
        }
    }

    @Test func aFailedElementDecodeDoesNotSkipTheElement() throws {
        let text = #"[1,"x","y",2]"#
        let expected = Mixed(items: ["#1", "x", "y", "#2"])
        #expect(try JSONDecoder().decode(Mixed.self, from: Data(text.utf8)) == expected)
        #expect(try decode(Mixed.self, text) == expected)
        #expect(try decoder.decode(Mixed.self, from: JSONValue.parse(text)) == expected)
    }

    @Test func floatingPointReadsTheNumeralAsFoundationDoes() throws {
        for text in ["[-0]", "[-9223372036854776000]", "[1.00000005960464477539062500000001]", "[0.1]", "[1e-7]", "[-0.0]"] {
            let reference = try JSONDecoder().decode([Double].self, from: Data(text.utf8))
            let decoded = try decode([Double].self, text)
            #expect(decoded.map(\.bitPattern) == reference.map(\.bitPattern), "\(text): \(decoded) vs \(reference)")
            let floats = try JSONDecoder().decode([Float].self, from: Data(text.utf8))
            #expect(try decode([Float].self, text).map(\.bitPattern) == floats.map(\.bitPattern), "\(text) as Float")
        }
        #expect(throws: DecodingError.self) { try decode(Float.self, "1e39") }
    }

    @Test func largeObjectsDecodeByKey() throws {
        let members = (0..<500).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let decoded = try decode([String: Int].self, "{" + members + "}")
        #expect(decoded.count == 500 && decoded["k499"] == 499 && decoded["k0"] == 0)
    }

    static func path(_ error: DecodingError) -> [String] {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c): return (c.codingPath + [key]).map { $0.intValue.map(String.init) ?? $0.stringValue }
        @unknown default: return []
        }
        return context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
    }
}
