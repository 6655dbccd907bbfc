import CQRSMCP
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import Synchronization

/// The Streamable HTTP transport (MCP revisions 2025-03-26 to 2025-11-25 with sessions, and the
/// sessionless 2026-07-28 revision) for an ``MCPServer``, as Hummingbird routes.
///
/// - `POST /mcp`: one JSON-RPC message; a request is answered with JSON or SSE (per `Accept` and
///   ``MCPHTTPOptions/responseMode``), a notification or response with `202 Accepted`.
/// - `DELETE /mcp`: ends a legacy session. `GET /mcp` with `Mcp-Session-Id`: the session's
///   server-initiated messages (resource updates) as SSE, resumable with `Last-Event-ID`.
///
/// Legacy clients get an `Mcp-Session-Id` on `initialize` and must send it afterwards (missing: 400,
/// unknown or expired: 404). Requests carrying `params._meta["io.modelcontextprotocol/protocolVersion"]`
/// are served statelessly (2026-07-28): the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name`
/// headers must match the body (else 400, -32020).
public final class MCPHTTPTransport: Sendable {
    /// The server being served.
    public let server: MCPServer
    /// Settings.
    public let options: MCPHTTPOptions
    let sessions: SessionStore
    let logger: Logger
    private let sweeper: Task<Void, Never>

    /// Creates the transport.
    public init(server: MCPServer, options: MCPHTTPOptions = MCPHTTPOptions(), logger: Logger? = nil) {
        self.server = server
        self.options = options
        let sessions = SessionStore(idleTimeout: options.sessionIdleTimeout, capacity: options.maxSessions)
        self.sessions = sessions
        self.logger = logger ?? Logger(label: "cqrs.mcp.http")
        // Abandoned sessions end on their own, not only when someone looks them up.
        let interval = min(options.sessionIdleTimeout, .seconds(30))
        sweeper = Task { [weak sessions] in
            while (try? await Task.sleep(for: interval)) != nil {
                guard let sessions else { return }
                sessions.sweepExpired()
            }
        }
    }

    deinit { sweeper.cancel() }

    /// The number of live legacy sessions.
    public var sessionCount: Int { sessions.count }

    /// Adds `POST`, `GET` and `DELETE` on ``MCPHTTPOptions/path`` to a router, so other routes
    /// (the REST API…) share the same server. The router must run ``GuardMiddleware`` (host, origin,
    /// token), which sets the principal the handlers read.
    public func addRoutes<Context: GuardedRequestContext>(to router: some RouterMethods<Context>) {
        let path = RouterPath(options.path)
        router.post(path) { request, context in
            context.isGuarded ? await self.post(request, user: context.principal) : GuardMiddleware<Context>.unguarded(isMCP: true)
        }
        router.delete(path) { request, context in
            context.isGuarded ? await self.delete(request, user: context.principal) : GuardMiddleware<Context>.unguarded(isMCP: true)
        }
        router.get(path) { request, context in
            context.isGuarded ? self.get(request, user: context.principal) : GuardMiddleware<Context>.unguarded(isMCP: true)
        }
    }

    // MARK: - Handlers

    /// Serves `POST` on the MCP endpoint for an authenticated `user` (nil: anonymous); the caller
    /// has checked host, origin and token.
    func post(_ request: Request, user: String?) async -> Response {
        guard let contentType = request.headers[.contentType], mediaType(contentType) == "application/json" else {
            return Self.httpError(.unsupportedMediaType, code: JSONRPCErrorCode.invalidRequest, "Content-Type must be application/json")
        }
        let accept = AcceptedTypes(request.headers[values: .accept])
        guard accept.json || accept.sse else {
            return Self.httpError(.notAcceptable, code: JSONRPCErrorCode.invalidRequest, "Accept must include application/json or text/event-stream")
        }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes {
            return Self.httpError(.contentTooLarge, code: JSONRPCErrorCode.invalidRequest, "Request body too large")
        }
        let body: [UInt8]
        do {
            // A body that trickles in (slowloris) must not hold the connection past the idle timeout.
            let limit = options.maxBodyBytes
            body = try await Self.within(options.connectionIdleTimeout) { [request] in
                Array(buffer: try await request.body.collect(upTo: limit))
            }
        } catch is NIOTooManyBytesError {
            return Self.httpError(.contentTooLarge, code: JSONRPCErrorCode.invalidRequest, "Request body too large")
        } catch is DeadlinePassed {
            return Self.httpError(.requestTimeout, code: JSONRPCErrorCode.invalidRequest, "The request body did not arrive in time")
        } catch {
            return Self.httpError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "Could not read the request body")
        }

