import CQRS
import CQRSSchema
import Foundation

/// The MCP tools, resources and completions of registered aggregates and views, generated from
/// their Swift declarations (never written by hand).
///
/// For an aggregate of type `account`:
/// - one tool per create-command case (`account_open`) and per update-command case
///   (`account_deposit`, … with `id`, optional `expectedVersion` and `idempotencyKey`);
/// - `account_get` (latest state), `account_list` (filter, sort, paging over latest states, when a
///   state storage is registered) and `account_events` (the audit log);
/// - for each registered view: `<view>_get` and `<view>_list` (child views take `parentId`).
///
/// Arguments are validated against each tool's `inputSchema` before anything runs; a violation, a
/// domain error or a conflict is a tool result with `isError: true` whose `structuredContent` is the
/// `CqrsError` JSON.
public struct ToolCatalog: MCPToolProvider {
    /// Which tools the catalog exposes.
    public struct Options: Sendable {
        /// When set, only these aggregate types, view types or tool names are exposed.
        public var include: Set<String>?
        /// The user recorded on commands when the transport authenticated nobody.
        public var defaultUser: String
        /// About the most bytes of JSON one list or audit-log page carries: a page stops before the
        /// item that would pass it (it always holds at least one) and returns `nextCursor`.
        public var pageByteBudget: Int

        /// Creates options.
        public init(include: Set<String>? = nil, defaultUser: String = "anonymous", pageByteBudget: Int = 4 << 20) {
            self.include = include
            self.defaultUser = defaultUser
            self.pageByteBudget = max(1024, pageByteBudget)
        }
    }

    struct Entry: Sendable {
        var tool: MCPTool
        var group: String
        var call: @Sendable (JSONValue, CommandContext) async throws -> JSONValue
    }

    /// What the resources of one aggregate type read; each part exists only when the allowlist
    /// exposes the tool that reads the same thing (`_get`, `_events`, `_list`).
    struct ResourceSource: Sendable {
        var state: (@Sendable (String) async throws -> JSONValue?)?
        var events: (@Sendable (String) async throws -> JSONValue?)?
        var ids: (@Sendable (String) async throws -> MCPCompletion)?
    }

    private(set) var entries: [Entry] = []
    private var entryIndex: [String: Int] = [:]
    private var resourceSources: [String: ResourceSource] = [:]
    private var resourceOrder: [String] = []
    /// The options in force.
    public let options: Options

    /// An empty catalog.
    public init(options: Options = Options()) {
        self.options = options
    }

    public var tools: [MCPTool] { entries.map(\.tool) }

