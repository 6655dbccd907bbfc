import CQRSMCP
import CQRSSchema
import HTTPTypes
import Hummingbird
import NIOCore

/// The transport's headers and response bodies (JSON, one-event SSE, JSON-RPC errors).
extension MCPHTTPTransport {
    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let protocolVersionHeader = HTTPField.Name("MCP-Protocol-Version")!
    static let methodHeader = HTTPField.Name("Mcp-Method")!
    static let nameHeader = HTTPField.Name("Mcp-Name")!

    func replyResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8], accept: AcceptedTypes, sessionID: String?) -> Response {
        let useSSE = accept.sse && (!accept.json || options.responseMode == .sse)
        var headers = HTTPFields()
        if let sessionID { headers[Self.sessionHeader] = sessionID }
        if useSSE {
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            var event = Array("event: message\ndata: ".utf8)
            event += bytes
            event += Array("\n\n".utf8)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: event)))
        }
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func jsonResponse(_ status: HTTPResponse.Status, _ bytes: [UInt8]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func headerMismatch(_ id: MCPRequestID?, _ message: String) -> Response {
        let reply = MCPReply.error(id: id, MCPError(code: MCPProtocol.headerMismatchCode, message: message))
        return jsonResponse(.badRequest, id == nil ? Self.errorBody(code: MCPProtocol.headerMismatchCode, message, id: nil) : reply.bytes)
    }

    static func emptyResponse(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [:], body: .init())
    }

    /// An HTTP error whose body is a JSON-RPC error response (without `id` unless one is known).
    static func httpError(
        _ status: HTTPResponse.Status, code: Int, _ message: String, data: JSONValue? = nil, id: MCPRequestID? = nil
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: errorBody(code: code, message, data: data, id: id))))
    }

    static func errorBody(code: Int, _ message: String, data: JSONValue? = nil, id: MCPRequestID?) -> [UInt8] {
        if let id { return MCPReply.error(id: id, MCPError(code: code, message: message, data: data)).bytes }
        var error: [String: JSONValue] = ["code": .int(code), "message": .string(message)]
        if let data { error["data"] = data }
        // JSON-RPC 2.0: an error that belongs to no known request has `"id": null`.
        return JSONValue.object(["jsonrpc": "2.0", "id": .null, "error": .object(error)]).serializedBytes(sortedKeys: true)
    }
}
