import CQRSSchemaMacros
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// Expansion and diagnostics of `@DomainErrors` and `@ErrorCode`.
@Suite("@DomainErrors expansion")
struct DomainErrorsMacroTests {
    let macros: [String: MacroSpec] = [
        "DomainErrors": MacroSpec(type: DomainErrorsMacro.self, conformances: ["DomainErrorCode"]),
        "ErrorCode": MacroSpec(type: ErrorCodeMacro.self),
    ]

    func expand(_ source: String, _ expanded: String, diagnostics: [DiagnosticSpec] = [], sourceLocation: SourceLocation = #_sourceLocation) {
        assertExpansion(source, expanded, macros: macros, diagnostics: diagnostics, sourceLocation: sourceLocation)
    }

    @Test func specsFromCases() {
        expand(
            """
            @DomainErrors(domain: "account", prefix: 10)
            public enum AccountError {
                @ErrorCode(1, .badRequest)
                case insufficientFunds
                @ErrorCode(3, .gone, name: "CLOSED", hint: "Open a new account.")
                case accountClosed
                @ErrorCode(4, 423)
                case locked
            }
            """,
            """
            public enum AccountError {
                case insufficientFunds
                case accountClosed
                case locked
            }

            extension AccountError: DomainErrorCode {
                public static var domain: String {
                    "account"
                }
                public static var prefix: Int {
                    10
                }
                public var spec: ErrorSpec {
                    switch self {
                    case .insufficientFunds:
                        ErrorSpec(1, status: 400, "INSUFFICIENT_FUNDS")
                    case .accountClosed:
                        ErrorSpec(3, status: 410, "CLOSED", hint: "Open a new account.")
                    case .locked:
                        ErrorSpec(4, status: 423, "LOCKED")
                    }
                }
            }
            """)
    }

    @Test func clashesAndMissingCodesDoNotCompile() {
        expand(
            """
            @DomainErrors(domain: "d", prefix: 10)
            enum E {
                @ErrorCode(1, .badRequest)
                case a
                @ErrorCode(1, .conflict)
                case b
                case c
                @ErrorCode(1000, .ok)
                case d
            }
            """,
            """
            enum E {
                case a
                case b
                case c
                case d
            }
            """,
            diagnostics: [
                DiagnosticSpec(message: "Cases 'a' and 'b' share the index 1", line: 5, column: 5),
                DiagnosticSpec(message: "Every case of a @DomainErrors enum needs @ErrorCode(index, status)", line: 7, column: 5),
                DiagnosticSpec(message: "An error index is an integer literal from 0 to 999", line: 8, column: 16),
            ])
    }
}
