import CQRSSchema
import Foundation
import Testing

/// `JSONValueEncoder`/`JSONValueDecoder` must give exactly what a JSON text round trip through
/// `JSONEncoder`/`JSONDecoder` gives.
@Suite("Codable to and from JSONValue")
struct JSONValueCodingTests {
    func viaText<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONValue.parse(Array(JSONEncoder().encode(value)))
    }

    func expectSameAsText<T: Codable & Equatable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let direct = try JSONValueEncoder().encode(value)
        let reference = try viaText(value)
        #expect(Self.normalized(direct) == Self.normalized(reference), sourceLocation: sourceLocation)
        do {
            let decoded = try JSONValueDecoder().decode(T.self, from: direct)
            #expect(decoded == value, "\(decoded) != \(value)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(T.self): \(error)", sourceLocation: sourceLocation)
        }
        #expect(try JSONValueDecoder().decode(T.self, from: reference) == value, sourceLocation: sourceLocation)
        // Straight from the text, without a tree.
        let text = try JSONEncoder().encode(value)
        #expect(try JSONValueDecoder().decode(T.self, fromJSON: text) == value, sourceLocation: sourceLocation)
    }

    /// Numbers by value: JSONEncoder writes some integral doubles as `2` and others as `1e10.0`.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number) where number.rounded() == number && abs(number) < 9e15: .int(Int(number))
        case .array(let elements): .array(elements.map(normalized))
        case .object(let members): .object(members.mapValues(normalized))
        default: value
        }
    }

    struct Odd: Codable, Equatable {
        var byInt: [Int: String]
        var byEnum: [Currency: Int]
        var nested: [[Int?]]
        var optionalNested: Command?
        var big: UInt64
        var negative: Int64
        var tuple: Pair
    }

    struct Pair: Codable, Equatable {
        var first: Int
        var second: String
        init(first: Int, second: String) {
            self.first = first
            self.second = second
        }
        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            first = try container.decode(Int.self)
            second = try container.decode(String.self)
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            try container.encode(first)
            try container.encode(second)
        }
    }

    final class Base: Codable, Equatable {
        var name = "base"
        static func == (a: Base, b: Base) -> Bool { a.name == b.name }
    }

    final class Child: Codable, Equatable {
        var extra = 1
        var base = Base()
        enum CodingKeys: String, CodingKey { case extra }
        init() {}
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            extra = try container.decode(Int.self, forKey: .extra)
            base = try Base(from: container.superDecoder())
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(extra, forKey: .extra)
            try base.encode(to: container.superEncoder())
        }
        static func == (a: Child, b: Child) -> Bool { a.extra == b.extra && a.base == b.base }
    }

    @Test func matchesAJSONTextRoundTrip() throws {
        for account in DerivationTests.accounts { try expectSameAsText(account) }
        for command in DerivationTests.commands { try expectSameAsText(command) }
        try expectSameAsText(RenamedCommand.deposit(amount: 3))
        try expectSameAsText(RenamedCommand.default(.urgent))
        try expectSameAsText(Person(firstName: "A", lastName: nil))
        try expectSameAsText(Ledger(status: .open, amount: Decimal(string: "12.5")!, blob: Data([0, 1, 255]), entries: [["a": [1, nil]]]))
        try expectSameAsText(Empty())
        try expectSameAsText(Odd(
            byInt: [1: "one", -2: "minus two"], byEnum: [.usd: 1, .chf: 2], nested: [[1, nil], []],
            optionalNested: .tag("t", count: 1, 2), big: UInt64(Int.max), negative: .min,
            tuple: Pair(first: 7, second: "seven")))
        try expectSameAsText(["data:text/plain;base64,SGk=", "👩🏽‍💻", "\u{0}"])
        try expectSameAsText(Child())
        try expectSameAsText(Optional<Int>.none)
    }

    @Test func decodingErrorsMatchTheDecoder() throws {
        let cases: [JSONValue] = [
            ["deposit": ["amount": "5"]], ["deposit": [:]], ["teleport": [:]], ["deposit": ["amount": 1.5]],
            ["withdraw": ["_0": 1]], "close",
        ]
        for json in cases {
            #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Command.self, from: json) }
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(Command.self, from: Data(json.serialized().utf8)) }
        }
        // Integral doubles count as integers, as JSON Schema's `integer` does.
        #expect(try JSONValueDecoder().decode(Command.self, from: ["deposit": ["amount": 2.0]]) == .deposit(amount: 2, memo: nil))
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int8.self, from: 300) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(Double.nan) }
    }

    @Test func datesUseTheGivenStrategies() throws {
        let encoder = JSONValueEncoder(dateEncoding: { .string("at:\($0.timeIntervalSince1970)") })
        #expect(try encoder.encode(["when": Date(timeIntervalSince1970: 5)]) == ["when": "at:5.0"])
        let decoder = JSONValueDecoder(dateDecoding: { _ in Date(timeIntervalSince1970: 9) })
        #expect(try decoder.decode([Date].self, from: ["anything"]) == [Date(timeIntervalSince1970: 9)])
    }
}
