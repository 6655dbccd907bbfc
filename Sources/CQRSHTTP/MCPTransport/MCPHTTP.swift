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
/// sessionless 2026-07-28 revision) for an `MCPServer`, as Hummingbird routes.
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
