import CQRSMCP
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import Synchronization

/// POSTs of the two eras: sessionless 2026-07-28 requests and legacy session traffic.
extension MCPHTTPTransport {
    func postModern(
        _ request: Request, message: MCPInboundMessage, headerVersion: String?, accept: AcceptedTypes, user: String?
    ) async -> Response {
        let id = message.id
        guard let headerVersion else {
            return headerMismatch(id, "Header mismatch: MCP-Protocol-Version header is missing")
        }
        if case .string(let bodyVersion)? = message.metaProtocolVersion, bodyVersion != headerVersion {
            return headerMismatch(
                id, "Header mismatch: MCP-Protocol-Version header value '\(headerVersion)' does not match body value '\(bodyVersion)'")
        }
        guard message.isRequest, let method = message.method else {
            // No client notifications are defined over HTTP in this revision; accept and ignore.
            _ = await server.handle(message, session: nil, user: user)
            return Self.emptyResponse(.accepted)
        }
        guard let headerMethod = request.headers[Self.methodHeader] else {
            return headerMismatch(id, "Header mismatch: Mcp-Method header is missing")
        }
        guard headerMethod == method else {
            return headerMismatch(
                id, "Header mismatch: Mcp-Method header value '\(headerMethod)' does not match body value '\(method)'")
        }
        if let name = message.nameParameter {
            guard let rawHeader = request.headers[Self.nameHeader] else {
                return headerMismatch(id, "Header mismatch: Mcp-Name header is missing")
            }
            guard let headerName = Self.decodeHeaderValue(rawHeader), headerName == name else {
                return headerMismatch(id, "Header mismatch: Mcp-Name header does not match the body")
            }
        }
        guard let reply = await server.handle(message, session: nil, user: user) else {
            return Self.emptyResponse(.noContent)
        }
        let status: HTTPResponse.Status
        switch reply.errorCode {
        case .some(let code) where JSONRPCErrorCode.headerErrors.contains(code):
            status = .badRequest
        case .some(JSONRPCErrorCode.methodNotFound): status = .notFound
        default: status = .ok
        }
        return replyResponse(status, reply.bytes, accept: accept, sessionID: nil)
    }

    func postLegacy(
        _ request: Request, message: MCPInboundMessage, headerVersion: String?, accept: AcceptedTypes, user: String?
    ) async -> Response {
        if !message.isRequest, server.options.modernEnabled, headerVersion == MCPProtocol.modernVersion,
            request.headers[Self.sessionHeader] == nil
        {
            // A sessionless (2026-07-28) client's notification: nothing to do.
            return Self.emptyResponse(.accepted)
        }
        if message.isRequest, !message.isInitialize, server.options.modernEnabled, headerVersion == MCPProtocol.modernVersion,
            request.headers[Self.sessionHeader] == nil
        {
            return headerMismatch(
                message.id, "Header mismatch: MCP-Protocol-Version is 2026-07-28 but params._meta carries no protocol version")
        }
        if let headerVersion, !MCPProtocol.legacyVersions.contains(headerVersion),
            !(message.isInitialize && server.supportedVersions.contains(headerVersion))
        {
            return Self.httpError(
                .badRequest, code: JSONRPCErrorCode.invalidRequest, "Unsupported MCP-Protocol-Version: \(headerVersion)",
                data: ["supported": .array(server.supportedVersions.map { .string($0) }), "requested": .string(headerVersion)])
        }
        if message.isInitialize {
            let session = MCPSession(id: SessionStore.newID())
            guard let reply = await server.handle(message, session: session, user: user) else {
                return Self.emptyResponse(.noContent)
            }
            if reply.errorCode == nil, let sessionID = session.id {
                guard sessions.insert(session, principal: user) else {
                    session.close()
                    var busy = Self.httpError(.serviceUnavailable, code: JSONRPCErrorCode.invalidRequest, "Too many sessions, all of them busy; retry shortly")
                    busy.headers[.retryAfter] = "1"
                    return busy
                }
                logger.debug("session opened", metadata: ["session": "\(sessionID)"])
                return replyResponse(.ok, reply.bytes, accept: accept, sessionID: sessionID)
            }
            return replyResponse(.ok, reply.bytes, accept: accept, sessionID: nil)
        }
        guard let sessionID = request.headers[Self.sessionHeader] else {
            return Self.httpError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "Bad Request: Mcp-Session-Id header is required", id: message.id)
        }
        guard let session = sessions.lookup(sessionID, principal: user) else {
            return Self.httpError(.notFound, code: JSONRPCErrorCode.invalidRequest, "Session not found", id: message.id)
        }
        guard message.isRequest else {
            _ = await server.handle(message, session: session, user: user)
            return Self.emptyResponse(.accepted)
        }
        guard session.inFlightCount < options.maxInFlightPerSession else {
            return Self.httpError(.tooManyRequests, code: JSONRPCErrorCode.invalidRequest, "Too many requests in flight on this session", id: message.id)
        }
        let reply = await server.handle(message, session: session, user: user)
        sessions.touch(sessionID)
        guard let reply else {
            // Cancelled by notifications/cancelled or session end: the client expects no response.
            return Self.emptyResponse(.noContent)
        }
        return replyResponse(.ok, reply.bytes, accept: accept, sessionID: sessionID)
    }
}
