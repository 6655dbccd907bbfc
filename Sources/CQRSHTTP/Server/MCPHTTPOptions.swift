import CQRSMCP

/// Settings of the Streamable HTTP transport.
public struct MCPHTTPOptions: Sendable {
    /// How a request's reply is sent when the client accepts both JSON and SSE.
    public enum ResponseMode: Sendable, Hashable {
        /// `application/json` (one JSON object).
        case json
        /// `text/event-stream` (one `message` event carrying the response).
        case sse
    }

    /// The MCP endpoint path, without a leading slash.
    public var path: String
    /// Origins allowed besides localhost ones, e.g. `https://app.example.com` (compared case-insensitively).
    public var allowedOrigins: Set<String>
    /// Whether `http(s)://localhost`, `127.0.0.1` and `[::1]` origins (any port) are allowed.
    public var allowLocalhostOrigins: Bool
    /// The host names (without port, lowercase) a request's `Host` may name, or nil to accept any.
    ///
    /// A server bound to loopback should accept only ``loopbackHosts``: a page whose DNS name an
    /// attacker re-points at 127.0.0.1 (DNS rebinding) then gets 403 even where it sends no `Origin`.
    public var allowedHosts: Set<String>?
    /// A static bearer token every request must carry (`Authorization: Bearer …`), compared in constant time.
    public var bearerToken: String?
    /// A token check returning the authenticated principal (passed to tools as `MCPCallContext.user`),
    /// or nil to reject. Used when set, instead of ``bearerToken``.
    public var authenticate: (@Sendable (String) async -> String?)?
    /// The `resource_metadata` URL (RFC 9728) advertised in `WWW-Authenticate` on 401, if any.
    public var resourceMetadataURL: String?
    /// The largest request body accepted, in bytes (larger: 413).
    public var maxBodyBytes: Int
    /// How long a legacy session may stay idle before it expires (then 404).
    public var sessionIdleTimeout: Duration
    /// The most legacy sessions kept at once. At the cap, `initialize` evicts the least recently
    /// used idle session; only when every session has a request in flight is it a 503.
    public var maxSessions: Int
    /// How long a TCP connection may stay open without a request in progress before it is closed,
    /// and how long a request body may take to arrive (then 408).
    public var connectionIdleTimeout: Duration
    /// The most TCP connections served at once; further ones wait in the listen backlog.
    public var maxConnections: Int
    /// The most requests served at once on one session (more: 429).
    public var maxInFlightPerSession: Int
    /// The reply format when the client accepts both.
    public var responseMode: ResponseMode

    /// `localhost`, `127.0.0.1` and `[::1]`: the names of a loopback-bound server.
    public static let loopbackHosts: Set<String> = ["localhost", "127.0.0.1", "[::1]"]

    /// Creates options.
    public init(
        path: String = "mcp", allowedOrigins: Set<String> = [], allowLocalhostOrigins: Bool = true,
        allowedHosts: Set<String>? = nil, bearerToken: String? = nil,
        authenticate: (@Sendable (String) async -> String?)? = nil, resourceMetadataURL: String? = nil,
        maxBodyBytes: Int = 4 << 20, sessionIdleTimeout: Duration = .seconds(10 * 60), maxSessions: Int = 1000,
        connectionIdleTimeout: Duration = .seconds(30), maxConnections: Int = 512,
        maxInFlightPerSession: Int = 64, responseMode: ResponseMode = .json
    ) {
        self.path = path
        self.allowedOrigins = Set(allowedOrigins.map { $0.lowercased() })
        self.allowLocalhostOrigins = allowLocalhostOrigins
        self.allowedHosts = allowedHosts.map { Set($0.map { $0.lowercased() }) }
        self.bearerToken = bearerToken
        self.authenticate = authenticate
        self.resourceMetadataURL = resourceMetadataURL
        self.maxBodyBytes = max(1024, maxBodyBytes)
        self.sessionIdleTimeout = sessionIdleTimeout
        self.maxSessions = max(1, maxSessions)
        self.connectionIdleTimeout = connectionIdleTimeout
        self.maxConnections = max(1, maxConnections)
        self.maxInFlightPerSession = max(1, maxInFlightPerSession)
        self.responseMode = responseMode
    }
}
