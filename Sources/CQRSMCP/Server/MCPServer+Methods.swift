import CQRSSchema
import Foundation
import Logging

/// The MCP methods a server answers, once the request is parsed and its era known.
extension MCPServer {
    func dispatch(method: String, params: JSONValue?, era: Era, context: MCPCallContext, session: MCPSession?) async throws
        -> [String: JSONValue]
    {
        let modern = era.isModern
        switch method {
        case "server/discover" where modern:
            var result = cacheable([
                "supportedVersions": .array(supportedVersions.map { .string($0) }),
                "capabilities": capabilities(modern: true),
            ])
            if let instructions = info.instructions { result["instructions"] = .string(instructions) }
            return result
        case "ping" where !modern:
            return [:]
        case "logging/setLevel" where !modern:
            let levels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
            guard case .string(let level)? = params?["level"], levels.contains(level) else {
                throw MCPError.invalidParams("Invalid params: level must be one of \(levels.joined(separator: ", "))")
            }
            // Accepted and validated; this server sends no log notifications, so there is nothing to filter.
            return [:]
        case "tools/list":
            let tools = provider.tools
            let (range, next) = try page(count: tools.count, cursor: params, kind: "tools")
            var result: [String: JSONValue] = ["tools": .array(tools[range].map { toolJSON($0, version: era.version) })]
            if let next { result["nextCursor"] = .string(next) }
            return modern ? cacheable(result) : result
        case "tools/call":
            return try await callTool(params: params, era: era, context: context)
        case "resources/list":
            let resources = provider.resources
            let (range, next) = try page(count: resources.count, cursor: params, kind: "resources")
            var result: [String: JSONValue] = ["resources": .array(resources[range].map { resourceJSON($0, version: era.version) })]
            if let next { result["nextCursor"] = .string(next) }
            return modern ? cacheable(result) : result
        case "resources/templates/list":
            let templates = provider.resourceTemplates
            let (range, next) = try page(count: templates.count, cursor: params, kind: "templates")
            var result: [String: JSONValue] = [
                "resourceTemplates": .array(templates[range].map { templateJSON($0, version: era.version) })
            ]
            if let next { result["nextCursor"] = .string(next) }
            return modern ? cacheable(result) : result
        case "resources/read":
            guard case .string(let uri)? = params?["uri"] else {
                throw MCPError.invalidParams("Invalid params: resources/read needs a uri string")
            }
            let contents = try await provider.readResource(uri: uri, context: context)
            let result: [String: JSONValue] = [
                "contents": .array(
                    contents.map { item in
                        var entry: [String: JSONValue] = ["uri": .string(item.uri), "text": .string(item.text)]
                        if let mimeType = item.mimeType { entry["mimeType"] = .string(mimeType) }
                        return .object(entry)
                    })
            ]
            return modern ? cacheable(result, ttl: 0) : result
        case "completion/complete":
            return try await complete(params: params, context: context)
        case "resources/subscribe" where !modern, "resources/unsubscribe" where !modern:
            // Subscriptions live in a session; the sessionless 2026-07-28 revision has none.
            guard provider.supportsSubscriptions, let session else { throw MCPError.methodNotFound(method) }
            guard case .string(let uri)? = params?["uri"] else {
                throw MCPError.invalidParams("Invalid params: \(method) needs a uri string")
            }
            if method == "resources/subscribe" {
                try session.subscribe(uri: uri, changes: try provider.watchResource(uri: uri))
            } else {
                session.unsubscribe(uri: uri)
            }
            return [:]
        default:
            throw MCPError.methodNotFound(method)
        }
    }

    func callTool(params: JSONValue?, era: Era, context: MCPCallContext) async throws -> [String: JSONValue] {
        guard case .object(let members)? = params else {
            throw MCPError.invalidParams("Invalid params: tools/call needs params with a tool name")
        }
        guard case .string(let name)? = members["name"] else {
            throw MCPError.invalidParams("Invalid params: tools/call needs a name string")
        }
        let arguments = members["arguments"]
        if let arguments, arguments.objectValue == nil {
            throw MCPError.invalidParams("Invalid params: arguments must be an object")
        }
        let outcome = try await provider.callTool(name: name, arguments: arguments, context: context)
        var result: [String: JSONValue] = [
            "content": [["type": "text", "text": .string(outcome.text)]],
            "isError": .bool(outcome.isError),
        ]
        if let structured = outcome.structuredContent, MCPRevision(version: era.version).hasTitlesAndStructuredContent {
            result["structuredContent"] = structured
        }
        return result
    }

    func complete(params: JSONValue?, context: MCPCallContext) async throws -> [String: JSONValue] {
        guard case .object(let members)? = params, case .object(let ref)? = members["ref"] else {
            throw MCPError.invalidParams("Invalid params: completion/complete needs a ref object")
        }
        let reference: MCPCompletionReference
        switch (ref["type"], ref["name"], ref["uri"]) {
        case (.string("ref/prompt")?, .string(let name)?, _): reference = .prompt(name: name)
        case (.string("ref/resource")?, _, .string(let uri)?): reference = .resourceTemplate(uri: uri)
        default: throw MCPError.invalidParams("Invalid params: ref must be ref/prompt with a name or ref/resource with a uri")
        }
        guard case .object(let argument)? = members["argument"], case .string(let name)? = argument["name"],
            case .string(let value)? = argument["value"]
        else {
            throw MCPError.invalidParams("Invalid params: argument needs name and value strings")
        }
        let completion = try await provider.complete(reference: reference, argument: name, value: value, context: context)
        var result: [String: JSONValue] = [
            "values": .array(completion.values.prefix(100).map { .string($0) }), "hasMore": .bool(completion.hasMore),
        ]
        if let total = completion.total { result["total"] = .int(total) }
        return ["completion": .object(result)]
    }
}
