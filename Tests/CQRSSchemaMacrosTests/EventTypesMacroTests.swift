import CQRSSchemaMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// Expansion and diagnostics of `@EventTypes` and `@EventType`.
@Suite("@EventTypes expansion")
struct EventTypesMacroTests {
    let macros: [String: MacroSpec] = [
        "EventTypes": MacroSpec(type: EventTypesMacro.self), "EventType": MacroSpec(type: EventTypeMacro.self),
    ]

    func expand(_ source: String, _ expanded: String, diagnostics: [DiagnosticSpec] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        assertExpansion(source, expanded, macros: macros, diagnostics: diagnostics, sourceLocation: sourceLocation)
    }

    @Test func caseNamesAndOverrides() {
        expand(
            """
            @EventTypes
            public enum AccountEvent: DomainEvent {
                case opened(owner: String)
                @EventType("money_in")
                case deposited(amount: Int)
                case closed, `default`
            }
            """,
            """
            public enum AccountEvent: DomainEvent {
                case opened(owner: String)
                case deposited(amount: Int)
                case closed, `default`
            }

            extension AccountEvent {
                public var eventType: String {
                    switch self {
                    case .opened:
                        "opened"
                    case .deposited:
                        "money_in"
                    case .closed:
                        "closed"
                    case .default:
                        "default"
                    }
                }
            }
            """)
    }

    @Test func snakeCaseForInternalEnums() {
        expand(
            """
            @EventTypes(naming: .snakeCase)
            enum TodoEvent {
                case itemAdded(id: String)
                case archived
            }
            """,
            """
            enum TodoEvent {
                case itemAdded(id: String)
                case archived
            }

            extension TodoEvent {
                var eventType: String {
                    switch self {
                    case .itemAdded:
                        "item_added"
                    case .archived:
                        "archived"
                    }
                }
            }
            """)
    }

    @Test func aHandWrittenEventTypeIsKept() {
        expand(
            """
            @EventTypes
            enum E {
                case a
                var eventType: String { "x" }
            }
            """,
            """
            enum E {
                case a
                var eventType: String { "x" }
            }
            """)
    }

    @Test func twoCasesWithOneNameDoNotCompile() {
        expand(
            """
            @EventTypes
            enum E {
                case opened
                @EventType("opened")
                case reopened
            }
            """,
            """
            enum E {
                case opened
                case reopened
            }
            """,
            diagnostics: [DiagnosticSpec(message: "Cases 'opened' and 'reopened' would both store the event type 'opened'", line: 1, column: 1)])
    }

    /// With the conformance the compiler asks for, the decoder of the synthesized format: case names
    /// as keys, labels or `_0`… for values, types left to inference.
    @Test func decodingForTheSynthesizedFormat() {
        let decoding: [String: MacroSpec] = ["EventTypes": MacroSpec(type: EventTypesMacro.self, conformances: ["EnumCaseDecodable"])]
        assertExpansion(
            """
            @EventTypes
            package enum E {
                case opened(owner: String, _ note: String?)
                case `default`
                var eventType: String { "x" }
            }
            """,
            """
            package enum E {
                case opened(owner: String, _ note: String?)
                case `default`
                var eventType: String { "x" }
            }

            extension E: CQRS.EnumCaseDecodable {
                package static let caseKeys: [String] = ["opened", "default"]

                package init(from decoder: any Swift.Decoder) throws {
                    try self.init(reading: CQRS.CodableEnumCaseReader(decoder, cases: Self.caseKeys, of: Self.self))
                }

                package init(reading reader: some CQRS.EnumCaseReader) throws {
                    switch reader.caseIndex {
                    case 0:
                        self = .opened(owner: try reader.decode(forKey: "owner"), try reader.decode(forKey: "_1"))
                    default:
                        self = .`default`
                    }
                }
            }
            """, macros: decoding, sourceLocation: #_sourceLocation)
        // Asked for, or with no associated values (raw-value enums encode as the raw value): Swift's own.
        for (attribute, cases) in [("@EventTypes(decoding: .synthesized)", "case a(Int)"), ("@EventTypes", "case a, b")] {
            assertExpansion(
                "\(attribute)\nenum E {\n    \(cases)\n    var eventType: String { \"a\" }\n}",
                "enum E {\n    \(cases)\n    var eventType: String { \"a\" }\n}", macros: decoding, sourceLocation: #_sourceLocation)
        }
        // Raw values encode as themselves, not as objects: the synthesized format stays.
        assertExpansion(
            "@EventTypes\nenum E: String {\n    case a\n    var eventType: String { \"a\" }\n}",
            "enum E: String {\n    case a\n    var eventType: String { \"a\" }\n}", macros: decoding, sourceLocation: #_sourceLocation)
        // An enum that decodes its own way keeps it.
        for own in ["init(from decoder: any Decoder) throws { self = .a }", "enum CodingKeys: CodingKey {}", "enum ACodingKeys: CodingKey {}", "case b = 2", "@available(*, deprecated) case b(Int)", "#if DEBUG\ncase b(Int)\n#endif"] {
            assertExpansion(
                "@EventTypes\nenum E {\n    case a\n    var eventType: String { \"a\" }\n    \(own)\n}",
                "enum E {\n    case a\n    var eventType: String { \"a\" }\n    \(own)\n}", macros: decoding, sourceLocation: #_sourceLocation)
        }
    }

    @Test func onlyEnums() {
        expand(
            "@EventTypes\nstruct S {}", "struct S {}",
            diagnostics: [DiagnosticSpec(message: "@EventTypes applies to an enum of events", line: 1, column: 1)])
    }
}
