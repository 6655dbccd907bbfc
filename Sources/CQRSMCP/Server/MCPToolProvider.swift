import CQRSSchema

// The boundary between the MCP protocol layer (JSON-RPC, lifecycle, transports) and what the
// server offers (tools, resources, completions). The protocol layer knows nothing of aggregates;
// the catalog knows nothing of JSON-RPC.

/// Hints about a tool's behaviour, as listed in `tools/list`.
public struct MCPToolAnnotations: Sendable, Hashable {
    /// A human title for the tool.
    public var title: String?
    /// The tool only reads.
    public var readOnlyHint: Bool?
    /// The tool may destroy or irreversibly change data (meaningful when not read-only).
    public var destructiveHint: Bool?
    /// Calling the tool again with the same arguments has no further effect.
    public var idempotentHint: Bool?
    /// The tool reaches outside this server's own data.
    public var openWorldHint: Bool?

    /// Creates annotations.
    public init(
        title: String? = nil, readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil,
        openWorldHint: Bool? = nil
    ) {
        self.title = title
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
    }
}

/// One tool as listed by `tools/list`.
public struct MCPTool: Sendable, Hashable {
    /// The tool's name (`^[a-z0-9_]{1,64}$` for generated tools).
    public var name: String
    /// A human title.
    public var title: String?
    /// What the tool does, for the model.
    public var description: String
    /// A JSON Schema 2020-12 object schema of the arguments.
    public var inputSchema: JSONValue
    /// A JSON Schema of `structuredContent` on success.
    public var outputSchema: JSONValue?
    /// Behaviour hints.
    public var annotations: MCPToolAnnotations

    /// Creates a tool.
    public init(
        name: String, title: String?, description: String, inputSchema: JSONValue, outputSchema: JSONValue?,
        annotations: MCPToolAnnotations
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.inputSchema = inputSchema
        self.outputSchema = outputSchema
        self.annotations = annotations
    }
}

/// The result of `tools/call`: structured content plus the same JSON as a text block, or an error
/// the model can read and act on (`isError: true`).
public struct MCPToolResult: Sendable, Hashable {
    /// The structured result (validates against the tool's `outputSchema` when not an error).
    public var structuredContent: JSONValue?
    /// The text block (the serialized structured content, or a readable error message).
    public var text: String
    /// Whether the call failed (domain error, invalid arguments, conflict…).
    public var isError: Bool

    /// Creates a result.
    public init(structuredContent: JSONValue?, text: String, isError: Bool) {
        self.structuredContent = structuredContent
        self.text = text
        self.isError = isError
    }
}

/// A resource template as listed by `resources/templates/list`.
/// A resource with a fixed URI (`resources/list`), e.g. a published schema.
public struct MCPResource: Sendable, Hashable {
    /// The resource's URI, e.g. `cqrs://schemas/bank/account.events`.
    public var uri: String
    /// A programmatic name.
    public var name: String
    /// A human title.
    public var title: String?
    /// What the resource holds.
    public var description: String?
    /// The media type of its contents.
    public var mimeType: String?

    /// Creates a resource.
    public init(uri: String, name: String, title: String?, description: String?, mimeType: String?) {
        self.uri = uri
        self.name = name
        self.title = title
        self.description = description
        self.mimeType = mimeType
    }
}

public struct MCPResourceTemplate: Sendable, Hashable {
    /// An RFC 6570 URI template, e.g. `cqrs://account/{id}`.
    public var uriTemplate: String
    /// A programmatic name.
    public var name: String
    /// A human title.
    public var title: String?
    /// What the resource holds.
    public var description: String?
    /// The media type of its contents.
    public var mimeType: String?

    /// Creates a template.
    public init(uriTemplate: String, name: String, title: String?, description: String?, mimeType: String?) {
        self.uriTemplate = uriTemplate
        self.name = name
        self.title = title
        self.description = description
        self.mimeType = mimeType
    }
}

/// One content item of `resources/read`.
public struct MCPResourceContent: Sendable, Hashable {
    /// The resource's URI.
    public var uri: String
    /// The media type.
    public var mimeType: String?
    /// The text contents.
    public var text: String

    /// Creates a content item.
    public init(uri: String, mimeType: String?, text: String) {
        self.uri = uri
        self.mimeType = mimeType
        self.text = text
    }
}

/// What `completion/complete` refers to.
public enum MCPCompletionReference: Sendable, Hashable {
    /// A prompt argument (`ref/prompt`).
    case prompt(name: String)
    /// A resource template variable (`ref/resource`).
    case resourceTemplate(uri: String)
}

/// The answer to `completion/complete`: at most 100 values, and how many match in all.
public struct MCPCompletion: Sendable, Hashable {
    /// The values shown (at most 100; more are cut off).
    public var values: [String]
    /// How many values match in all, when known.
    public var total: Int?
    /// Whether more values match than are shown.
    public var hasMore: Bool

