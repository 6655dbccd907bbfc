// A tiny MCP server for interoperability checks (Python `mcp` client, curl, acceptance tests).
//
//     mcp-echo                 # stdio
//     mcp-echo --http 8931     # Streamable HTTP on 127.0.0.1:8931/mcp
//     mcp-echo --http 0 --token T --legacy-only
import CQRSHTTP
import CQRSMCP
import CQRSSchema
import MCPEchoProvider
import Logging

MCPLogging.bootstrapStandardError(level: .info)
let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, in arguments: [String] = arguments) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let server = MCPServer(
    info: .init(name: "mcp-echo", version: "0.1.0", title: "Echo", instructions: "Echo tools for protocol checks."),
    provider: EchoProvider(), options: .init(modernEnabled: !arguments.contains("--legacy-only")))
if let port = option("--http").flatMap(Int.init) {
    let transport = MCPHTTPTransport(server: server, options: MCPHTTPOptions(bearerToken: option("--token")))
    try await transport.run(host: option("--host") ?? "127.0.0.1", port: port)
} else {
    await MCPStdioTransport(server: server).run()
}
