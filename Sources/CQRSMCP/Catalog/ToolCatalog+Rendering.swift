import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation

/// Results and errors as MCP renders them.
extension ToolCatalog {
    /// A store or validation error as a JSON-RPC error that says what happened: 404 is "not found",
    /// 4xx invalid params, anything else (503 when the store is down) -32603 with the `CqrsError`
    /// as data, so that an outage never reads as a missing resource.
    static func protocolError(_ error: any Error, uri: String?) -> MCPError {
        let cqrs = CqrsError.wrapping(error)
        let data = try? CQRSJSON.value(of: cqrs)
        if cqrs.status == 404, let uri { return MCPError.resourceNotFound(uri) }
        if (400..<500).contains(cqrs.status) { return MCPError.invalidParams(cqrs.message, data: data) }
        let message = cqrs.status == 503 ? "Service unavailable: \(cqrs.message)" : cqrs.message
        return MCPError(code: JSONRPCErrorCode.internalError, message: message, data: data)
    }

    /// The text content of a result: its JSON, or a summary where that would double a large result.
    /// (2025-03-26 clients get no structuredContent, so they always get the JSON.)
    static func textMirror(of output: JSONValue, version: String) -> String {
        let text = output.serialized()
        guard MCPRevision(version: version).hasTitlesAndStructuredContent, text.utf8.count > textMirrorLimit else { return text }
        var summary = "The result is \(text.utf8.count) bytes of JSON; it is in structuredContent."
        if let next = output["nextCursor"]?.stringValue { summary += " More follow: pass cursor \(next)." }
        return summary
    }

    /// An error result: a first line naming the code and what to do next, one line per argument
    /// violation, then the `CqrsError` JSON (the same as `structuredContent`, for hosts that drop it).
    static func errorResult(_ error: CqrsError, nextStep: String? = nil) -> MCPToolResult {
        let json = (try? CQRSJSON.value(of: error)) ?? .object([:])
        let separator = error.message.last.map { ".!?".contains($0) } == true ? " " : ". "
        var lines = ["\(error.code): \(error.message)" + (nextStep.map { separator + $0 } ?? "")]
        for violation in error.details?["violations"]?.arrayValue ?? [] {
            let pointer = violation["pointer"]?.stringValue ?? ""
            lines.append("- \(pointer.isEmpty ? "(root)" : pointer): \(violation["message"]?.stringValue ?? "")")
        }
        lines.append(json.serialized(sortedKeys: true))
        return MCPToolResult(structuredContent: json, text: lines.joined(separator: "\n"), isError: true)
    }

    static func commandContext(_ context: MCPCallContext, defaultUser: String) -> CommandContext {
        // Never the session id: it is a bearer capability, and the audit log is readable by any client.
        let bag: [String: JSONValue] = ["transport": "mcp", "mcpRequestId": .string(context.requestId)]
        return CommandContext(currentUser: context.user ?? defaultUser, metadata: .object(bag))
    }
}