    /// A completion; `total` defaults to the number of values, `hasMore` to whether there are more than 100.
    public init(values: [String], total: Int? = nil, hasMore: Bool? = nil) {
        self.values = Array(values.prefix(100))
        self.total = total ?? values.count
        self.hasMore = hasMore ?? ((total ?? values.count) > self.values.count)
    }
}

/// Facts about the request being served, handed to the provider.
public struct MCPCallContext: Sendable {
    /// The JSON-RPC id of the request, rendered as text (used as the request id of commands).
    public var requestId: String
    /// The protocol revision in effect for this request.
    public var protocolVersion: String
    /// The legacy session id, when there is one.
    public var sessionId: String?
    /// The authenticated principal (e.g. from a bearer token), when known.
    public var user: String?
    /// The request's `_meta`, if any.
    public var meta: JSONValue?
    /// Asks the user through the client (`elicitation/create`, form mode) with a message and the
    /// schema of the answer; returns the client's result (`action`, `content`). Nil when the client
    /// declared no elicitation capability or the transport cannot carry the request.
    public var elicit: (@Sendable (_ message: String, _ requestedSchema: JSONValue) async throws -> JSONValue)?

    /// Creates a context.
    public init(requestId: String, protocolVersion: String, sessionId: String? = nil, user: String? = nil, meta: JSONValue? = nil) {
        self.requestId = requestId
        self.protocolVersion = protocolVersion
        self.sessionId = sessionId
        self.user = user
        self.meta = meta
    }
}

/// A protocol-level error: becomes a JSON-RPC error response, never a tool result.
public struct MCPError: Error, Sendable, Hashable {
    /// The JSON-RPC error code.
    public var code: Int
    /// A short message (never internal details).
    public var message: String
    /// Optional structured data.
    public var data: JSONValue?

    /// Creates an error.
    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// -32700.
    public static func parseError(_ message: String) -> MCPError { MCPError(code: JSONRPCErrorCode.parseError, message: message) }
    /// -32600.
    public static func invalidRequest(_ message: String) -> MCPError { MCPError(code: JSONRPCErrorCode.invalidRequest, message: message) }
    /// -32601.
    public static func methodNotFound(_ method: String) -> MCPError {
        MCPError(code: JSONRPCErrorCode.methodNotFound, message: "Method not found: \(method)")
    }
    /// -32602 (unknown tool, bad cursor, malformed params).
    public static func invalidParams(_ message: String, data: JSONValue? = nil) -> MCPError {
        MCPError(code: JSONRPCErrorCode.invalidParams, message: message, data: data)
    }
    /// -32603, with a fixed message that hides the fault's details.
    public static let internalError = MCPError(code: JSONRPCErrorCode.internalError, message: "Internal error")
    /// -32002 in legacy revisions (the 2026-07-28 revision uses -32602 instead).
    public static func resourceNotFound(_ uri: String) -> MCPError {
        MCPError(code: JSONRPCErrorCode.resourceNotFound, message: "Resource not found", data: ["uri": .string(uri)])
    }
}

/// What an MCP server offers. The generated catalog of aggregates implements it; the protocol
/// layer serves it over any transport.
public protocol MCPToolProvider: Sendable {
    /// Every tool, in a stable order.
    var tools: [MCPTool] { get }
    /// Calls a tool. Unknown tool: throw ``MCPError/invalidParams(_:data:)``. Invalid arguments, domain
    /// and infrastructure errors: return a result with `isError: true`. Any other thrown error is a
    /// server fault (-32603, details hidden).
    func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult
    /// The resources with fixed URIs, in a stable order (none by default).
    var resources: [MCPResource] { get }
    /// The resource templates, in a stable order.
    var resourceTemplates: [MCPResourceTemplate] { get }
    /// Reads a resource; throw ``MCPError/resourceNotFound(_:)`` or ``MCPError/invalidParams(_:data:)``.
    func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent]
    /// Completion values for an argument of a prompt or resource template.
    func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext)
        async throws -> MCPCompletion
    /// Whether clients may subscribe to resources (`resources/subscribe`).
    var supportsSubscriptions: Bool { get }
    /// The changes of one resource, for `resources/subscribe`: each element means it changed.
    /// Throw ``MCPError/resourceNotFound(_:)`` or ``MCPError/invalidParams(_:data:)`` for a bad URI.
    func watchResource(uri: String) throws -> AsyncStream<Void>
}

extension MCPToolProvider {
    public var resources: [MCPResource] { [] }

    public var supportsSubscriptions: Bool { false }

    public func watchResource(uri: String) throws -> AsyncStream<Void> {
        throw MCPError.methodNotFound("resources/subscribe")
    }
}
