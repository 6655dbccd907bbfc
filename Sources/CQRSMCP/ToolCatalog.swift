import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation

/// An ``OperationCatalog`` rendered as MCP: one tool per operation (its name, input and output
/// schemas, and its semantics as annotations), `cqrs://{type}/{id}` and `cqrs://{type}/{id}/events`
/// resources read through the `_get` and `_events` operations, and `{id}` completion through `_list`.
///
/// Invalid arguments, domain errors and conflicts are tool results with `isError: true` whose
/// `structuredContent` is the `CqrsError` JSON.
public struct ToolCatalog: MCPToolProvider {
    /// The operations rendered.
    public let catalog: OperationCatalog
    public let tools: [MCPTool]
    private let aggregateTypes: [String]

    /// The longest text mirror of a result; a longer one is a summary (the result is in structuredContent).
    public static let textMirrorLimit = 64 << 10

    /// Renders a catalog.
    public init(_ catalog: OperationCatalog) {
        self.catalog = catalog
        tools = catalog.operations.map { operation in
            MCPTool(
                name: operation.name, title: operation.title, description: operation.description,
                inputSchema: operation.input.schema, outputSchema: operation.output.schema,
                annotations: MCPToolAnnotations(
                    readOnlyHint: operation.semantics.readOnly,
                    destructiveHint: operation.semantics.readOnly ? false : operation.semantics.destructive,
                    idempotentHint: operation.semantics.idempotent, openWorldHint: false))
        }
        aggregateTypes = catalog.aggregateTypes.filter {
            catalog.operation(named: "\($0)_get") != nil || catalog.operation(named: "\($0)_events") != nil
        }
    }

    /// The catalog's published schemas, each at its `$id` (`cqrs://schemas/…`).
    public var resources: [MCPResource] {
        catalog.publishedSchemas.map { schema in
            MCPResource(
                uri: schema.id, name: schema.path.replacingOccurrences(of: ".schema.json", with: ""), title: schema.title,
                description: schema.describes, mimeType: "application/schema+json")
        }
    }

