import CQRSSchema
import Foundation
import Logging

extension MCPServer {
    /// Parses and classifies a message without serving it.
    ///
    /// Invalid JSON gives a -32700 reply with `"id": null`; JSON that is not a single JSON-RPC 2.0
    /// request, notification or response (including batches) gives -32600.
    public func decode(_ message: [UInt8]) -> MCPInboundMessage {
        let value: JSONValue
        do {
            value = try JSONValue.parse(message, maxDepth: options.maxDepth)
        } catch {
            return invalid(nil, .parseError("Parse error: \(error.description)"))
        }
        guard case .object(let members) = value else {
            if case .array = value {
                return invalid(nil, .invalidRequest("Invalid Request: batches are not supported"))
            }
            return invalid(nil, .invalidRequest("Invalid Request: a message must be a JSON object"))
        }
        // The id, kept as raw text.
        var id: MCPRequestID?
        var idProblem: String?
        if let idValue = members["id"] {
            let raw = RawJSONScanner.memberValue("id", in: message) ?? idValue.serializedBytes()
            switch idValue {
            case .string, .int:
                id = MCPRequestID(raw: raw, value: idValue)
            case .double:
                // Only integers too large for Int are acceptable (no fraction, no exponent).
                if raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                    idProblem = "Invalid Request: id must be a string or an integer"
                } else {
                    id = MCPRequestID(raw: raw, value: idValue)
                }
            case .null:
                idProblem = "Invalid Request: id must not be null"
            default:
                idProblem = "Invalid Request: id must be a string or an integer"
            }
        }
        guard members["jsonrpc"] == .string("2.0") else {
            return invalid(id, .invalidRequest("Invalid Request: jsonrpc must be \"2.0\""))
        }
        if let idProblem { return invalid(nil, .invalidRequest(idProblem)) }
        guard let methodValue = members["method"] else {
            if id != nil, members["result"] != nil || members["error"] != nil {
                let outcome: JSONValue = members["error"].map { ["error": $0] } ?? ["result": members["result"] ?? .null]
                return MCPInboundMessage(kind: .response(id: id), params: outcome)
            }
            if members["id"] == nil, members["error"] != nil {
                return MCPInboundMessage(kind: .response(id: nil), params: nil)
            }
            return invalid(id, .invalidRequest("Invalid Request: method is missing"))
        }
        guard case .string(let method) = methodValue else {
            return invalid(id, .invalidRequest("Invalid Request: method must be a string"))
        }
        let params = members["params"]
        switch params {
        case nil, .object?:
            break
        case .array?:
            return invalid(id, .invalidParams("Invalid params: params must be an object"))
        default:
            return invalid(id, .invalidRequest("Invalid Request: params must be an object"))
        }
        if let id { return MCPInboundMessage(kind: .request(id: id, method: method), params: params) }
        var cancelledRaw: [UInt8]?
        if method == "notifications/cancelled" {
            cancelledRaw = RawJSONScanner.memberValue("params", in: message).flatMap {
                RawJSONScanner.memberValue("requestId", in: $0)
            }
        }
        return MCPInboundMessage(kind: .notification(method: method), params: params, cancelledRequestRaw: cancelledRaw)
    }

    func invalid(_ id: MCPRequestID?, _ error: MCPError) -> MCPInboundMessage {
        MCPInboundMessage(kind: .invalid(reply: .error(id: id, error)), params: nil)
    }
}
