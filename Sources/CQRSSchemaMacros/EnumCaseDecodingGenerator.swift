import SwiftSyntax

/// The `EnumCaseDecodable` conformance `@EventTypes` adds: `init(from:)` and `init(reading:)` built
/// from the case list in Swift's synthesized enum format (case name as key, labels or `_0`, `_1`…
/// for the associated values, optionals absent as nil), so that the JSON tape can decode
/// events without `Codable`'s containers. Declaring `init(from:)` replaces the synthesized one, so a
/// hand-written `init(from:)` in another extension is a compile error instead of being bypassed.
enum EnumCaseDecodingGenerator {
    /// The extension's source, or nil when the enum keeps Swift's own decoding: it decodes its own
    /// way (`init(from:)` or coding keys in the declaration), is generic, has no associated values
    /// at all (raw-value enums encode as their raw value), has cases under `@available` or members
    /// under `#if`, or asked for it with `decoding: .synthesized`.
    static func conformance(
        of enumDecl: EnumDeclSyntax, type: String, protocols: [TypeSyntax], access: String, synthesized: Bool
    ) -> String? {
        guard !synthesized, protocols.contains(where: { $0.trimmedDescription.hasSuffix("EnumCaseDecodable") }),
            enumDecl.genericParameterClause == nil, !decodesItself(enumDecl)
        else { return nil }
        var keys: [String] = []
        var builders: [String] = []
        for member in enumDecl.memberBlock.members {
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            for element in caseDecl.elements {
                let name = element.name.text.filter { $0 != "`" }
                keys.append(name)
                builders.append(".\(element.name.text)" + arguments(element.parameterClause))
            }
        }
        guard builders.contains(where: { $0.hasSuffix(")") }) else { return nil }
        var switchCases = builders.dropLast().enumerated().map { "        case \($0.offset): self = \($0.element)" }
        switchCases.append("        default: self = \(builders[builders.count - 1])")
        let keyList = keys.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            extension \(type): CQRS.EnumCaseDecodable {
                \(access)static let caseKeys: [String] = [\(keyList)]

                \(access)init(from decoder: any Swift.Decoder) throws {
                    try self.init(reading: CQRS.CodableEnumCaseReader(decoder, cases: Self.caseKeys, of: Self.self))
                }

                \(access)init(reading reader: some CQRS.EnumCaseReader) throws {
                    switch reader.caseIndex {
            \(switchCases.joined(separator: "\n"))
                    }
                }
            }
            """
    }

    /// `(owner: try reader.decode(forKey: "owner"))`, or nothing for a case without values. The
    /// types are inferred: an extension at file scope could not resolve a type nested beside the enum.
    private static func arguments(_ clause: EnumCaseParameterClauseSyntax?) -> String {
        guard let parameters = clause?.parameters, !parameters.isEmpty else { return "" }
        let values = parameters.enumerated().map { item -> String in
            let (offset, parameter) = item
            let written = parameter.firstName?.text
            let label = written == "_" ? nil : written?.filter { $0 != "`" }
            let value = "try reader.decode(forKey: \"\(label ?? "_\(offset)")\")"
            return label == nil ? value : "\(written!): \(value)"
        }
        return "(" + values.joined(separator: ", ") + ")"
    }

    /// Whether the declaration writes its own `init(from:)` or coding keys (`CodingKeys`,
    /// `OpenedCodingKeys`…), which the synthesized format would follow, or has what generated
    /// code cannot mirror: unavailable or newer cases (`@available`), members under `#if`.
    private static func decodesItself(_ enumDecl: EnumDeclSyntax) -> Bool {
        enumDecl.memberBlock.members.contains { member in
            if member.decl.is(IfConfigDeclSyntax.self) { return true }
            if let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) {
                return caseDecl.attributes.contains { $0.as(AttributeSyntax.self)?.attributeName.trimmedDescription == "available" }
            }
            if let initializer = member.decl.as(InitializerDeclSyntax.self) {
                return initializer.signature.parameterClause.parameters.first?.firstName.text == "from"
            }
            let nestedName = member.decl.as(EnumDeclSyntax.self)?.name.text ?? member.decl.as(StructDeclSyntax.self)?.name.text
                ?? member.decl.as(TypeAliasDeclSyntax.self)?.name.text
            return nestedName?.hasSuffix("CodingKeys") == true
        }
    }
}
