import CQRSSchema
import Foundation
import Logging

/// Serves an ``MCPToolProvider`` over the Model Context Protocol, independent of any transport.
///
/// The server speaks JSON-RPC 2.0 and two eras of MCP at once:
/// - **legacy** revisions 2025-03-26, 2025-06-18 and 2025-11-25: an `initialize` handshake per
///   ``MCPSession`` (a stdio process or an HTTP session) negotiates the revision;
/// - **2026-07-28**: stateless; every request names its revision in
///   `params._meta["io.modelcontextprotocol/protocolVersion"]`, `server/discover` advertises the server.
///
/// Transports call ``handle(_:session:user:)`` with each received message (or ``decode(_:)``
/// first, then ``handle(_:session:user:)-(MCPInboundMessage,_,_)``, when they need to look at
/// the message before serving it).
public final class MCPServer: Sendable {
    /// Who the server is.
    public struct Info: Sendable, Hashable {
        /// A programmatic name.
        public var name: String
        /// The implementation's version.
        public var version: String
        /// A human title.
        public var title: String?
        /// A human description of the implementation.
        public var description: String?
        /// Guidance for the model about using this server (sent with `initialize` and `server/discover`).
        public var instructions: String?

        /// Creates server info.
        public init(name: String, version: String, title: String? = nil, description: String? = nil, instructions: String? = nil) {
            self.name = name
            self.version = version
            self.title = title
            self.description = description
            self.instructions = instructions
        }
    }

    /// Tunables.
    public struct Options: Sendable, Hashable {
        /// Items per page of `tools/list` and `resources/templates/list`. Large enough by default
        /// for a catalogue of a few dozen tools to fit on one page (several clients read page one only).
        public var pageSize: Int
        /// The deepest JSON nesting accepted in a message.
        public var maxDepth: Int
        /// Whether the 2026-07-28 revision is served. When false, `server/discover` is an unknown
        /// method and per-request `_meta` versions are ignored (legacy-only server).
        public var modernEnabled: Bool
        /// The `ttlMs` cache hint on 2026-07-28 list results.
        public var listTTLMilliseconds: Int
        /// The `cacheScope` of 2026-07-28 list results (`"public"` or `"private"`).
        public var listCacheScope: String
        /// How long a tool waits for the user's answer to an `elicitation/create` request.
        public var elicitationTimeout: Duration

        /// Creates options.
        public init(
            pageSize: Int = 100, maxDepth: Int = 64, modernEnabled: Bool = true, listTTLMilliseconds: Int = 0,
            listCacheScope: String = "private", elicitationTimeout: Duration = .seconds(120)
        ) {
            self.elicitationTimeout = elicitationTimeout
            self.pageSize = max(1, pageSize)
            self.maxDepth = max(2, maxDepth)
            self.modernEnabled = modernEnabled
            self.listTTLMilliseconds = max(0, listTTLMilliseconds)
            self.listCacheScope = listCacheScope
        }
    }

    /// Who the server is.
    public let info: Info
    /// What the server offers.
    public let provider: any MCPToolProvider
    /// Tunables.
    public let options: Options
    let logger: Logger

    /// Creates a server.
    /// - Parameter logger: Where faults are logged. By default a logger writing to standard error
    ///   (whatever the swift-log bootstrap says), so a stdio server's standard output stays clean.
    public init(info: Info, provider: any MCPToolProvider, options: Options = Options(), logger: Logger? = nil) {
        self.info = info
        self.provider = provider
        self.options = options
        self.logger = logger ?? Logger(label: "cqrs.mcp", factory: { StreamLogHandler.standardError(label: $0) })
    }

    /// The revisions served, newest first.
    public var supportedVersions: [String] {
        options.modernEnabled ? MCPProtocol.allVersions : MCPProtocol.legacyVersions
    }

    // MARK: - Entry points

