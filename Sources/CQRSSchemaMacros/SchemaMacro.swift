import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@Schema`: derives `JSONSchemaProviding` from a struct's or enum's synthesized Codable form.
public struct SchemaMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        var diagnostics = Diagnostics(context: context)
        let body: String?
        let generics: GenericParameterClauseSyntax?
        if let structDecl = declaration.as(StructDeclSyntax.self) {
            generics = structDecl.genericParameterClause
            body = structSchema(structDecl, &diagnostics)
        } else if let enumDecl = declaration.as(EnumDeclSyntax.self) {
            generics = enumDecl.genericParameterClause
            body = enumSchema(enumDecl, &diagnostics)
        } else {
            let kind: String
            switch declaration.kind {
            case .classDecl: kind = "a class"
            case .actorDecl: kind = "an actor"
            case .protocolDecl: kind = "a protocol"
            case .extensionDecl: kind = "an extension"
            default: kind = "this declaration"
            }
            diagnostics.error(node, "@Schema cannot be applied to \(kind); use it on a struct or an enum")
            return []
        }
        guard let body, !diagnostics.failed else { return [] }
        // An existing conformance (declared elsewhere) leaves `protocols` empty.
        let conformance = protocols.isEmpty ? "" : ": JSONSchemaProviding"
        // A generic type conforms when its parameters do: `where T: JSONSchemaProviding`.
        let parameters = generics?.parameters.map { $0.name.text } ?? []
        let whereClause = parameters.isEmpty
            ? "" : " where " + parameters.map { "\($0): JSONSchemaProviding" }.joined(separator: ", ")
        // Spelled out as text so that the generated code keeps a readable, stable indentation.
        let indentedBody = body.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "        " + $0 }.joined(separator: "\n")
        let source = DeclSyntax(
            stringLiteral: "extension \(type.trimmedDescription)\(conformance)\(whereClause) {\n"
                + "    public static var jsonSchema: JSONSchema {\n\(indentedBody)\n    }\n}")
        guard let extensionDecl = source.as(ExtensionDeclSyntax.self) else { return [] }
        return [extensionDecl]
    }

    // MARK: Structs

    private static func structSchema(_ decl: StructDeclSyntax, _ diagnostics: inout Diagnostics) -> String {
        let keys = codingKeys(named: "CodingKeys", in: decl.memberBlock)
        var members: [String] = []
        for member in decl.memberBlock.members {
            guard let variable = member.decl.as(VariableDeclSyntax.self) else { continue }
            let modifiers = Set(variable.modifiers.map(\.name.text))
            if modifiers.contains("static") || modifiers.contains("class") || modifiers.contains("lazy") { continue }
            let isLet = variable.bindingSpecifier.tokenKind == .keyword(.let)
            let description = docComment(variable.leadingTrivia)
            // In `let a, b: Int` only the last binding carries the type.
            var inheritedType: TypeSyntax?
            var fields: [String] = []
            for binding in variable.bindings.reversed() {
                if let annotated = binding.typeAnnotation?.type {
                    inheritedType = annotated
                } else if binding.initializer != nil {
                    inheritedType = nil
                }
                if isComputed(binding) { continue }
                guard let pattern = binding.pattern.as(IdentifierPatternSyntax.self) else {
                    diagnostics.error(binding.pattern, "@Schema supports only simple stored property names")
                    continue
                }
                if let attribute = variable.attributes.first {
                    diagnostics.error(attribute, "@Schema does not support property wrappers or attributes on stored properties")
                    continue
                }
                let name = identifierName(pattern.identifier)
                guard let type = inheritedType else {
                    diagnostics.error(binding, "@Schema needs an explicit type annotation on '\(name)'")
                    continue
                }
                let key: String
                if let keys {
                    guard let renamed = keys[name] else { continue }  // not in CodingKeys: not encoded
                    key = renamed
                } else {
                    key = name
                }
                // A `let` with an initial value is encoded but never decoded by synthesized Codable.
                let decoded = !(isLet && binding.initializer != nil)
                fields.append(memberCall(key: key, type: type, description: description, decoded: decoded))
            }
            members.append(contentsOf: fields.reversed())
        }
        return "_SchemaDerivation.object(\(list(members)), description: \(literal(docComment(decl.leadingTrivia))))"
    }

    private static func isComputed(_ binding: PatternBindingSyntax) -> Bool {
        guard let accessors = binding.accessorBlock?.accessors else { return false }
        switch accessors {
        case .getter: return true
        case .accessors(let list):
            let observers: Set<String> = ["willSet", "didSet"]
            return list.contains { !observers.contains($0.accessorSpecifier.text) }
        }
    }

    // MARK: Enums

    private struct EnumCase {
        var name: String
        var rawValue: ExprSyntax?
        var parameters: [EnumCaseParameterSyntax]
        var description: String?
        var parameterDescriptions: [String: String] = [:]
    }

    private static let integerRawTypes: Set<String> = [
        "Int", "Int8", "Int16", "Int32", "Int64", "UInt", "UInt8", "UInt16", "UInt32", "UInt64",
    ]

    private static let otherRawTypes: Set<String> = ["Double", "Float", "Float16", "Float80", "CGFloat", "Character"]

    /// The type's name without a leading `Swift.`.
    private static func unqualified(_ type: TypeSyntax) -> String {
        let text = type.trimmedDescription
        return text.hasPrefix("Swift.") ? String(text.dropFirst(6)) : text
    }

    private static func enumSchema(_ decl: EnumDeclSyntax, _ diagnostics: inout Diagnostics) -> String? {
        var cases: [EnumCase] = []
        for member in decl.memberBlock.members {
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            let documentation = caseDocComment(caseDecl.leadingTrivia)
            for element in caseDecl.elements {
                cases.append(
                    EnumCase(
                        name: identifierName(element.name), rawValue: element.rawValue?.value,
                        parameters: Array(element.parameterClause?.parameters ?? []),
                        description: documentation.description, parameterDescriptions: documentation.parameters))
            }
        }
        let typeDescription = docComment(decl.leadingTrivia)
        let rawType = decl.inheritanceClause?.inheritedTypes.first.map { unqualified($0.type) }
        if rawType == "String" || rawType.map(integerRawTypes.contains) == true {
            return rawValueSchema(cases, isString: rawType == "String", typeDescription, decl, &diagnostics)
        }
        // Any other raw type would be misread as the keyed form below.
        if let rawType, otherRawTypes.contains(rawType) || cases.contains(where: { $0.rawValue != nil }) {
            diagnostics.error(decl.name, "@Schema supports raw values of type String or a fixed-width integer only, not '\(rawType)'")
            return nil
        }
        let caseKeys = codingKeys(named: "CodingKeys", in: decl.memberBlock)
        var branches: [String] = []
        for item in cases {
            let key: String
            if let caseKeys {
                guard let renamed = caseKeys[item.name] else { continue }  // excluded cases cannot be encoded
                key = renamed
            } else {
                key = item.name
            }
            let parameterKeys = codingKeys(named: capitalized(item.name) + "CodingKeys", in: decl.memberBlock)
            var members: [String] = []
            for (index, parameter) in item.parameters.enumerated() {
                var label = "_\(index)"
                if let first = parameter.firstName, first.tokenKind != .wildcard {
                    label = identifierName(first)
                }
                let memberKey: String
                if let parameterKeys {
                    guard let renamed = parameterKeys[label] else { continue }
                    memberKey = renamed
                } else {
                    memberKey = label
                }
                members.append(
                    memberCall(
                        key: memberKey, type: parameter.type, description: item.parameterDescriptions[label], decoded: true))
            }
            branches.append(
                "_SchemaDerivation.enumCase(\(literal(key)), description: \(literal(item.description)), \(list(members)))")
        }
        return "_SchemaDerivation.taggedUnion(\(list(branches)), description: \(literal(typeDescription)))"
    }

    private static func rawValueSchema(
        _ cases: [EnumCase], isString: Bool, _ typeDescription: String?, _ decl: EnumDeclSyntax,
        _ diagnostics: inout Diagnostics
    ) -> String? {
        var values: [String] = []
        var caseNotes: [String] = []
        var nextInteger = 0
        for item in cases {
            if let first = item.parameters.first {
                diagnostics.error(first, "an enum with raw values cannot have associated values")
                return nil
            }
            let value: String
            if isString {
                if let raw = item.rawValue {
                    guard let text = raw.as(StringLiteralExprSyntax.self)?.representedLiteralValue else {
                        diagnostics.error(raw, "@Schema needs a plain string literal raw value")
                        return nil
                    }
                    value = text
                } else {
                    value = item.name
                }
                values.append(literal(value))
            } else {
                if let raw = item.rawValue {
                    let digits = raw.trimmedDescription.filter { $0 != "_" && !$0.isWhitespace }
                    guard let number = Int(digits) else {
                        diagnostics.error(raw, "@Schema needs a decimal integer literal raw value")
                        return nil
                    }
                    nextInteger = number
                }
                value = String(nextInteger)
                values.append(value)
                nextInteger += 1
            }
            if let note = item.description { caseNotes.append("\(value): \(note)") }
        }
        // Per-value documentation has no home inside `enum`, so it joins the type's description.
        let parts = (typeDescription.map { [$0] } ?? []) + caseNotes
        let description = parts.isEmpty ? nil : parts.joined(separator: "\n")
        let builder = isString ? "stringEnum" : "integerEnum"
        return "JSONSchema.\(builder)(\(list(values)), description: \(literal(description)))"
    }

    // MARK: Helpers

    /// The coding keys declared by a nested `enum name: ..., CodingKey`, mapped from case name to
    /// string key, or nil when there is no such enum.
    private static func codingKeys(named name: String, in members: MemberBlockSyntax) -> [String: String]? {
        for member in members.members {
            guard let keysDecl = member.decl.as(EnumDeclSyntax.self), keysDecl.name.text == name else { continue }
            // String raw values rename keys; with any other raw type the key is the case name.
            let usesStrings = keysDecl.inheritanceClause?.inheritedTypes.first.map { unqualified($0.type) } == "String"
            var keys: [String: String] = [:]
            for keyMember in keysDecl.memberBlock.members {
                guard let caseDecl = keyMember.decl.as(EnumCaseDeclSyntax.self) else { continue }
                for element in caseDecl.elements {
                    let caseName = identifierName(element.name)
                    let raw = element.rawValue?.value.as(StringLiteralExprSyntax.self)?.representedLiteralValue
                    keys[caseName] = usesStrings ? (raw ?? caseName) : caseName
                }
            }
            return keys
        }
        return nil
    }

    private static func memberCall(key: String, type: TypeSyntax, description: String?, decoded: Bool) -> String {
        var typeText = type.trimmedDescription
        // `T!` decodes like `T?`, but `T!` cannot be spelled in an expression.
        if let implicit = type.as(ImplicitlyUnwrappedOptionalTypeSyntax.self) {
            typeText = "Optional<\(implicit.wrappedType.trimmedDescription)>"
        }
        var call = "_SchemaDerivation.member(\(literal(key)), (\(typeText)).self"
        if let description { call += ", description: \(literal(description))" }
        if !decoded { call += ", decoded: false" }
        return call + ")"
    }

    private static func list(_ items: [String]) -> String {
        // Each item on its own line; nested lists indent one level further.
        guard !items.isEmpty else { return "[]" }
        let lines = items.map { item in
            item.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n") + ",\n"
        }
        return "[\n" + lines.joined() + "]"
    }

    private static func identifierName(_ token: TokenSyntax) -> String {
        let text = token.text
        if text.hasPrefix("`"), text.hasSuffix("`"), text.count >= 2 {
            return String(text.dropFirst().dropLast())
        }
        return text
    }

    private static func capitalized(_ name: String) -> String {
        name.prefix(1).uppercased() + name.dropFirst()
    }

    /// The text of `///` and `/** */` comments in `trivia`, joined into paragraphs.
    static func docComment(_ trivia: Trivia) -> String? {
        paragraphs(docLines(trivia))
    }

    /// A case's doc comment split into its description and its DocC parameter notes
    /// (`- Parameter amount: …` or a `- Parameters:` list), which document associated values.
    static func caseDocComment(_ trivia: Trivia) -> (description: String?, parameters: [String: String]) {
        var rest: [String] = []
        var parameters: [String: String] = [:]
        var current: String?
        var inList = false
        for line in docLines(trivia) {
            let trimmed = line.trimmingWhitespace
            if let (name, text) = parameterNote(trimmed, prefix: "- Parameter ") {
                parameters[name] = text
                current = name
                inList = false
            } else if trimmed.lowercased() == "- parameters:" {
                inList = true
                current = nil
            } else if inList, let (name, text) = parameterNote(trimmed, prefix: "- ") {
                parameters[name] = text
                current = name
            } else if let name = current, !trimmed.isEmpty, !trimmed.hasPrefix("-"), line.hasPrefix(" ") || line.hasPrefix("\t") {
                parameters[name] = (parameters[name] ?? "") + " " + trimmed
            } else {
                current = nil
                inList = false
                rest.append(line)
            }
        }
        return (paragraphs(rest), parameters)
    }

    private static func parameterNote(_ line: String, prefix: String) -> (String, String)? {
        guard line.hasPrefix(prefix), let colon = line.firstIndex(of: ":") else { return nil }
        let name = String(line[line.index(line.startIndex, offsetBy: prefix.count)..<colon]).trimmingWhitespace
        guard !name.isEmpty, !name.contains(" ") else { return nil }
        return (name, String(line[line.index(after: colon)...]).trimmingWhitespace)
    }

    private static func docLines(_ trivia: Trivia) -> [String] {
        var lines: [String] = []
        for piece in trivia {
            switch piece {
            case .docLineComment(let text):
                var line = String(text.dropFirst(3))
                if line.hasPrefix(" ") { line.removeFirst() }
                lines.append(line)
            case .docBlockComment(let text):
                let inner = text.dropFirst(3).dropLast(2)
                for line in inner.split(separator: "\n", omittingEmptySubsequences: false) {
                    var trimmed = line.drop { $0 == " " || $0 == "\t" }
                    if trimmed.hasPrefix("*") { trimmed = trimmed.dropFirst() }
                    lines.append(String(trimmed))
                }
            default:
                continue
            }
        }
        return lines
    }

    /// Lines within a paragraph join with spaces; blank lines separate paragraphs.
    private static func paragraphs(_ lines: [String]) -> String? {
        var paragraphs: [String] = []
        var current: [String] = []
        for line in lines {
            let trimmed = line.trimmingWhitespace
            if trimmed.isEmpty {
                if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
                current = []
            } else {
                current.append(trimmed)
            }
        }
        if !current.isEmpty { paragraphs.append(current.joined(separator: " ")) }
        return paragraphs.isEmpty ? nil : paragraphs.joined(separator: "\n")
    }

    /// A Swift string literal (or `nil`) spelling `value`.
    static func literal(_ value: String?) -> String {
        guard let value else { return "nil" }
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