    public var resourceTemplates: [MCPResourceTemplate] {
        aggregateTypes.flatMap { type -> [MCPResourceTemplate] in
            [
                catalog.operation(named: "\(type)_get") == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}", name: "\(type)_state", title: "\(Naming.title(type)) state",
                    description: "The latest state of one \(type): {\"id\",\"version\",\"state\"}.",
                    mimeType: "application/json"),
                catalog.operation(named: "\(type)_events") == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}/events", name: "\(type)_events",
                    title: "\(Naming.title(type)) events",
                    description: "The first page of one \(type)'s events (at most 1000, within the page byte budget): {\"events\",\"total\",\"nextCursor\"?}; pass nextCursor as cursor to \(type)_events for the rest.",
                    mimeType: "application/json"),
            ].compactMap { $0 }
        }
    }

    // MARK: - Serving

    public func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult {
        guard let operation = catalog.operation(named: name) else {
            throw MCPError.invalidParams("Unknown tool: \(name)", data: ["name": .string(name)])
        }
        let commandContext = Self.commandContext(context, defaultUser: catalog.options.defaultUser)
        do {
            let arguments = arguments ?? .object([:])
            let output: JSONValue
            if let elicit = context.elicit, Self.needsConfirmation(operation, arguments) {
                output = try await confirmThenCall(operation, arguments: arguments, context: commandContext, elicit: elicit)
            } else {
                output = try await catalog.call(operation, arguments: arguments, context: commandContext)
            }
            return MCPToolResult(
                structuredContent: output, text: Self.textMirror(of: output, version: context.protocolVersion), isError: false)
        } catch {
            let failure = CqrsError.wrapping(error)
            return Self.errorResult(
                failure.with(requestId: commandContext.requestId), nextStep: nextStep(after: failure, in: operation))
        }
    }

    /// Whether a call would stop at the destructive-command confirmation (`confirm` is an argument of
    /// the operation, the call does not set it, and it is no dry run).
    static func needsConfirmation(_ operation: CatalogOperation, _ arguments: JSONValue) -> Bool {
        operation.input.schema["properties"]?["confirm"] != nil && arguments["confirm"] != .bool(true)
            && arguments["dryRun"] != .bool(true)
    }

    /// Asks the user to confirm a destructive command through elicitation, then runs it: the
    /// unconfirmed call says what would happen (or fails for its own reason, which is then the
    /// answer, or succeeds, e.g. an idempotent replay); the command runs with `confirm: true` only
    /// when the user accepts and ticks the box, and with the version the user saw as
    /// `expectedVersion`, so that a change while the question was open is a conflict.
    private func confirmThenCall(
        _ operation: CatalogOperation, arguments: JSONValue, context: CommandContext,
        elicit: @Sendable (String, JSONValue) async throws -> JSONValue
    ) async throws -> JSONValue {
        let question: CqrsError
        do {
            return try await catalog.call(operation, arguments: arguments, context: context)
        } catch let error as CqrsError where error.code == GenericError.preconditionRequired.code {
            question = error
        }
        let schema: JSONValue = [
            "type": "object", "required": ["confirm"],
            "properties": [
                "confirm": [
                    "type": "boolean", "title": .string("Run \(operation.name)"),
                    "description": "Check to go ahead; this cannot be undone.",
                ]
            ],
        ]
        let answer: JSONValue
        do {
            answer = try await elicit("\(operation.title): \(question.message). Go ahead?", schema)
        } catch {
            throw GenericError.preconditionRequired.error(
                "\(question.message); the confirmation request got no answer (\((error as? MCPError)?.message ?? "\(error)"))",
                hint: "Ask the user, then call again with confirm set to true.")
        }
        guard answer["action"] == "accept", answer["content"]?["confirm"] == .bool(true) else {
            throw GenericError.preconditionRequired.error(
                "\(question.message); the user did not confirm (\(answer["action"]?.stringValue ?? "no answer")): nothing was done",
                details: ["action": answer["action"] ?? .null],
                hint: "The user declined: do not retry unless they ask for it.")
        }
        var confirmed = arguments.objectValue ?? [:]
        confirmed["confirm"] = true
        if confirmed["expectedVersion"] == nil, let seen = question.details?["currentVersion"], seen.intValue ?? 0 > 0 {
            confirmed["expectedVersion"] = seen
        }
        return try await catalog.call(operation, arguments: .object(confirmed), context: context)
    }

    /// What an agent should do after an error, for the first line of its text.
    func nextStep(after error: CqrsError, in operation: CatalogOperation) -> String? {
        if let hint = error.hint { return hint }
        let type = operation.group
        switch error.code {
        case InfrastructureError.concurrencyError.code:
            guard let current = error.details?["currentVersion"]?.intValue else {
                return "Another writer keeps changing it: wait a moment and retry."
            }
            return "It is at version \(current): read it again with \(type)_get and retry with expectedVersion \(current) if the command still applies."
        case InfrastructureError.aggregateNotFound.code, InfrastructureError.notFound.code:
            return catalog.operation(named: "\(type)_list") == nil
                ? "Check the id." : "Check the id; \(type)_list lists the existing ones."
        case InfrastructureError.aggregateAlreadyExists.code: return "It exists already: read it with \(type)_get."
        case InfrastructureError.idempotencyKeyReused.code:
            return "That idempotencyKey belongs to another command: use a new key for this one."
        case InfrastructureError.validationFailed.code:
            return error.details?["violations"] == nil ? "Fix that argument and call again." : "Fix the arguments listed below and call again."
        case InfrastructureError.serviceUnavailable.code: return "The store is unreachable: retry in a few seconds."
        default: return nil
        }
    }

    public func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent] {
        guard uri.hasPrefix("cqrs://") else { throw MCPError.resourceNotFound(uri) }
        if let schema = catalog.publishedSchemas.first(where: { $0.id == uri }) {
            return [MCPResourceContent(uri: uri, mimeType: "application/schema+json", text: schema.text)]
        }
        let parts = uri.dropFirst("cqrs://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "events"), aggregateTypes.contains(parts[0]),
            let operation = catalog.operation(named: parts[0] + (parts.count == 2 ? "_get" : "_events")),
            let id = parts[1].removingPercentEncoding, !id.isEmpty
        else { throw MCPError.resourceNotFound(uri) }
        var arguments: [String: JSONValue] = ["id": .string(id)]
        if parts.count == 3 { arguments["limit"] = .int(ReadQuery.maximumLimit) }
        let json: JSONValue
        do {
            json = try await catalog.call(
                operation, arguments: .object(arguments),
                context: Self.commandContext(context, defaultUser: catalog.options.defaultUser))
        } catch {
            throw Self.protocolError(error, uri: uri)
        }
        return [MCPResourceContent(uri: uri, mimeType: "application/json", text: json.serialized())]
    }

    public var supportsSubscriptions: Bool { catalog.changes != nil }

    /// `cqrs://{type}/{id}` and `cqrs://{type}/{id}/events` change with every commit to the aggregate,
    /// in any process sharing the store.
    public func watchResource(uri: String) throws -> AsyncStream<Void> {
        guard uri.hasPrefix("cqrs://"), let changes = catalog.changes else { throw MCPError.resourceNotFound(uri) }
        let parts = uri.dropFirst("cqrs://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "events"), aggregateTypes.contains(parts[0]),
            catalog.operation(named: parts[0] + (parts.count == 2 ? "_get" : "_events")) != nil,
            let id = parts[1].removingPercentEncoding
        else { throw MCPError.resourceNotFound(uri) }
        do {
            try Identifier.check(id, as: "id")
        } catch {
            throw MCPError.invalidParams("Invalid params: \(CqrsError.wrapping(error).message)", data: ["uri": .string(uri)])
        }
        return changes.changes(aggregateType: parts[0], id: id)
    }

    public func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext)
        async throws -> MCPCompletion
    {
        guard case .resourceTemplate(let template) = reference, argument == "id", template.hasPrefix("cqrs://") else {
            return MCPCompletion(values: [])
        }
        let type = String(template.dropFirst("cqrs://".count).prefix { $0 != "/" })
        guard aggregateTypes.contains(type), let list = catalog.operation(named: "\(type)_list")?.list else {
            return MCPCompletion(values: [])
        }
        do {
            let filter: Filter? = value.isEmpty ? nil : .compare(field: "id", op: .startsWith, value: .string(value))
            let page = try await list.query(ReadQuery(filter: filter, limit: 100), parentId: nil)
            let ids = page["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            return MCPCompletion(values: ids, total: page["total"]?.intValue)
        } catch {
            throw Self.protocolError(error, uri: nil)
        }
    }

    // MARK: - Rendering

    /// A store or validation error as a JSON-RPC error that says what happened: 404 is "not found",
    /// 4xx invalid params, anything else (503 when the store is down) -32603 with the `CqrsError`
    /// as data, so that an outage never reads as a missing resource.
    static func protocolError(_ error: any Error, uri: String?) -> MCPError {
        let cqrs = CqrsError.wrapping(error)
        let data = try? CQRSJSON.value(of: cqrs)
        if cqrs.status == 404, let uri { return MCPError.resourceNotFound(uri) }
        if (400..<500).contains(cqrs.status) { return MCPError.invalidParams(cqrs.message, data: data) }
        let message = cqrs.status == 503 ? "Service unavailable: \(cqrs.message)" : cqrs.message
        return MCPError(code: JSONRPCErrorCode.internalError, message: message, data: data)
    }

    /// The text content of a result: its JSON, or a summary where that would double a large result.
    /// (2025-03-26 clients get no structuredContent, so they always get the JSON.)
    static func textMirror(of output: JSONValue, version: String) -> String {
        let text = output.serialized()
        guard MCPRevision(version: version).hasTitlesAndStructuredContent, text.utf8.count > textMirrorLimit else { return text }
        var summary = "The result is \(text.utf8.count) bytes of JSON; it is in structuredContent."
        if let next = output["nextCursor"]?.stringValue { summary += " More follow: pass cursor \(next)." }
        return summary
    }

    /// An error result: a first line naming the code and what to do next, one line per argument
    /// violation, then the `CqrsError` JSON (the same as `structuredContent`, for hosts that drop it).
    static func errorResult(_ error: CqrsError, nextStep: String? = nil) -> MCPToolResult {
        let json = (try? CQRSJSON.value(of: error)) ?? .object([:])
        let separator = error.message.last.map { ".!?".contains($0) } == true ? " " : ". "
        var lines = ["\(error.code): \(error.message)" + (nextStep.map { separator + $0 } ?? "")]
        for violation in error.details?["violations"]?.arrayValue ?? [] {
            let pointer = violation["pointer"]?.stringValue ?? ""
            lines.append("- \(pointer.isEmpty ? "(root)" : pointer): \(violation["message"]?.stringValue ?? "")")
        }
        lines.append(json.serialized(sortedKeys: true))
        return MCPToolResult(structuredContent: json, text: lines.joined(separator: "\n"), isError: true)
    }

    static func commandContext(_ context: MCPCallContext, defaultUser: String) -> CommandContext {
        // Never the session id: it is a bearer capability, and the audit log is readable by any client.
        let bag: [String: JSONValue] = ["transport": "mcp", "mcpRequestId": .string(context.requestId)]
        return CommandContext(currentUser: context.user ?? defaultUser, metadata: .object(bag))
    }
}
