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

        /// Creates options.
        public init(
            pageSize: Int = 100, maxDepth: Int = 64, modernEnabled: Bool = true, listTTLMilliseconds: Int = 0,
            listCacheScope: String = "private"
        ) {
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
        case .response:
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
                return MCPInboundMessage(kind: .response, params: nil)
            }
            if members["id"] == nil, members["error"] != nil {
                return MCPInboundMessage(kind: .response, params: nil)
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

    private enum Era {
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
        if let session, !session.markInitialized(version: version, clientInfo: members["clientInfo"]) {
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
        let context = MCPCallContext(
            requestId: id.description, protocolVersion: era.version, sessionId: session?.id, user: user,
            meta: params?["_meta"]
        )
        do {
            var result = try await dispatch(method: method, params: params, era: era, context: context)
            if era.isModern {
                result["resultType"] = .string("complete")
                var meta = result["_meta"]?.objectValue ?? [:]
                meta[MCPProtocol.serverInfoMetaKey] = implementation(version: era.version)
                result["_meta"] = .object(meta)
            }
            try Task.checkCancellation()
            return .result(id: id, .object(result))
        } catch var error as MCPError {
            if era.isModern, error.code == -32002 { error.code = -32602 }
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

    private func dispatch(method: String, params: JSONValue?, era: Era, context: MCPCallContext) async throws
        -> [String: JSONValue]
    {
        let modern = era.isModern
        switch method {
        case "server/discover" where modern:
            var result = cacheable([
                "supportedVersions": .array(supportedVersions.map { .string($0) }),
                "capabilities": capabilities(modern: true),
            ])
            if let instructions = info.instructions { result["instructions"] = .string(instructions) }
            return result
        case "ping" where !modern:
            return [:]
        case "logging/setLevel" where !modern:
            let levels = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
            guard case .string(let level)? = params?["level"], levels.contains(level) else {
                throw MCPError.invalidParams("Invalid params: level must be one of \(levels.joined(separator: ", "))")
            }
            // Accepted and validated; this server sends no log notifications, so there is nothing to filter.
            return [:]
        case "tools/list":
            let tools = provider.tools
            let (range, next) = try page(count: tools.count, cursor: params, kind: "tools")
            var result: [String: JSONValue] = ["tools": .array(tools[range].map { toolJSON($0, version: era.version) })]
            if let next { result["nextCursor"] = .string(next) }
            return modern ? cacheable(result) : result
        case "tools/call":
            return try await callTool(params: params, era: era, context: context)
        case "resources/list":
            _ = try page(count: 0, cursor: params, kind: "resources")
            let result: [String: JSONValue] = ["resources": .array([])]
            return modern ? cacheable(result) : result
        case "resources/templates/list":
            let templates = provider.resourceTemplates
            let (range, next) = try page(count: templates.count, cursor: params, kind: "templates")
            var result: [String: JSONValue] = [
                "resourceTemplates": .array(templates[range].map { templateJSON($0, version: era.version) })
            ]
            if let next { result["nextCursor"] = .string(next) }
            return modern ? cacheable(result) : result
        case "resources/read":
            guard case .string(let uri)? = params?["uri"] else {
                throw MCPError.invalidParams("Invalid params: resources/read needs a uri string")
            }
            let contents = try await provider.readResource(uri: uri, context: context)
            let result: [String: JSONValue] = [
                "contents": .array(
                    contents.map { item in
                        var entry: [String: JSONValue] = ["uri": .string(item.uri), "text": .string(item.text)]
                        if let mimeType = item.mimeType { entry["mimeType"] = .string(mimeType) }
                        return .object(entry)
                    })
            ]
            return modern ? cacheable(result, ttl: 0) : result
        case "completion/complete":
            return try await complete(params: params, context: context)
        default:
            throw MCPError.methodNotFound(method)
        }
    }

    private func callTool(params: JSONValue?, era: Era, context: MCPCallContext) async throws -> [String: JSONValue] {
        guard case .object(let members)? = params else {
            throw MCPError.invalidParams("Invalid params: tools/call needs params with a tool name")
        }
        guard case .string(let name)? = members["name"] else {
            throw MCPError.invalidParams("Invalid params: tools/call needs a name string")
        }
        let arguments = members["arguments"]
        if let arguments, arguments.objectValue == nil {
            throw MCPError.invalidParams("Invalid params: arguments must be an object")
        }
        let outcome = try await provider.callTool(name: name, arguments: arguments, context: context)
        var result: [String: JSONValue] = [
            "content": [["type": "text", "text": .string(outcome.text)]],
            "isError": .bool(outcome.isError),
        ]
        if let structured = outcome.structuredContent, era.version != "2025-03-26" {
            result["structuredContent"] = structured
        }
        return result
    }

    private func complete(params: JSONValue?, context: MCPCallContext) async throws -> [String: JSONValue] {
        guard case .object(let members)? = params, case .object(let ref)? = members["ref"] else {
            throw MCPError.invalidParams("Invalid params: completion/complete needs a ref object")
        }
        let reference: MCPCompletionReference
        switch (ref["type"], ref["name"], ref["uri"]) {
        case (.string("ref/prompt")?, .string(let name)?, _): reference = .prompt(name: name)
        case (.string("ref/resource")?, _, .string(let uri)?): reference = .resourceTemplate(uri: uri)
        default: throw MCPError.invalidParams("Invalid params: ref must be ref/prompt with a name or ref/resource with a uri")
        }
        guard case .object(let argument)? = members["argument"], case .string(let name)? = argument["name"],
            case .string(let value)? = argument["value"]
        else {
            throw MCPError.invalidParams("Invalid params: argument needs name and value strings")
        }
        let completion = try await provider.complete(reference: reference, argument: name, value: value, context: context)
        var result: [String: JSONValue] = [
            "values": .array(completion.values.prefix(100).map { .string($0) }), "hasMore": .bool(completion.hasMore),
        ]
        if let total = completion.total { result["total"] = .int(total) }
        return ["completion": .object(result)]
    }

    // MARK: - Building blocks

    private func cacheable(_ result: [String: JSONValue], ttl: Int? = nil) -> [String: JSONValue] {
        var result = result
        result["ttlMs"] = .int(ttl ?? options.listTTLMilliseconds)
        result["cacheScope"] = .string(options.listCacheScope)
        return result
    }

    private func capabilities(modern: Bool) -> JSONValue {
        var capabilities: [String: JSONValue] = [
            "tools": ["listChanged": false],
            "resources": ["subscribe": false, "listChanged": false],
            "completions": [:],
        ]
        if !modern { capabilities["logging"] = [:] }
        return .object(capabilities)
    }

    private func implementation(version: String) -> JSONValue {
        var object: [String: JSONValue] = ["name": .string(info.name), "version": .string(info.version)]
        if version != "2025-03-26" {
            if let title = info.title { object["title"] = .string(title) }
        }
        if version != "2025-03-26", version != "2025-06-18", let description = info.description {
            object["description"] = .string(description)
        }
        return .object(object)
    }

    private func toolJSON(_ tool: MCPTool, version: String) -> JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(tool.name), "description": .string(tool.description), "inputSchema": tool.inputSchema,
        ]
        let legacy0326 = version == "2025-03-26"
        if !legacy0326 {
            if let title = tool.title { object["title"] = .string(title) }
            if let output = tool.outputSchema { object["outputSchema"] = output }
        }
        var annotations: [String: JSONValue] = [:]
        if let title = tool.annotations.title { annotations["title"] = .string(title) }
        if let hint = tool.annotations.readOnlyHint { annotations["readOnlyHint"] = .bool(hint) }
        if let hint = tool.annotations.destructiveHint { annotations["destructiveHint"] = .bool(hint) }
        if let hint = tool.annotations.idempotentHint { annotations["idempotentHint"] = .bool(hint) }
        if let hint = tool.annotations.openWorldHint { annotations["openWorldHint"] = .bool(hint) }
        if !annotations.isEmpty { object["annotations"] = .object(annotations) }
        return .object(object)
    }

    private func templateJSON(_ template: MCPResourceTemplate, version: String) -> JSONValue {
        var object: [String: JSONValue] = ["uriTemplate": .string(template.uriTemplate), "name": .string(template.name)]
        if let title = template.title, version != "2025-03-26" { object["title"] = .string(title) }
        if let description = template.description { object["description"] = .string(description) }
        if let mimeType = template.mimeType { object["mimeType"] = .string(mimeType) }
        return .object(object)
    }

    /// The slice of a list to return and the cursor of the next page.
    private func page(count: Int, cursor params: JSONValue?, kind: String) throws -> (Range<Int>, String?) {
        var start = 0
        if let cursorValue = params?["cursor"], cursorValue != .null {
            guard case .string(let cursor) = cursorValue, let offset = Self.decodeCursor(cursor, kind: kind), offset > 0,
                offset < count
            else {
                throw MCPError.invalidParams("Invalid params: invalid cursor")
            }
            start = offset
        }
        let end = min(count, start + options.pageSize)
        return (start..<end, end < count ? Self.encodeCursor(end, kind: kind) : nil)
    }

    static func encodeCursor(_ offset: Int, kind: String) -> String {
        Data("mcp1:\(kind):\(offset)".utf8).base64EncodedString()
    }

    static func decodeCursor(_ cursor: String, kind: String) -> Int? {
        guard cursor.count <= 64, let data = Data(base64Encoded: cursor), let text = String(data: data, encoding: .utf8) else {
            return nil
        }
        let prefix = "mcp1:\(kind):"
        guard text.hasPrefix(prefix) else { return nil }
        let digits = text.dropFirst(prefix.count)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        return Int(digits)
    }
}
