import SwiftDiagnostics
import SwiftSyntax
import SwiftSyntaxBuilder
import SwiftSyntaxMacros

/// `@DomainErrors(domain:prefix:)`: a `DomainErrorCode` conformance from cases marked
/// `@ErrorCode(index, .status, name:, hint:)`. The name defaults to the case name in
/// SCREAMING_SNAKE_CASE; two cases with one index or one name, an index outside 0…999 or a case
/// without `@ErrorCode` do not compile.
public struct DomainErrorsMacro: ExtensionMacro {
    public static func expansion(
        of node: AttributeSyntax,
        attachedTo declaration: some DeclGroupSyntax,
        providingExtensionsOf type: some TypeSyntaxProtocol,
        conformingTo protocols: [TypeSyntax],
        in context: some MacroExpansionContext
    ) throws -> [ExtensionDeclSyntax] {
        var diagnostics = Diagnostics(context: context)
        guard let enumDecl = declaration.as(EnumDeclSyntax.self) else {
            diagnostics.error(node, "@DomainErrors applies to an enum of error codes")
            return []
        }
        guard case .argumentList(let arguments) = node.arguments,
            let domain = arguments.first(where: { $0.label?.text == "domain" })?.expression.as(StringLiteralExprSyntax.self),
            let prefix = arguments.first(where: { $0.label?.text == "prefix" })?.expression.as(IntegerLiteralExprSyntax.self)
        else {
            diagnostics.error(node, "@DomainErrors needs a string literal domain and an integer literal prefix")
            return []
        }
        var specs: [(caseName: String, spec: String)] = []
        var indexes: [Int: String] = [:]
        var names: [String: String] = [:]
        for member in enumDecl.memberBlock.members {
            guard let caseDecl = member.decl.as(EnumCaseDeclSyntax.self) else { continue }
            guard let code = caseDecl.attributes.compactMap({ $0.as(AttributeSyntax.self) })
                .first(where: { $0.attributeName.trimmedDescription == "ErrorCode" })
            else {
                diagnostics.error(caseDecl, "Every case of a @DomainErrors enum needs @ErrorCode(index, status)")
                continue
            }
            guard caseDecl.elements.count == 1, let element = caseDecl.elements.first else {
                diagnostics.error(caseDecl, "@ErrorCode describes one case: declare these cases separately")
                continue
            }
            let caseName = element.name.text.filter { $0 != "`" }
            guard let parsed = parse(code, caseName: caseName, &diagnostics) else { continue }
            if let other = indexes[parsed.index] {
                diagnostics.error(code, "Cases '\(other)' and '\(caseName)' share the index \(parsed.index)")
            }
            if let other = names[parsed.name] {
                diagnostics.error(code, "Cases '\(other)' and '\(caseName)' share the code name \(parsed.name)")
            }
            indexes[parsed.index] = caseName
            names[parsed.name] = caseName
            let hint = parsed.hint.map { ", hint: \($0)" } ?? ""
            specs.append((caseName, "ErrorSpec(\(parsed.index), status: \(parsed.status), \"\(parsed.name)\"\(hint))"))
        }
        guard !diagnostics.failed else { return [] }
        let access = enumDecl.modifiers.contains { ["public", "open"].contains($0.name.text) } ? "public " : ""
        let conformance = protocols.isEmpty ? "" : ": DomainErrorCode"
        let cases = specs.map { "        case .\($0.caseName): \($0.spec)" }.joined(separator: "\n")
        let source = DeclSyntax(
            stringLiteral: "extension \(type.trimmedDescription)\(conformance) {\n"
                + "    \(access)static var domain: String { \(domain.trimmedDescription) }\n"
                + "    \(access)static var prefix: Int { \(prefix.trimmedDescription) }\n"
                + "    \(access)var spec: ErrorSpec {\n        switch self {\n\(cases)\n        }\n    }\n}")
        guard let extensionDecl = source.as(ExtensionDeclSyntax.self) else { return [] }
        return [extensionDecl]
    }

