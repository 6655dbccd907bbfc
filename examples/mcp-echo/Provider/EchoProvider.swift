import CQRSMCP
import CQRSSchema
import Synchronization

/// A tiny provider for protocol checks (the echo example server and the transport tests): `echo`,
/// `slow` (sleeps `ms`), `fail` (a server fault), `domain_error` (an `isError` result), `whoami`, and
/// optional generated filler tools to exercise pagination.
public final class EchoProvider: MCPToolProvider {
    let fillerCount: Int
    private let events = Mutex<[String]>([])

    /// A provider with `fillerCount` extra tools.
    public init(fillerCount: Int = 0) {
        self.fillerCount = fillerCount
    }

    func record(_ event: String) {
        events.withLock { $0.append(event) }
    }

    /// What `slow` calls recorded (start, end, cancellation), for cancellation tests.
    public var recorded: [String] { events.withLock { $0 } }

    public var tools: [MCPTool] {
        let object: JSONValue = ["type": "object"]
        var tools = [
            MCPTool(
                name: "echo", title: "Echo", description: "Returns its text argument.",
                inputSchema: ["type": "object", "properties": ["text": ["type": "string"]], "required": ["text"]],
                outputSchema: ["type": "object", "properties": ["text": ["type": "string"]]],
                annotations: MCPToolAnnotations(readOnlyHint: true, openWorldHint: false)),
            MCPTool(
                name: "slow", title: nil, description: "Sleeps ms milliseconds.", inputSchema: object, outputSchema: nil,
                annotations: MCPToolAnnotations()),
            MCPTool(
                name: "fail", title: nil, description: "Throws an internal error.", inputSchema: object, outputSchema: nil,
                annotations: MCPToolAnnotations()),
            MCPTool(
                name: "domain_error", title: nil, description: "Returns isError.", inputSchema: object, outputSchema: nil,
                annotations: MCPToolAnnotations(destructiveHint: false)),
        ]
        for index in 0..<fillerCount {
            let name = "filler_" + String(String(index + 1000).dropFirst())
            tools.append(
                MCPTool(
                    name: name, title: nil, description: "Filler.", inputSchema: object, outputSchema: nil,
                    annotations: MCPToolAnnotations()))
        }
        return tools
    }

    struct SecretFault: Error {
        let detail = "secret database password in stack"
    }

    public func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult {
        switch name {
        case "echo":
            let text = arguments?["text"] ?? .null
            return MCPToolResult(structuredContent: ["text": text], text: text.stringValue ?? text.serialized(), isError: false)
        case "slow":
            let milliseconds = arguments?["ms"]?.intValue ?? 200
            record("slow-start:\(context.requestId)")
            do {
                try await Task.sleep(for: .milliseconds(milliseconds))
            } catch {
                record("slow-cancelled:\(context.requestId)")
                throw error
            }
            record("slow-end:\(context.requestId)")
            return MCPToolResult(structuredContent: ["slept": .int(milliseconds)], text: "slept", isError: false)
        case "fail":
            throw SecretFault()
        case "domain_error":
            return MCPToolResult(structuredContent: nil, text: "Account not found", isError: true)
        case "whoami":
            return MCPToolResult(
                structuredContent: [
                    "user": context.user.map { .string($0) } ?? .null, "session": context.sessionId.map { .string($0) } ?? .null,
                    "version": .string(context.protocolVersion), "requestId": .string(context.requestId),
                ], text: "", isError: false)
        default:
            if name.hasPrefix("filler_"), tools.contains(where: { $0.name == name }) {
                return MCPToolResult(structuredContent: nil, text: name, isError: false)
            }
            throw MCPError.invalidParams("Unknown tool: \(name)")
        }
    }

    public var resourceTemplates: [MCPResourceTemplate] {
        [MCPResourceTemplate(uriTemplate: "echo://{id}", name: "echo", title: "Echo", description: "Echoes the id", mimeType: "text/plain")]
    }

    public func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent] {
        guard uri.hasPrefix("echo://"), uri.count > 7 else { throw MCPError.resourceNotFound(uri) }
        return [MCPResourceContent(uri: uri, mimeType: "text/plain", text: String(uri.dropFirst(7)))]
    }

    public func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext) async throws
        -> MCPCompletion
    {
        if value == "many" { return MCPCompletion(values: (0..<150).map { "v\($0)" }) }
        return MCPCompletion(values: ["alpha", "beta", "gamma"].filter { $0.hasPrefix(value) })
    }
}
