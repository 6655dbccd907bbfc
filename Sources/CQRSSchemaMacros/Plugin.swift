import SwiftCompilerPlugin
import SwiftSyntaxMacros

@main
struct CQRSSchemaMacrosPlugin: CompilerPlugin {
    let providingMacros: [any Macro.Type] = [SchemaMacro.self, EventTypesMacro.self, EventTypeMacro.self, DomainErrorsMacro.self, ErrorCodeMacro.self]
}
