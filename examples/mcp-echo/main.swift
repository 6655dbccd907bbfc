// A tiny MCP server for interoperability checks (Python `mcp` client, curl, acceptance tests).
//
//     mcp-echo                 # stdio
//     mcp-echo --http 8931     # Streamable HTTP on 127.0.0.1:8931/mcp
//     mcp-echo --http 0 --token T --legacy-only
import CQRSHTTP
import CQRSMCP
import CQRSSchema
import Logging

struct EchoTools: MCPToolProvider {
    var tools: [MCPTool] {
        [
            MCPTool(
                name: "echo", title: "Echo", description: "Returns its text argument unchanged.",
                inputSchema: [
                    "type": "object", "properties": ["text": ["type": "string"]], "required": ["text"], "additionalProperties": false,
                ],
                outputSchema: ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"]],
                annotations: MCPToolAnnotations(readOnlyHint: true, openWorldHint: false)),
            MCPTool(
                name: "slow", title: "Slow", description: "Sleeps for ms milliseconds.",
                inputSchema: ["type": "object", "properties": ["ms": ["type": "integer", "minimum": 0]]],
                outputSchema: ["type": "object", "properties": ["slept": ["type": "integer"]], "required": ["slept"]],
                annotations: MCPToolAnnotations(readOnlyHint: true, openWorldHint: false)),
            MCPTool(
                name: "fail_domain", title: "Domain failure", description: "Always returns a domain error (isError).",
                inputSchema: ["type": "object", "additionalProperties": false], outputSchema: nil,
                annotations: MCPToolAnnotations(readOnlyHint: true, openWorldHint: false)),
        ]
    }

    func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult {
        switch name {
        case "echo":
            guard case .string(let text)? = arguments?["text"] else {
                return MCPToolResult(structuredContent: nil, text: "text must be a string", isError: true)
            }
            let result: JSONValue = ["text": .string(text)]
            return MCPToolResult(structuredContent: result, text: result.serialized(), isError: false)
        case "slow":
            let milliseconds = min(max(arguments?["ms"]?.intValue ?? 100, 0), 600_000)
            try await Task.sleep(for: .milliseconds(milliseconds))
            let result: JSONValue = ["slept": .int(milliseconds)]
            return MCPToolResult(structuredContent: result, text: result.serialized(), isError: false)
        case "fail_domain":
            return MCPToolResult(structuredContent: nil, text: "Account acc-1 not found", isError: true)
        default:
            throw MCPError.invalidParams("Unknown tool: \(name)")
        }
    }

    var resourceTemplates: [MCPResourceTemplate] {
        [MCPResourceTemplate(uriTemplate: "echo://{text}", name: "echo", title: "Echo", description: "The text itself", mimeType: "text/plain")]
    }

    func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent] {
        guard uri.hasPrefix("echo://"), uri.count > 7 else { throw MCPError.resourceNotFound(uri) }
        return [MCPResourceContent(uri: uri, mimeType: "text/plain", text: String(uri.dropFirst(7)))]
    }

    func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext) async throws
        -> [String]
    {
        ["alpha", "beta", "gamma"].filter { $0.hasPrefix(value) }
    }
}

MCPLogging.bootstrapStandardError(level: .info)
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, in arguments: [String] = arguments) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let server = MCPServer(
    info: .init(name: "mcp-echo", version: "0.1.0", title: "Echo", instructions: "Echo tools for protocol checks."),
    provider: EchoTools(), options: .init(modernEnabled: !arguments.contains("--legacy-only")))
if let port = option("--http").flatMap(Int.init) {
    let transport = MCPHTTPTransport(server: server, options: MCPHTTPOptions(bearerToken: option("--token")))
    try await transport.run(host: option("--host") ?? "127.0.0.1", port: port)
} else {
    await MCPStdioTransport(server: server).run()
}
