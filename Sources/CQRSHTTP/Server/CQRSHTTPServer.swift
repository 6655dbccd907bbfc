import CQRS
import CQRSCatalog
import CQRSMCP
import CQRSSchema
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// One Hummingbird application serving a catalog every way: MCP at `/mcp`, the REST routes,
/// `/openapi.json`, the `/docs` page, `/health` and `/ready`, all behind the same middleware
/// (request id, Host/Origin check, bearer token).
public struct CQRSHTTPServer: Sendable {
    /// The MCP endpoint.
    public let transport: MCPHTTPTransport
    /// The REST routes.
    public let rest: RESTAPI
    /// The OpenAPI document served at `/openapi.json`.
    public let openAPI: JSONValue
    private let openAPIBytes: [UInt8]
    private let readiness: @Sendable () async throws -> Void
    /// The Prometheus text of every metric, served at `/metrics` (nil: no `/metrics`, no request metrics).
    public var metrics: (@Sendable () -> [UInt8])?
    /// Whether each request gets a server span (Hummingbird's `TracingMiddleware`; turn it on once a
    /// tracer is bootstrapped, e.g. with swift-otel). The catalog's and engine's spans are its children.
    public var tracing = false

    /// Creates the server.
    /// - Parameters:
    ///   - mcp: the MCP server (usually over a `ToolCatalog` of the same catalog).
    ///   - catalog: the operations the REST routes render.
    ///   - info: the OpenAPI document's title, version and description.
    ///   - options: guards and limits shared by every route.
    ///   - readiness: throws when the store does not answer (then `/ready` is a 503).
    ///   - logger: where the server logs (a `cqrs.mcp.http` logger by default).
    /// - Throws: a configuration error when a catalog route clashes with another or a server path.
    public init(
        mcp: MCPServer, catalog: OperationCatalog, info: OpenAPIDocument.Info, options: MCPHTTPOptions = MCPHTTPOptions(),
        readiness: @escaping @Sendable () async throws -> Void = {}, logger: Logger? = nil
    ) throws {
        transport = MCPHTTPTransport(server: mcp, options: options, logger: logger)
        rest = try RESTAPI(catalog: catalog, options: options, serverPaths: Self.serverPaths.union(["/" + options.path]))
        openAPI = OpenAPIDocument.make(catalog: catalog, info: info)
        openAPIBytes = openAPI.serializedBytes(sortedKeys: true)
        self.readiness = readiness
    }

    /// Serves one catalog both ways: MCP (a `ToolCatalog` of it) and REST, so the two cannot drift.
    /// - Parameters:
    ///   - catalog: the operations.
    ///   - server: the MCP server's name, version, title and instructions (its title, version and
    ///     instructions also describe the OpenAPI document).
    ///   - options: guards and limits shared by every route.
    ///   - readiness: throws when the store does not answer (then `/ready` is a 503).
    ///   - logger: where the server logs.
    /// - Throws: a configuration error when a catalog route clashes with another or a server path.
    public init(
        catalog: OperationCatalog, server: MCPServer.Info, options: MCPHTTPOptions = MCPHTTPOptions(),
        readiness: @escaping @Sendable () async throws -> Void = {}, logger: Logger? = nil
    ) throws {
        try self.init(
            mcp: MCPServer(info: server, provider: ToolCatalog(catalog), logger: logger), catalog: catalog,
            info: OpenAPIDocument.Info(
                title: server.title ?? server.name, version: server.version, description: server.instructions ?? ""),
            options: options, readiness: readiness, logger: logger)
    }

    /// The router with every route and the shared middleware.
    public func router() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: RequestIdMiddleware())
        // Requests by route, method and status, and their durations (Hummingbird's own middleware).
        if metrics != nil { router.add(middleware: MetricsMiddleware()) }
        if tracing { router.add(middleware: TracingMiddleware()) }
        router.add(middleware: GuardMiddleware(options: transport.options))
        if let metrics {
            // Behind the guard: a scraper sends the bearer token like any client.
            router.get("/metrics") { _, _ in Self.bytes(.ok, metrics(), type: "text/plain; version=0.0.4; charset=utf-8") }
        }
        transport.addRoutes(to: router)
        rest.addRoutes(to: router)
        EventStream.addRoutes(catalog: rest.catalog, to: router)
        router.get("/openapi.json") { _, _ in
            Self.bytes(.ok, openAPIBytes, type: "application/json")
        }
        router.get("/health") { _, _ in RESTAPI.json(.ok, ["status": "ok"]) }
        router.get("/ready") { _, context in
            do {
                try await MCPHTTPTransport.within(.seconds(5)) { try await readiness() }
                return RESTAPI.json(.ok, ["status": "ready"])
            } catch {
                var problem = Problem.error(from: error)
                if problem.status != 503 { problem = GenericError.serviceUnavailable.error("The store does not answer") }
                return Problem.response(for: problem, requestId: context.requestId)
            }
        }
        router.get("/docs") { _, _ in Self.asset(DocsAssets.html, type: "text/html; charset=utf-8") }
        router.get("/docs/docs.css") { _, _ in Self.asset(DocsAssets.css, type: "text/css; charset=utf-8") }
        router.get("/docs/docs.js") { _, _ in Self.asset(DocsAssets.javascript, type: "text/javascript; charset=utf-8") }
        RESTAPI.refuseOtherMethods(at: "/" + transport.options.path, allowing: [.get, .post, .delete], allow: "GET, POST, DELETE", on: router)
        for path in Self.serverPaths.sorted() {
            RESTAPI.refuseOtherMethods(at: path, allowing: [.get], on: router)
        }
        return router
    }

    /// The server's own paths besides MCP's (no catalog route may start with one).
    static let serverPaths: Set<String> = Set(["/openapi.json", "/health", "/ready", "/metrics"]).union(DocsAssets.paths)

    /// Builds the application.
    /// - Parameters:
    ///   - host: The address to bind (loopback by default).
    ///   - port: The port (0 picks a free one; read it in `onServerRunning`).
    ///   - onServerRunning: Called with the listening channel once the server runs.
    public func makeApplication(
        host: String = "127.0.0.1", port: Int = 8080, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(), server: transport.httpServer,
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(transport.options.maxConnections)),
            onServerRunning: onServerRunning, logger: transport.logger)
    }

    /// Builds and runs the application until SIGINT/SIGTERM (graceful shutdown).
    public func run(host: String = "127.0.0.1", port: Int = 8080) async throws {
        try await makeApplication(host: host, port: port).runService()
    }

    private static func asset(_ text: String, type: String) -> Response {
        var response = bytes(.ok, Array(text.utf8), type: type)
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return response
    }

    private static func bytes(_ status: HTTPResponse.Status, _ bytes: [UInt8], type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension DocsAssets {
    /// The docs page and its static files.
    static let paths: Set<String> = ["/docs", "/docs/docs.css", "/docs/docs.js"]
}
