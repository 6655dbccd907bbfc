import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxMacros

/// Collects errors so that every problem is reported, not just the first; `failed` stops the expansion.
struct Diagnostics {
    let context: any MacroExpansionContext
    var failed = false

    mutating func error(_ node: some SyntaxProtocol, _ message: String) {
        failed = true
        context.diagnose(Diagnostic(node: Syntax(node), message: SchemaDiagnostic(message: message)))
    }
}

private struct SchemaDiagnostic: DiagnosticMessage {
    let message: String
    var diagnosticID: MessageID { MessageID(domain: "CQRSSchemaMacros", id: "schema") }
    var severity: DiagnosticSeverity { .error }
}
