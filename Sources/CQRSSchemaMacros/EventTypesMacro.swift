import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@EventTypes`: an event enum's `eventType`, one name per case: the case name (or its snake_case
/// form with `naming: .snakeCase`), unless the case carries `@EventType("name")`. Two cases with one
/// name are a compile-time error, since stored events would no longer say which case they are.
/// Also conforms the enum to `EnumCaseDecodable` (see ``EnumCaseDecodingGenerator``).
public struct EventTypesMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        var diagnostics = Diagnostics(context: context)
        guard let enumDecl = declaration.as(EnumDeclSyntax.self) else {
            diagnostics.error(node, "@EventTypes applies to an enum of events")
            return []
        }
        let snakeCase = node.arguments?.trimmedDescription.contains("snakeCase") == true
        let access = enumDecl.modifiers.contains { ["public", "open"].contains($0.name.text) } ? "public "
            : enumDecl.modifiers.contains { $0.name.text == "package" } ? "package " : ""
        var extensions: [ExtensionDeclSyntax] = []
        if let decoding = EnumCaseDecodingGenerator.conformance(
            of: enumDecl, type: type.trimmedDescription, protocols: protocols, access: access,
            synthesized: node.arguments?.trimmedDescription.contains("synthesized") == true),
            let extensionDecl = DeclSyntax(stringLiteral: decoding).as(ExtensionDeclSyntax.self)
        {
            extensions.append(extensionDecl)
        }
        var names: [(caseName: String, eventType: String)] = []
        for member in enumDecl.memberBlock.members {
            if let variable = member.decl.as(VariableDeclSyntax.self),
                variable.bindings.contains(where: { $0.pattern.trimmedDescription == "eventType" })
            {
                return extensions  // `eventType` written by hand.
            }
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            let override = explicitName(caseDecl.attributes, &diagnostics)
            if override != nil, caseDecl.elements.count > 1 {
                diagnostics.error(caseDecl, "@EventType names one case: declare these cases separately")
            }
            for element in caseDecl.elements {
                let name = element.name.text.filter { $0 != "`" }
                names.append((name, override ?? (snakeCase ? Self.snakeCased(name) : name)))
            }
        }
        var seen: [String: String] = [:]
        for (caseName, eventType) in names {
            if let other = seen[eventType] {
                diagnostics.error(node, "Cases '\(other)' and '\(caseName)' would both store the event type '\(eventType)'")
            }
            seen[eventType] = caseName
        }
        guard !diagnostics.failed else { return [] }
        let cases = names.map { "        case .\($0.caseName): \"\($0.eventType)\"" }.joined(separator: "\n")
        let source = DeclSyntax(
            stringLiteral: "extension \(type.trimmedDescription) {\n"
                + "    \(access)var eventType: String {\n        switch self {\n\(cases)\n        }\n    }\n}")
        guard let extensionDecl = source.as(ExtensionDeclSyntax.self) else { return extensions }
        return [extensionDecl] + extensions
    }

    private static func explicitName(_ attributes: AttributeListSyntax, _ diagnostics: inout Diagnostics) -> String? {
        for attribute in attributes {
            guard let attribute = attribute.as(AttributeSyntax.self), attribute.attributeName.trimmedDescription == "EventType" else { continue }
            guard case .argumentList(let arguments) = attribute.arguments, arguments.count == 1,
                let literal = arguments.first?.expression.as(StringLiteralExprSyntax.self),
                literal.segments.count == 1, let segment = literal.segments.first?.as(StringSegmentSyntax.self),
                !segment.content.text.isEmpty
            else {
                diagnostics.error(attribute, "@EventType takes one non-empty string literal")
                return nil
            }
            return segment.content.text
        }
        return nil
    }

    /// `itemAdded` → `item_added`.
    static func snakeCased(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else {
                out.append(character)
            }
        }
        return out
    }
}

/// `@EventType("name")`: marks a case for `@EventTypes`; generates nothing itself.
public struct EventTypeMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax, providingPeersOf declaration: some DeclSyntaxProtocol, in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] { [] }
}