    /// Serves one message and returns the bytes to send back, or nil when nothing is sent
    /// (notifications, responses, cancelled requests).
    /// - Parameters:
    ///   - message: One JSON-RPC message (UTF-8 JSON text, no framing).
    ///   - session: The legacy session the message belongs to; nil for sessionless traffic.
    ///   - user: The authenticated principal, passed to the provider in ``MCPCallContext/user``.
    public func handle(_ message: [UInt8], session: MCPSession?, user: String? = nil) async -> [UInt8]? {
        await handle(decode(message), session: session, user: user)?.bytes
    }

    /// Serves a decoded message; see ``handle(_:session:user:)-([UInt8],_,_)``.
    public func handle(_ message: MCPInboundMessage, session: MCPSession?, user: String? = nil) async -> MCPReply? {
        switch message.kind {
        case .invalid(let reply):
            return reply
        case .response(let id):
            if let id, let session { session.resolve(id: id, response: message.params ?? .null) }
            return nil
        case .notification(let method):
            handleNotification(method, params: message.params, rawRequestID: message.cancelledRequestRaw, session: session)
            return nil
        case .request(let id, let method):
            return await serveRequest(id: id, method: method, params: message.params, session: session, user: user)
        }
    }

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

    private func invalid(_ id: MCPRequestID?, _ error: MCPError) -> MCPInboundMessage {
        MCPInboundMessage(kind: .invalid(reply: .error(id: id, error)), params: nil)
    }

    // MARK: - Notifications

    private func handleNotification(_ method: String, params: JSONValue?, rawRequestID: [UInt8]?, session: MCPSession?) {
        switch method {
        case "notifications/initialized":
            session?.markInitializedNotification()
        case "notifications/cancelled":
            guard let session, let requestId = params?["requestId"] else { return }
            switch requestId {
            case .string, .int, .double: break
            default: return
            }
            let raw = rawRequestID ?? requestId.serializedBytes()
            if !session.cancel(requestID: MCPRequestID(raw: raw, value: requestId)) {
                logger.debug("cancel for a request not in flight", metadata: ["requestId": "\(requestId.serialized())"])
            }
        default:
            logger.debug("ignored notification", metadata: ["method": "\(method)"])
        }
    }

    // MARK: - Requests

    enum Era {
        case legacy(String)
        case modern(String)

        var version: String {
            switch self {
            case .legacy(let version), .modern(let version): return version
            }
        }
        var isModern: Bool {
            if case .modern = self { return true }
            return false
        }
    }

    private func serveRequest(id: MCPRequestID, method: String, params: JSONValue?, session: MCPSession?, user: String?)
        async -> MCPReply?
    {
        let era: Era
        switch resolveEra(method: method, params: params, session: session) {
        case .success(let resolved): era = resolved
        case .failure(let error): return .error(id: id, error)
        }
        if method == "initialize", !era.isModern {
            return initialize(id: id, params: params, session: session)
        }
        guard let session else {
            return await execute(id: id, method: method, params: params, era: era, session: nil, user: user)
        }
        // A request on a connection with a session (stdio, legacy HTTP): track it so
        // notifications/cancelled can stop it.
        guard session.register(id) else {
            return .error(id: id, .invalidRequest("Invalid Request: a request with this id is already in flight"))
        }
        let task = Task { await self.execute(id: id, method: method, params: params, era: era, session: session, user: user) }
        session.attach(id, task: task)
        let reply = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        let cancelled = session.finish(id)
        return cancelled ? nil : reply
    }

    private func resolveEra(method: String, params: JSONValue?, session: MCPSession?) -> Result<Era, MCPError> {
        let requested = params?["_meta"]?[MCPProtocol.protocolVersionMetaKey]
        if options.modernEnabled, let requested {
            guard case .string(let version) = requested else {
                return .failure(.invalidParams("Invalid params: \(MCPProtocol.protocolVersionMetaKey) must be a string"))
            }
            if version == MCPProtocol.modernVersion { return .success(.modern(version)) }
            if let negotiated = session?.negotiatedVersion, MCPProtocol.legacyVersions.contains(version) {
                return .success(.legacy(negotiated))
            }
            return .failure(unsupportedVersion(version))
        }
        if options.modernEnabled, method == "server/discover" {
            return .success(.modern(MCPProtocol.modernVersion))
        }
        if method == "initialize" { return .success(.legacy(MCPProtocol.legacyVersions[0])) }
        if let negotiated = session?.negotiatedVersion { return .success(.legacy(negotiated)) }
        if method == "ping" { return .success(.legacy(MCPProtocol.legacyVersions[0])) }
        if !Self.legacyMethods.contains(method) { return .failure(.methodNotFound(method)) }
        return .failure(.invalidRequest("Invalid Request: the session is not initialized (send initialize first)"))
    }

