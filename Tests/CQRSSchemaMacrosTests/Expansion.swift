import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// Expands `source` with `macros` and records a Swift Testing issue for every difference from
/// `expanded` or from the expected diagnostics (swift-syntax's XCTest-free test support).
func assertExpansion(
    _ source: String, _ expanded: String, macros: [String: MacroSpec], diagnostics: [DiagnosticSpec] = [],
    sourceLocation: SourceLocation
) {
    assertMacroExpansion(
        source, expandedSource: expanded, diagnostics: diagnostics, macroSpecs: macros,
        failureHandler: { Issue.record(Comment(rawValue: $0.message), sourceLocation: sourceLocation) })
}