        let message = server.decode(body)
        if case .invalid(let reply) = message.kind {
            return jsonResponse(.badRequest, reply.bytes)
        }
        let headerVersion = request.headers[Self.protocolVersionHeader]
        if server.options.modernEnabled, message.metaProtocolVersion != nil, !message.isInitialize {
            return await postModern(request, message: message, headerVersion: headerVersion, accept: accept, user: user)
        }
        return await postLegacy(request, message: message, headerVersion: headerVersion, accept: accept, user: user)
    }

    private func postModern(
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

    private func postLegacy(
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

    /// Serves `DELETE` on the MCP endpoint for `user`: ends the legacy session named by `Mcp-Session-Id`.
    func delete(_ request: Request, user: String?) async -> Response {
        guard let sessionID = request.headers[Self.sessionHeader] else {
            return Self.httpError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "Bad Request: Mcp-Session-Id header is required")
        }
        guard let session = sessions.remove(sessionID, principal: user) else {
            return Self.httpError(.notFound, code: JSONRPCErrorCode.invalidRequest, "Session not found")
        }
        session.close()
        logger.debug("session closed", metadata: ["session": "\(sessionID)"])
        return Self.emptyResponse(.ok)
    }

    /// Serves `GET` on the MCP endpoint: a legacy session's stream of server-initiated messages
    /// (resource updates) as SSE, resumable with `Last-Event-ID`; `405` without a session (the
    /// 2026-07-28 revision has no such stream).
    func get(_ request: Request, user: String?) -> Response {
        guard let sessionID = request.headers[Self.sessionHeader] else {
            var headers = HTTPFields()
            headers[.allow] = "GET, POST, DELETE"
            headers[.contentType] = "application/json"
            return Response(
                status: .methodNotAllowed, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: Self.errorBody(code: JSONRPCErrorCode.invalidRequest, "Method Not Allowed: a stream needs an Mcp-Session-Id", id: nil))))
        }
        guard AcceptedTypes(request.headers[values: .accept]).sse else {
            return Self.httpError(.notAcceptable, code: JSONRPCErrorCode.invalidRequest, "Accept must include text/event-stream")
        }
        guard let session = sessions.lookup(sessionID, principal: user) else {
            return Self.httpError(.notFound, code: JSONRPCErrorCode.invalidRequest, "Session not found")
        }
        var lastID: Int?
        if let header = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let id = Int(header.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                return Self.httpError(.badRequest, code: JSONRPCErrorCode.invalidRequest, "Last-Event-ID must be an event id of this stream")
            }
            lastID = id
        }
        return SessionStream.response(session.outboundMessages(after: lastID), keepAlive: { [sessions] in sessions.touch(sessionID) })
    }

    struct DeadlinePassed: Error {}

    /// `body`'s result, or ``DeadlinePassed`` once `timeout` has passed (`body` is then cancelled).
    static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DeadlinePassed()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Decodes an `Mcp-Name`/`Mcp-Param-*` header value, including the `=?base64?…?=` form.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let encoded = value.dropFirst(9).dropLast(2)
        guard let data = Data(base64Encoded: String(encoded)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    private func mediaType(_ value: String) -> String {
        (value.split(separator: ";").first.map(String.init) ?? value).trimmingCharacters(in: .whitespaces).lowercased()
    }

    struct AcceptedTypes {
        var json = false
        var sse = false

        init(_ values: [String]) {
            for value in values {
                for item in value.split(separator: ",") {
                    let type = (item.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
                        .lowercased()
                    switch type {
                    case "application/json", "application/*": json = true
                    case "text/event-stream", "text/*": sse = true
                    case "*/*":
                        json = true
                        sse = true
                    default: break
                    }
                }
            }
        }
    }
}

extension MCPHTTPTransport {
    /// Builds a Hummingbird application serving only the MCP endpoint.
    /// - Parameters:
    ///   - host: The address to bind (loopback by default, as the MCP spec recommends for local servers).
    ///   - port: The port (0 picks a free one; read it in `onServerRunning`).
    ///   - onServerRunning: Called with the listening channel once the server runs.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 8080, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router(context: ServerRequestContext.self)
        router.add(middleware: RequestIdMiddleware())
        router.add(middleware: GuardMiddleware(options: options))
        addRoutes(to: router)
        return Application(
            router: router, server: httpServer,
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(options.maxConnections)),
            onServerRunning: onServerRunning, logger: logger)
    }

    /// HTTP/1.1 that closes a connection idle for ``MCPHTTPOptions/connectionIdleTimeout``; pass it
    /// as `server:` when building your own application around ``addRoutes(to:)``.
    public var httpServer: HTTPServerBuilder {
        .http1(configuration: HTTP1Channel.Configuration(idleTimeout: TimeAmount(options.connectionIdleTimeout)))
    }

    /// Builds and runs the application until SIGINT/SIGTERM (graceful shutdown).
    public func run(host: String = "127.0.0.1", port: Int = 8080) async throws {
        try await makeApplication(host: host, port: port).runService()
    }
}