    static let legacyMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "completion/complete", "logging/setLevel",
    ]

    private func unsupportedVersion(_ requested: String) -> MCPError {
        MCPError(
            code: MCPProtocol.unsupportedProtocolVersionCode, message: "Unsupported protocol version",
            data: ["supported": .array(supportedVersions.map { .string($0) }), "requested": .string(requested)]
        )
    }

    private func initialize(id: MCPRequestID, params: JSONValue?, session: MCPSession?) -> MCPReply {
        guard case .object(let members)? = params, case .string(let requested)? = members["protocolVersion"] else {
            return .error(id: id, .invalidParams("Invalid params: initialize needs a protocolVersion string"))
        }
        if let capabilities = members["capabilities"], capabilities.objectValue == nil {
            return .error(id: id, .invalidParams("Invalid params: capabilities must be an object"))
        }
        let version = MCPProtocol.legacyVersions.contains(requested) ? requested : MCPProtocol.legacyVersions[0]
        if let session,
            !session.markInitialized(version: version, clientInfo: members["clientInfo"], capabilities: members["capabilities"])
        {
            return .error(id: id, .invalidRequest("Invalid Request: the session is already initialized"))
        }
        var result: [String: JSONValue] = [
            "protocolVersion": .string(version),
            "capabilities": capabilities(modern: false),
            "serverInfo": implementation(version: version),
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        logger.debug("initialized", metadata: ["version": "\(version)", "session": "\(session?.id ?? "-")"])
        return .result(id: id, .object(result))
    }

    private func execute(id: MCPRequestID, method: String, params: JSONValue?, era: Era, session: MCPSession?, user: String?)
        async -> MCPReply?
    {
        var context = MCPCallContext(
            requestId: id.description, protocolVersion: era.version, sessionId: session?.id, user: user,
            meta: params?["_meta"]
        )
        // Only when the request can reach the client now: an HTTP client without a GET stream
        // would leave the tool waiting for an answer to a question it never saw.
        if !era.isModern, let session, session.clientCapabilities?["elicitation"] != nil, session.canReachClient {
            let timeout = options.elicitationTimeout
            context.elicit = { message, schema in
                var request: [String: JSONValue] = ["message": .string(message), "requestedSchema": schema]
                if MCPRevision(version: era.version).hasElicitationModes { request["mode"] = "form" }
                return try await session.request("elicitation/create", params: .object(request), timeout: timeout)
            }
        }
        do {
            var result = try await dispatch(method: method, params: params, era: era, context: context, session: session)
            if era.isModern {
                result["resultType"] = .string("complete")
                var meta = result["_meta"]?.objectValue ?? [:]
                meta[MCPProtocol.serverInfoMetaKey] = implementation(version: era.version)
                result["_meta"] = .object(meta)
            }
            try Task.checkCancellation()
            return .result(id: id, .object(result))
        } catch var error as MCPError {
            if era.isModern, error.code == JSONRPCErrorCode.resourceNotFound { error.code = JSONRPCErrorCode.invalidParams }
            return .error(id: id, error)
        } catch is CancellationError {
            return nil
        } catch {
            if Task.isCancelled { return nil }
            logger.error(
                "tool provider fault", metadata: ["method": "\(method)", "requestId": "\(id)", "error": "\(String(reflecting: error))"]
            )
            return .error(id: id, .internalError)
        }
    }
}
