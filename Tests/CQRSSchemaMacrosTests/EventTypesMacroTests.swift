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

    @Test func onlyEnums() {
        expand(
            "@EventTypes\nstruct S {}", "struct S {}",
            diagnostics: [DiagnosticSpec(message: "@EventTypes applies to an enum of events", line: 1, column: 1)])
    }
}
