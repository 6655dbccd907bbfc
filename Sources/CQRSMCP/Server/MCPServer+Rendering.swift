import CQRSSchema
import Foundation
import Logging

/// The JSON shapes of capabilities, tools, templates and list pages.
extension MCPServer {
    func cacheable(_ result: [String: JSONValue], ttl: Int? = nil) -> [String: JSONValue] {
        var result = result
        result["ttlMs"] = .int(ttl ?? options.listTTLMilliseconds)
        result["cacheScope"] = .string(options.listCacheScope)
        return result
    }

    func capabilities(modern: Bool) -> JSONValue {
        var capabilities: [String: JSONValue] = [
            "tools": ["listChanged": false],
            "resources": ["subscribe": .bool(!modern && provider.supportsSubscriptions), "listChanged": false],
            "completions": [:],
        ]
        if !modern { capabilities["logging"] = [:] }
        return .object(capabilities)
    }

    func implementation(version: String) -> JSONValue {
        var object: [String: JSONValue] = ["name": .string(info.name), "version": .string(info.version)]
        let revision = MCPRevision(version: version)
        if revision.hasTitlesAndStructuredContent, let title = info.title { object["title"] = .string(title) }
        if revision.hasImplementationDescriptions, let description = info.description {
            object["description"] = .string(description)
        }
        return .object(object)
    }

    func toolJSON(_ tool: MCPTool, version: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(tool.name), "description": .string(tool.description), "inputSchema": tool.inputSchema,
        ]
        let legacy0326 = !MCPRevision(version: version).hasTitlesAndStructuredContent
        if !legacy0326 {
            if let title = tool.title { object["title"] = .string(title) }
            if let output = tool.outputSchema { object["outputSchema"] = output }
        }
        var annotations: [String: JSONValue] = [:]
        if let title = tool.annotations.title { annotations["title"] = .string(title) }
        if let hint = tool.annotations.readOnlyHint { annotations["readOnlyHint"] = .bool(hint) }
        if let hint = tool.annotations.destructiveHint { annotations["destructiveHint"] = .bool(hint) }
        if let hint = tool.annotations.idempotentHint { annotations["idempotentHint"] = .bool(hint) }
        if let hint = tool.annotations.openWorldHint { annotations["openWorldHint"] = .bool(hint) }
        if !annotations.isEmpty { object["annotations"] = .object(annotations) }
        return .object(object)
    }

    func resourceJSON(_ resource: MCPResource, version: String) -> JSONValue {
        described(["uri": .string(resource.uri)], resource.name, resource.title, resource.description, resource.mimeType, version: version)
    }

    func templateJSON(_ template: MCPResourceTemplate, version: String) -> JSONValue {
        described(
            ["uriTemplate": .string(template.uriTemplate)], template.name, template.title, template.description, template.mimeType,
            version: version)
    }

    /// A resource's or template's name, title (from 2025-06-18), description and media type.
    private func described(
        _ object: [String: JSONValue], _ name: String, _ title: String?, _ description: String?, _ mimeType: String?, version: String
    ) -> JSONValue {
        var object = object
        object["name"] = .string(name)
        if let title, MCPRevision(version: version).hasTitlesAndStructuredContent { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if let mimeType { object["mimeType"] = .string(mimeType) }
        return .object(object)
    }

    /// The slice of a list to return and the cursor of the next page.
    func page(count: Int, cursor params: JSONValue?, kind: String) throws -> (Range<Int>, String?) {
        var start = 0
        if let cursorValue = params?["cursor"], cursorValue != .null {
            guard case .string(let cursor) = cursorValue, let offset = Self.decodeCursor(cursor, kind: kind), offset > 0,
                offset < count
            else {
                throw MCPError.invalidParams("Invalid params: invalid cursor")
            }
            start = offset
        }
        let end = min(count, start + options.pageSize)
        return (start..<end, end < count ? Self.encodeCursor(end, kind: kind) : nil)
    }

    static func encodeCursor(_ offset: Int, kind: String) -> String {
        Data("mcp1:\(kind):\(offset)".utf8).base64EncodedString()
    }

    static func decodeCursor(_ cursor: String, kind: String) -> Int? {
        guard cursor.count <= 64, let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else {
            return nil
        }
        let prefix = "mcp1:\(kind):"
        guard text.hasPrefix(prefix) else { return nil }
        let digits = text.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }
}