    private static func parse(_ attribute: AttributeSyntax, caseName: String, _ diagnostics: inout Diagnostics)
        -> (index: Int, status: Int, name: String, hint: String?)?
    {
        guard case .argumentList(let arguments) = attribute.arguments, arguments.count >= 2 else {
            diagnostics.error(attribute, "@ErrorCode takes an index and an HTTP status, e.g. @ErrorCode(1, .badRequest)")
            return nil
        }
        let list = Array(arguments)
        guard let index = list[0].expression.as(IntegerLiteralExprSyntax.self).flatMap({ Int($0.literal.text) }), (0...999).contains(index) else {
            diagnostics.error(list[0], "An error index is an integer literal from 0 to 999")
            return nil
        }
        let statusExpression = list[1].expression
        let status: Int?
        if let literal = statusExpression.as(IntegerLiteralExprSyntax.self) {
            status = Int(literal.literal.text)
        } else if let member = statusExpression.as(MemberAccessExprSyntax.self) {
            status = statuses[member.declName.baseName.text]
        } else {
            status = nil
        }
        guard let status, (400...599).contains(status) else {
            diagnostics.error(statusExpression, "An error status is a 4xx or 5xx HTTPResponse.Status such as .badRequest, .conflict or 409")
            return nil
        }
        var name = screamingSnakeCased(caseName)
        var hint: String?
        for argument in list.dropFirst(2) {
            switch argument.label?.text {
            case "name":
                guard let literal = argument.expression.as(StringLiteralExprSyntax.self), literal.segments.count == 1,
                    let text = literal.segments.first?.as(StringSegmentSyntax.self)?.content.text, !text.isEmpty
                else {
                    diagnostics.error(argument, "name: takes a non-empty string literal")
                    return nil
                }
                name = text
            case "hint": hint = argument.expression.trimmedDescription
            default: diagnostics.error(argument, "@ErrorCode takes name: and hint: after the index and status")
            }
        }
        return (index, status, name, hint)
    }

    /// `insufficientFunds` → `INSUFFICIENT_FUNDS`.
    static func screamingSnakeCased(_ name: String) -> String {
        EventTypesMacro.snakeCased(name).uppercased()
    }

    /// The 4xx and 5xx statuses of `HTTPResponse.Status` by name.
    static let statuses: [String: Int] = [
        "badRequest": 400, "unauthorized": 401, "paymentRequired": 402, "forbidden": 403, "notFound": 404,
        "methodNotAllowed": 405, "notAcceptable": 406, "proxyAuthenticationRequired": 407, "requestTimeout": 408,
        "conflict": 409, "gone": 410, "lengthRequired": 411, "preconditionFailed": 412, "contentTooLarge": 413,
        "uriTooLong": 414, "unsupportedMediaType": 415, "rangeNotSatisfiable": 416, "expectationFailed": 417,
        "misdirectedRequest": 421, "unprocessableContent": 422, "locked": 423, "failedDependency": 424,
        "tooEarly": 425, "upgradeRequired": 426, "preconditionRequired": 428, "tooManyRequests": 429,
        "requestHeaderFieldsTooLarge": 431, "unavailableForLegalReasons": 451, "internalServerError": 500,
        "notImplemented": 501, "badGateway": 502, "serviceUnavailable": 503, "gatewayTimeout": 504,
        "httpVersionNotSupported": 505, "variantAlsoNegotiates": 506, "insufficientStorage": 507, "loopDetected": 508,
        "notExtended": 510, "networkAuthenticationRequired": 511,
    ]
}

/// `@ErrorCode(index, status, name:, hint:)`: marks a case for `@DomainErrors`; generates nothing itself.
public struct ErrorCodeMacro: PeerMacro {
    public static func expansion(
        of node: AttributeSyntax, providingPeersOf declaration: some DeclSyntaxProtocol, in context: some MacroExpansionContext
    ) throws -> [DeclSyntax] { [] }
}
