import CQRS
import CQRSSchema
import Foundation
import Testing

/// `@EventTypes`' generated decoding against the format Swift synthesizes: the same texts decode to
/// the same values (or fail) through the tape, Foundation's `JSONDecoder` and `JSONValue` trees.
@Suite("Generated enum decoding")
struct EnumCaseDecodingTests {
    struct Item: Codable, Equatable, Sendable {
        var name: String
    }

    @EventTypes
    enum Generated: DomainEvent {
        case labeled(owner: String, amount: Int)
        case unlabeled(Int, String)
        case mixed(Int, note: String)
        case optional(note: String?, count: Optional<Int>)
        case nested(item: Item, tags: [String])
        case flag(on: Bool, ratio: Double)
        case at(when: Date)
        case `default`
        case bare
    }

    /// The same cases with Swift's synthesized `Codable`.
    enum Synthesized: Codable, Equatable {
        case labeled(owner: String, amount: Int)
        case unlabeled(Int, String)
        case mixed(Int, note: String)
        case optional(note: String?, count: Optional<Int>)
        case nested(item: Item, tags: [String])
        case flag(on: Bool, ratio: Double)
        case at(when: Date)
        case `default`
        case bare
    }

    static let decodes = [
        #"{"labeled":{"owner":"ada","amount":5}}"#, #"{"unlabeled":{"_0":1,"_1":"x"}}"#, #"{"mixed":{"_0":1,"note":"n"}}"#,
        #"{"optional":{}}"#, #"{"optional":{"note":null,"count":3}}"#, #"{"nested":{"item":{"name":"a"},"tags":["t"]}}"#,
        #"{"flag":{"on":true,"ratio":0.5}}"#, #"{"at":{"when":"2026-12-02T01:00:00.000Z"}}"#, #"{"default":{}}"#,
        #"{"bare":{}}"#, #"{"bare":{"ignored":1}}"#, #"{"labeled":{"owner":"a","amount":1,"extra":[]},"unknown":2}"#,
    ]

    static let refuses = [
        #"{"labeled":{"owner":"ada"}}"#, #"{"labeled":{"owner":1,"amount":1}}"#, #"{"labeled":{"owner":"a","amount":1.5}}"#,
        #"{"bare":{},"default":{}}"#, #"{}"#, #"{"nope":{}}"#, #"{"bare":1}"#, #"{"bare":null}"#, #"{"bare":[]}"#, #"[]"#,
        #""bare""#, #"{"unlabeled":{"0":1,"1":"x"}}"#, #"{"optional":{"note":1}}"#, #"{"at":{"when":"yesterday"}}"#,
    ]

    /// Each way of decoding `text` as `Generated`, as its re-encoded text or the coding path of its error.
    func outcomes(_ text: String) -> [String: String] {
        func outcome(_ body: () throws -> some Encodable) -> String {
            do { return CQRSJSON.text(of: try body()) } catch let error as DecodingError {
                return "error at \(Self.path(error))"
            } catch { return "error \(error)" }
        }
        let data = Data(text.utf8)
        return [
            "tape": outcome { try CQRSJSON.valueDecoder.decode(Generated.self, fromJSON: data) },
            "tape, as an element": outcome { try CQRSJSON.valueDecoder.decodeElements(Generated.self, fromJSON: Data("[\(text)]".utf8))[0] },
            "JSONDecoder": outcome { try CQRSJSON.makeDecoder().decode(Generated.self, from: data) },
            "JSONValue": outcome { try CQRSJSON.decode(Generated.self, from: try JSONValue.parse(data)) },
            "synthesized": outcome { try CQRSJSON.makeDecoder().decode(Synthesized.self, from: data) },
        ]
    }

    static func path(_ error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return "?"
        }
        var path = context.codingPath.map(\.stringValue)
        if case .keyNotFound(let key, _) = error { path.append(key.stringValue) }
        return path.joined(separator: ".")
    }

    @Test(arguments: decodes)
    func decodesAsSynthesized(_ text: String) {
        let outcomes = outcomes(text)
        #expect(Set(outcomes.values).count == 1, "\(text): \(outcomes)")
        #expect(outcomes["synthesized"]?.hasPrefix("{") == true, "\(text): \(outcomes)")
    }

    @Test(arguments: refuses)
    func refusesAsSynthesized(_ text: String) {
        let outcomes = outcomes(text)
        #expect(outcomes.values.allSatisfy { $0.hasPrefix("error") }, "\(text): \(outcomes)")
        // Through the same decoder, the generated `init(from:)` fails where the synthesized one does.
        #expect(outcomes["JSONDecoder"] == outcomes["synthesized"], "\(text): \(outcomes)")
    }

    @Test func encodedEventsRoundTrip() throws {
        let events: [Generated] = [
            .labeled(owner: "ada", amount: -3), .unlabeled(7, "q"), .mixed(2, note: "é"), .optional(note: nil, count: 1),
            .nested(item: Item(name: "i"), tags: []), .flag(on: false, ratio: -0.25), .at(when: Date(millisecondsSince1970: 5)),
            .default, .bare,
        ]
        let array = try CQRSJSON.encode(events)
        #expect(try CQRSJSON.valueDecoder.decodeElements(Generated.self, fromJSON: array) == events)
        #expect(try CQRSJSON.decode([Generated].self, from: array) == events)
        #expect(Generated.caseKeys == ["labeled", "unlabeled", "mixed", "optional", "nested", "flag", "at", "default", "bare"])
    }
}
