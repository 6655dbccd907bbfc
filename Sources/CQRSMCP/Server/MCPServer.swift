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
/// Transports call ``handle(_:session:user:)-([UInt8],_,_)`` with each received message (or ``decode(_:)``
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
    /// - Parameters:
    ///   - info: who the server is (name, version, instructions).
    ///   - provider: the tools, resources and completions served.
    ///   - options: revisions, limits and timeouts.
    ///   - logger: Where faults are logged. By default a logger writing to standard error
    ///     (whatever the swift-log bootstrap says), so a stdio server's standard output stays clean.
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
        guard case .request(let id, let method) = message.kind else { return handleNonRequest(message, session: session) }
        return await serveRequest(id: id, method: method, params: message.params, session: session, user: user)
    }

    /// An invalid message's reply; responses and notifications take effect at once and get none.
    private func handleNonRequest(_ message: MCPInboundMessage, session: MCPSession?) -> MCPReply? {
        switch message.kind {
        case .invalid(let reply):
            return reply
        case .response(let id):
            if let id, let session { session.resolve(id: id, response: message.params ?? .null) }
        case .notification(let method):
            handleNotification(method, params: message.params, rawRequestID: message.cancelledRequestRaw, session: session)
        case .request:
            preconditionFailure("requests are served")
        }
        return nil
    }

    /// Serves a decoded message and hands the reply (nil when nothing is sent) to `reply`. A
    /// request of a session runs on a task of its own, which calls `reply` itself: the caller does
    /// not wait, and no thread hand-off back to it lengthens the round trip (the stdio transport).
    /// Anything else is handled before this returns, so notifications take effect in input order.
    public func handle(
        _ message: MCPInboundMessage, session: MCPSession, user: String? = nil, reply: @escaping @Sendable (MCPReply?) -> Void
    ) {
        guard case .request(let id, let method) = message.kind else {
            reply(handleNonRequest(message, session: session))
            return
        }
        let params = message.params
        switch beginRequest(id: id, method: method, params: params, session: session) {
        case .answered(let answer):
            reply(answer)
        case .tracked(let era):
            _ = session.attach(id) {
                Task {
                    let answer = await self.execute(id: id, method: method, params: params, era: era, session: session, user: user)
                    reply(session.finish(id) ? nil : answer)
                }
            }
        case .untracked:
            preconditionFailure("a request with a session is tracked")
        }
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

    private func serveRequest(id: MCPRequestID, method: String, params: JSONValue?, session: MCPSession?, user: String?)
        async -> MCPReply?
    {
        switch beginRequest(id: id, method: method, params: params, session: session) {
        case .answered(let reply):
            return reply
        case .untracked(let era):
            return await execute(id: id, method: method, params: params, era: era, session: nil, user: user)
        case .tracked(let era):
            guard let session else { return nil }
            let task = session.attach(id) {
                Task { await self.execute(id: id, method: method, params: params, era: era, session: session, user: user) }
            }
            let reply = await withTaskCancellationHandler {
                await task.value
            } onCancel: {
                task.cancel()
            }
            let cancelled = session.finish(id)
            return cancelled ? nil : reply
        }
    }

    private enum RequestStart {
        /// Answered without executing (a bad revision, a legacy `initialize`, a duplicate id).
        case answered(MCPReply?)
        /// Sessionless: executed without tracking.
        case untracked(Era)
        /// Registered with its session, so that notifications/cancelled can stop it.
        case tracked(Era)
    }

    private func beginRequest(id: MCPRequestID, method: String, params: JSONValue?, session: MCPSession?) -> RequestStart {
        let era: Era
        switch resolveEra(method: method, params: params, session: session) {
        case .success(let resolved): era = resolved
        case .failure(let error): return .answered(.error(id: id, error))
        }
        if method == "initialize", !era.isModern {
            return .answered(initialize(id: id, params: params, session: session))
        }
        guard let session else { return .untracked(era) }
        // A request on a connection with a session (stdio, legacy HTTP): track it so
        // notifications/cancelled can stop it.
        guard session.register(id) else {
            return .answered(.error(id: id, .invalidRequest("Invalid Request: a request with this id is already in flight")))
        }
        return .tracked(era)
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