    public var resourceTemplates: [MCPResourceTemplate] {
        resourceOrder.flatMap { type -> [MCPResourceTemplate] in
            let source = resourceSources[type]
            return [
                source?.state == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}", name: "\(type)_state", title: "\(Naming.title(type)) state",
                    description: "The latest state of one \(type): {\"id\",\"version\",\"state\"}.",
                    mimeType: "application/json"),
                source?.events == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}/events", name: "\(type)_events",
                    title: "\(Naming.title(type)) events",
                    description: "The first page of one \(type)'s events (at most 1000, within the page byte budget): {\"events\",\"total\",\"nextCursor\"?}; pass nextCursor as cursor to \(type)_events for the rest.",
                    mimeType: "application/json"),
            ].compactMap { $0 }
        }
    }

    // MARK: - Registration

    /// Registers an aggregate's commands, reads and audit log.
    ///
    /// - Parameter states: the latest-state storage kept by a ``LatestStateProjection``; when given,
    ///   `<type>_list` is generated and `{id}` completion uses it.
    /// - Throws: a configuration error when a generated tool name is invalid or taken.
    public mutating func register<A: CommandHandler>(
        _ engine: CommandEngine<A>, states: (any ReadStorage<AggregateState<A>>)? = nil
    ) throws
    where
        A: JSONSchemaProviding, A.CreateCommand: JSONSchemaProviding, A.UpdateCommand: JSONSchemaProviding,
        A.Event: JSONSchemaProviding
    {
        let type = A.aggregateType
        let noun = Naming.title(type).lowercased()
        let budget = options.pageByteBudget
        let idProperty = Self.idSchema("The \(noun)'s id.")
        let commandOutput = Self.objectSchema(
            [
                ("id", ["type": "string", "description": .string("The \(noun)'s id.")]),
                ("version", ["type": "integer", "minimum": 0, "description": "The version after the command."]),
                ("globalPosition", ["type": "integer", "minimum": 1, "description": "The global log position of the last event written."]),
                ("replayed", ["type": "boolean", "description": "True when this repeats the stored result of an earlier call with the same idempotency key."]),
            ], required: ["id", "version"], additional: false)
        let idempotencyProperty: JSONValue = [
            "type": "string", "minLength": 1, "maxLength": 200, "pattern": .string(Identifier.pattern),
            "description": "Optional key that makes retries safe: a repeated call with the same key and arguments returns the first result and changes nothing.",
        ]

        for command in try Self.cases(of: A.CreateCommand.jsonSchema, defaultName: "create", group: type) {
            var properties = command.properties
            properties.append(("idempotencyKey", idempotencyProperty))
            let input = Self.objectSchema(properties, required: command.required, additional: false)
            try add(
                Entry(
                    tool: MCPTool(
                        name: "\(type)_\(Naming.snake(command.name))", title: "\(Naming.title(type)): \(Naming.title(command.name).lowercased())",
                        description: command.description ?? "Creates a \(noun) (\(command.name)).",
                        inputSchema: input, outputSchema: commandOutput,
                        annotations: MCPToolAnnotations(
                            readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false)),
                    group: type,
                    call: { arguments, context in
                        var members = arguments.objectValue ?? [:]
                        let key = members.removeValue(forKey: "idempotencyKey")?.stringValue
                        let decoded = try Self.decodeCommand(A.CreateCommand.self, command: command, members: members)
                        let result = try await engine.create(
                            decoded, context: context,
                            metadata: ["tool": "\(type)_\(Naming.snake(command.name))"], idempotencyKey: key)
                        return Self.commandResult(result)
                    }))
        }

        for command in try Self.cases(of: A.UpdateCommand.jsonSchema, defaultName: "update", group: type) {
            for reserved in ["id", "expectedVersion", "idempotencyKey"] where command.properties.contains(where: { $0.0 == reserved }) {
                throw InfrastructureError.configurationError.error(
                    "\(type) command \(command.name) has a field named \(reserved), which the tool reserves")
            }
            var properties: [(String, JSONValue)] = [("id", idProperty)]
            properties += command.properties
            properties.append(
                ("expectedVersion", [
                    "type": "integer", "minimum": 1, "maximum": .int(Int.max),
                    "description": .string("Optional: fail with a conflict unless the \(noun) is at this version."),
                ]))
            properties.append(("idempotencyKey", idempotencyProperty))
            let destructive = A.destructiveCommands.contains(command.name)
            let toolName = "\(type)_\(Naming.snake(command.name))"
            try add(
                Entry(
                    tool: MCPTool(
                        name: toolName, title: "\(Naming.title(type)): \(Naming.title(command.name).lowercased())",
                        description: command.description ?? "Runs \(command.name) on a \(noun).",
                        inputSchema: Self.objectSchema(properties, required: ["id"] + command.required, additional: false),
                        outputSchema: commandOutput,
                        annotations: MCPToolAnnotations(
                            readOnlyHint: false, destructiveHint: destructive, idempotentHint: false,
                            openWorldHint: false)),
                    group: type,
                    call: { arguments, context in
                        var members = arguments.objectValue ?? [:]
                        let id = members.removeValue(forKey: "id")?.stringValue ?? ""
                        let expected = try Self.integer(members.removeValue(forKey: "expectedVersion"), "expectedVersion")
                        let key = members.removeValue(forKey: "idempotencyKey")?.stringValue
                        let decoded = try Self.decodeCommand(A.UpdateCommand.self, command: command, members: members)
                        let result = try await engine.update(
                            id: id, decoded, context: context,
                            metadata: ["tool": toolName], expectedVersion: expected, idempotencyKey: key)
                        return Self.commandResult(result)
                    }))
        }

        let stateSchema = AggregateState<A>.jsonSchema.json
        try add(
            Entry(
                tool: MCPTool(
                    name: "\(type)_get", title: "\(Naming.title(type)): get",
                    description: "The latest state of one \(noun), read from its events: {\"id\",\"version\",\"state\"}.",
                    inputSchema: Self.objectSchema([("id", idProperty)], required: ["id"], additional: false),
                    outputSchema: stateSchema, annotations: Self.readAnnotations),
                group: type,
                call: { arguments, _ in
                    let id = arguments["id"]?.stringValue ?? ""
                    guard let loaded = try await engine.load(id: id) else { throw CqrsError.aggregateNotFound(type, id: id) }
                    return try CQRSJSON.value(of: AggregateState(id: id, version: loaded.version, state: loaded.state))
                }))

        if let states {
            try add(
                Self.listEntry(
                    name: "\(type)_list", title: "\(Naming.title(type)): list", group: type,
                    description: "Lists \(noun)s (latest states) with optional filters, sorting and paging.",
                    model: AggregateState<A>.self, itemSchema: stateSchema, storage: states, parentDescription: nil,
                    budget: options.pageByteBudget))
        }

        let entrySchema = AuditEntry.jsonSchema.json
        try add(
            Entry(
                tool: MCPTool(
                    name: "\(type)_events", title: "\(Naming.title(type)): events",
                    description: "The audit log of one \(noun): its events in order, paged.",
                    inputSchema: Self.objectSchema(
                        [("id", idProperty), ("limit", Self.limitSchema), ("cursor", Self.cursorSchema)], required: ["id"],
                        additional: false),
                    outputSchema: Self.objectSchema(
                        [
                            ("events", ["type": "array", "items": entrySchema]),
                            ("nextCursor", ["type": "string", "description": "Pass it as `cursor` to get the next page."]),
                            ("total", ["type": "integer", "minimum": 0, "description": "The number of events in all."]),
                        ], required: ["events", "total"], additional: false),
                    annotations: Self.readAnnotations),
                group: type,
                call: { arguments, _ in
                    let id = arguments["id"]?.stringValue ?? ""
                    let limit = try Self.integer(arguments["limit"], "limit") ?? ReadQuery.defaultLimit
                    let offset = try Cursor.offset(arguments["cursor"])
                    let page = try await engine.auditLog(id: id, offset: offset, limit: limit)
                    let events = try page.events.map { try CQRSJSON.value(of: AuditEntry($0)) }
                    return Self.page(events, key: "events", offset: offset, total: page.total, budget: budget)
                }))

        // The allowlist bounds every surface: a resource or completion reads only what an exposed tool reads.
        var source = ResourceSource()
        if entryIndex["\(type)_get"] != nil {
            source.state = { id in
                guard let loaded = try await engine.load(id: id) else { return nil }
                return try CQRSJSON.value(of: AggregateState(id: id, version: loaded.version, state: loaded.state))
            }
        }
        if entryIndex["\(type)_events"] != nil {
            source.events = { id in
                let page: AuditPage<A.Event>
                do {
                    page = try await engine.auditLog(id: id, offset: 0, limit: ReadQuery.maximumLimit)
                } catch let error as CqrsError where error.code == InfrastructureError.aggregateNotFound.code {
                    return nil
                }
                let events = try page.events.map { try CQRSJSON.value(of: AuditEntry($0)) }
                return Self.page(events, key: "events", offset: 0, total: page.total, budget: budget)
            }
        }
        if let states, entryIndex["\(type)_list"] != nil {
            source.ids = { prefix in
                let filter: Filter? = prefix.isEmpty ? nil : .compare(field: "id", op: .startsWith, value: .string(prefix))
                let page = try await states.query(ReadQuery(filter: filter, limit: 100), parentId: nil)
                return MCPCompletion(values: page.items.map(\.id), total: page.total)
            }
        }
        if source.state != nil || source.events != nil || source.ids != nil {
            resourceOrder.append(type)
            resourceSources[type] = source
        }
    }

    /// Registers a view's `<view>_get` and `<view>_list` tools.
    public mutating func register<V: View>(view: V.Type, storage: any ReadStorage<V>) throws where V: JSONSchemaProviding {
        let name = Naming.snake(V.modelType)
        let noun = Naming.title(V.modelType).lowercased()
        let parent = Naming.title(V.Source.aggregateType).lowercased()
        let schema = V.jsonSchema.json
        var keyProperties: [(String, JSONValue)] = []
        if V.isChild {
            keyProperties.append(("parentId", Self.idSchema("The id of the \(parent) it belongs to.")))
        }
        keyProperties.append(("id", Self.idSchema("The \(noun)'s id.")))
        try add(
            Entry(
                tool: MCPTool(
                    name: "\(name)_get", title: "\(Naming.title(V.modelType)): get",
                    description: (schema["description"]?.stringValue ?? "One \(noun).") + " Returns one \(noun) by id.",
                    inputSchema: Self.objectSchema(keyProperties, required: keyProperties.map(\.0), additional: false),
                    outputSchema: schema, annotations: Self.readAnnotations),
                group: V.modelType,
                call: { arguments, _ in
                    let id = arguments["id"]?.stringValue ?? ""
                    guard let found = try await storage.find(id: id, parentId: arguments["parentId"]?.stringValue) else {
                        throw InfrastructureError.notFound.error("\(noun) '\(id)' not found", details: ["id": .string(id)])
                    }
                    return try CQRSJSON.value(of: found)
                }))
        try add(
            Self.listEntry(
                name: "\(name)_list", title: "\(Naming.title(V.modelType)): list", group: V.modelType,
                description: (schema["description"]?.stringValue ?? "") + " Lists \(noun)s"
                    + (V.isChild ? " of one \(parent)" : "") + " with optional filters, sorting and paging.",
                model: V.self, itemSchema: schema, storage: storage,
                parentDescription: V.isChild ? "The id of the \(parent) whose \(noun)s to list." : nil,
                budget: options.pageByteBudget))
    }

    private mutating func add(_ entry: Entry) throws {
        if let include = options.include, !include.contains(entry.group), !include.contains(entry.tool.name) { return }
        guard Naming.isValidToolName(entry.tool.name) else {
            throw CqrsError.validation("Invalid tool name '\(entry.tool.name)' (expected ^[a-z0-9_]{1,64}$)")
        }
        guard entryIndex[entry.tool.name] == nil else {
            throw CqrsError.validation("Two tools are named '\(entry.tool.name)'")
        }
        entryIndex[entry.tool.name] = entries.count
        entries.append(entry)
    }

    // MARK: - Serving

    public func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult {
        guard let index = entryIndex[name] else {
            throw MCPError.invalidParams("Unknown tool: \(name)", data: ["name": .string(name)])
        }
        let entry = entries[index]
        let input = arguments ?? .object([:])
        let commandContext = Self.commandContext(context, defaultUser: options.defaultUser)
        let violations = JSONSchema.validate(input, against: entry.tool.inputSchema)
        if !violations.isEmpty {
            let error = CqrsError.validation(
                "Invalid arguments for \(name): " + violations.map(\.description).joined(separator: "; "),
                details: ["violations": try CQRSJSON.value(of: violations)])
            return Self.errorResult(error.with(requestId: commandContext.requestId))
        }
        do {
            let output = try await entry.call(input, commandContext)
            return MCPToolResult(structuredContent: output, text: Self.textMirror(of: output, version: context.protocolVersion), isError: false)
        } catch let error as MCPError {
            throw error
        } catch {
            return Self.errorResult(CqrsError.wrapping(error).with(requestId: commandContext.requestId))
        }
    }

    public func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent] {
        guard uri.hasPrefix("cqrs://") else { throw MCPError.resourceNotFound(uri) }
        let parts = uri.dropFirst("cqrs://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "events"), let source = resourceSources[parts[0]],
            let read = parts.count == 2 ? source.state : source.events,
            let id = parts[1].removingPercentEncoding, !id.isEmpty
        else { throw MCPError.resourceNotFound(uri) }
        let json: JSONValue?
        do {
            json = try await read(id)
        } catch {
            throw Self.protocolError(error, uri: uri)
        }
        guard let json else { throw MCPError.resourceNotFound(uri) }
        return [MCPResourceContent(uri: uri, mimeType: "application/json", text: json.serialized())]
    }

    public func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext)
        async throws -> MCPCompletion
    {
        guard case .resourceTemplate(let template) = reference, argument == "id", template.hasPrefix("cqrs://") else {
            return MCPCompletion(values: [])
        }
        let type = String(template.dropFirst("cqrs://".count).prefix { $0 != "/" })
        guard let ids = resourceSources[type]?.ids else { return MCPCompletion(values: []) }
        do {
            return try await ids(value)
        } catch {
            throw Self.protocolError(error, uri: nil)
        }
    }

    /// A store or validation error as a JSON-RPC error that says what happened: 404 is "not found",
    /// 4xx invalid params, anything else (503 when the store is down) -32603 with the `CqrsError`
    /// as data, so that an outage never reads as a missing resource.
    static func protocolError(_ error: any Error, uri: String?) -> MCPError {
        let cqrs = CqrsError.wrapping(error)
        let data = try? CQRSJSON.value(of: cqrs)
        if cqrs.status == 404, let uri { return MCPError.resourceNotFound(uri) }
        if (400..<500).contains(cqrs.status) { return MCPError.invalidParams(cqrs.message, data: data) }
        let message = cqrs.status == 503 ? "Service unavailable: \(cqrs.message)" : cqrs.message
        return MCPError(code: -32603, message: message, data: data)
    }
}
