import CQRS
import CQRSSchema
import Foundation

/// The operations of registered aggregates and views, generated from their Swift declarations
/// and rendered by every front end (MCP tools, REST routes and their OpenAPI document).
///
/// For an aggregate of type `account`:
/// - one operation per create-command case (`account_open`) and per update-command case
///   (`account_deposit`, … with `id`, optional `expectedVersion` and `idempotencyKey`);
/// - `account_get` (latest state), `account_list` (filter, sort, paging over latest states, when a
///   state storage is registered) and `account_events` (the audit log);
/// - for each registered view: `<view>_get` and `<view>_list` (child views take `parentId`).
///
/// ``call(_:arguments:context:)`` validates the arguments against the operation's input schema
/// before anything runs; a violation is a 400 `VALIDATION_FAILED` listing every JSON pointer.
public struct OperationCatalog: Sendable {
    /// Which operations the catalog holds, and how pages are bounded.
    public struct Options: Sendable {
        /// When set, only these aggregate types, view types or operation names are registered.
        public var include: Set<String>?
        /// The user recorded on commands when the transport authenticated nobody.
        public var defaultUser: String
        /// About the most bytes of JSON one list or audit-log page carries: a page stops before the
        /// item that would pass it (it always holds at least one) and returns `nextCursor`.
        public var pageByteBudget: Int
        /// When true, a command declared destructive (`CommandHandler.destructiveCommands`) runs
        /// only with `confirm: true`; without it the call is a 428 saying so (a dry run needs none).
        public var confirmDestructive: Bool

        /// Creates options.
        public init(
            include: Set<String>? = nil, defaultUser: String = "anonymous", pageByteBudget: Int = 4 << 20,
            confirmDestructive: Bool = false
        ) {
            self.include = include
            self.defaultUser = defaultUser
            self.pageByteBudget = max(1024, pageByteBudget)
            self.confirmDestructive = confirmDestructive
        }
    }

    /// Every operation, in registration order.
    public private(set) var operations: [CatalogOperation] = []
    private var index: [String: Int] = [:]
    /// Every schema the operations name (inputs, command bodies, outputs), by name.
    public private(set) var schemas: [String: JSONValue] = [:]
    /// The aggregate types registered, in order.
    public private(set) var aggregateTypes: [String] = []
    /// The schemas the servers of this catalog publish (MCP resources `cqrs://schemas/…`): the shared
    /// contract, plus what the application adds.
    public var publishedSchemas: [PublishedSchema] = PublishedSchema.contract
    /// The error domain owning each internal-code prefix, so two domains never share internal codes.
    private var errorPrefixes: [Int: String] = [InfrastructureError.prefix: InfrastructureError.domain, GenericError.prefix: GenericError.domain]
    /// The options in force.
    public let options: Options
    /// The projector feeding the registered views and latest states, if any: their reads then take
    /// `minPosition`, and `projections_status` reports on it.
    public let projector: Projector?
    /// Tells watchers (event streams, resource subscriptions) when an aggregate changes; made from
    /// the first registered aggregate's store.
    public private(set) var changes: ChangeFeed?
    /// The audit log of each registered aggregate type whose `<type>_events` is served, for streams.
    public private(set) var eventLogs: [String: EventLogReader] = [:]

    /// An empty catalog; with a `projector`, its `projections_status` operation.
    public init(options: Options = Options(), projector: Projector? = nil) {
        self.options = options
        self.projector = projector
        if let projector { try? add(Self.statusOperation(projector)) }
    }

    /// The operation with this name.
    public func operation(named name: String) -> CatalogOperation? {
        index[name].map { operations[$0] }
    }

    // MARK: - Registration

    /// Registers an aggregate's commands, reads and audit log.
    ///
    /// - Parameters:
    ///   - engine: the aggregate's command engine.
    ///   - states: the latest-state storage kept by a `LatestStateProjection`; when given,
    ///     `<type>_list` is generated.
    /// - Throws: a configuration error when a generated name is invalid or taken, or a command case
    ///   has a field named `id`, `expectedVersion` or `idempotencyKey`.
    public mutating func register<A: CommandHandler>(
        _ engine: CommandEngine<A>, states: (any ReadStorage<AggregateState<A>>)? = nil
    ) throws
    where
        A: JSONSchemaProviding, A.CreateCommand: JSONSchemaProviding, A.UpdateCommand: JSONSchemaProviding,
        A.Event: JSONSchemaProviding
    {
        let type = A.aggregateType
        let noun = Naming.title(type).lowercased()
        let pascal = Naming.pascal(type)
        let budget = options.pageByteBudget
        let idProperty = Self.idSchema("The \(noun)'s id.")
        let commandOutput = NamedSchema(
            name: pascal + "CommandResult", schema: Self.commandResultSchema(state: A.jsonSchema.json, event: A.Event.jsonSchema.json))
        let commandErrors: [OperationError] = [.invalid, .conflict, .keyReused, .unavailable] + OperationError.domain(A.errorCodes)
        try claimErrorPrefixes(A.errorCodes)
        aggregateTypes.append(type)

        for command in try Self.cases(of: A.CreateCommand.jsonSchema, defaultName: "create", group: type) {
            let name = "\(type)_\(Naming.snake(command.name))"
            var properties = command.properties
            properties.append(("idempotencyKey", Self.idempotencyProperty))
            properties.append(("dryRun", Self.dryRunProperty))
            try add(
                CatalogOperation(
                    name: name, group: type, kind: .create(command: command.name),
                    title: "\(Naming.title(type)): \(Naming.title(command.name).lowercased())",
                    description: command.description ?? "Creates a \(noun) (\(command.name)).",
                    input: NamedSchema(
                        name: Naming.pascal(name) + "Input",
                        schema: Self.objectSchema(properties, required: command.required, additional: false)),
                    body: NamedSchema(name: Naming.pascal(name), schema: command.bodySchema), output: commandOutput,
                    semantics: OperationSemantics(readOnly: false, destructive: false, idempotent: false),
                    errors: commandErrors,
                    run: { arguments, context in
                        var members = arguments.objectValue ?? [:]
                        let key = members.removeValue(forKey: "idempotencyKey")?.stringValue
                        let dryRun = members.removeValue(forKey: "dryRun") == .bool(true)
                        let decoded = try Self.decodeCommand(A.CreateCommand.self, command: command, members: members)
                        if dryRun {
                            return try Self.previewResult(await engine.previewCreate(decoded, context: context, idempotencyKey: key))
                        }
                        let result = try await engine.create(
                            decoded, context: context, metadata: ["operation": name], idempotencyKey: key)
                        return Self.commandResult(result)
                    }))
        }

        for command in try Self.cases(of: A.UpdateCommand.jsonSchema, defaultName: "update", group: type) {
            for reserved in ["id", "expectedVersion", "idempotencyKey"] where command.properties.contains(where: { $0.0 == reserved }) {
                throw InfrastructureError.configurationError.error(
                    "\(type) command \(command.name) has a field named \(reserved), which the catalog reserves")
            }
            let name = "\(type)_\(Naming.snake(command.name))"
            var properties: [(String, JSONValue)] = [("id", idProperty)]
            properties += command.properties
            properties.append(
                ("expectedVersion", [
                    "type": "integer", "minimum": 1, "maximum": .int(Int.max),
                    "description": .string("Optional: fail with a conflict unless the \(noun) is at this version."),
                ]))
            properties.append(("idempotencyKey", Self.idempotencyProperty))
            properties.append(("dryRun", Self.dryRunProperty))
            let confirmFirst = options.confirmDestructive && A.destructiveCommands.contains(command.name)
            if confirmFirst {
                properties.append(
                    ("confirm", [
                        "type": "boolean",
                        "description": .string("Required true: \(command.name) cannot be undone. Check with the user (or use dryRun) first."),
                    ]))
            }
            try add(
                CatalogOperation(
                    name: name, group: type, kind: .update(command: command.name),
                    title: "\(Naming.title(type)): \(Naming.title(command.name).lowercased())",
                    description: command.description ?? "Runs \(command.name) on a \(noun).",
                    input: NamedSchema(
                        name: Naming.pascal(name) + "Input",
                        schema: Self.objectSchema(properties, required: ["id"] + command.required, additional: false)),
                    body: NamedSchema(name: Naming.pascal(name), schema: command.bodySchema), output: commandOutput,
                    semantics: OperationSemantics(
                        readOnly: false, destructive: A.destructiveCommands.contains(command.name), idempotent: false),
                    errors: commandErrors + [.notFound],
                    run: { arguments, context in
                        var members = arguments.objectValue ?? [:]
                        let id = members.removeValue(forKey: "id")?.stringValue ?? ""
                        let expected = try Self.integer(members.removeValue(forKey: "expectedVersion"), "expectedVersion")
                        let key = members.removeValue(forKey: "idempotencyKey")?.stringValue
                        let dryRun = members.removeValue(forKey: "dryRun") == .bool(true)
                        let confirmed = members.removeValue(forKey: "confirm") == .bool(true)
                        let decoded = try Self.decodeCommand(A.UpdateCommand.self, command: command, members: members)
                        if dryRun || (confirmFirst && !confirmed) {
                            // Unconfirmed, the command is first decided as a dry run: a missing aggregate,
                            // a stale version or a domain refusal is reported as such, not as "confirm".
                            let preview = try await engine.previewUpdate(
                                id: id, decoded, context: context, expectedVersion: expected, idempotencyKey: key)
                            if dryRun || preview.replayed { return try Self.previewResult(preview) }
                            throw GenericError.preconditionRequired.error(
                                "\(name) cannot be undone: it would write \(preview.events.count) event(s) and reach version \(preview.version)",
                                details: [
                                    "operation": .string(name), "id": .string(id), "confirm": true,
                                    "currentVersion": .int(preview.version - preview.events.count),
                                ],
                                hint: "Confirm with the user, then repeat the call with confirm set to true; a dry run shows exactly what it would do.")
                        }
                        let result = try await engine.update(
                            id: id, decoded, context: context, metadata: ["operation": name], expectedVersion: expected,
                            idempotencyKey: key)
                        return Self.commandResult(result)
                    }))
        }

        let state = NamedSchema(name: pascal + "State", schema: AggregateState<A>.jsonSchema.json)
        try add(Self.getOperation(engine, state: state))
        if let states {
            try add(
                Self.listOperation(
                    name: "\(type)_list", group: type, kind: .list, title: "\(Naming.title(type)): list",
                    description: "Lists \(noun)s (latest states) with optional filters, sorting and paging. Reads the latest-state view, updated after each commit; \(type)_get reads one \(noun)'s exact current state from its events.",
                    item: state, storage: states, parentDescription: nil, budget: budget, projector: projector))
        }
        try add(Self.eventsOperation(engine, budget: budget))
        if operation(named: "\(type)_events") != nil {
            if changes == nil { changes = ChangeFeed(store: engine.store, wake: projector?.logWake) }
            eventLogs[type] = EventLogReader { id, after in
                let page = try await engine.auditLog(id: id, offset: after, limit: EventLogReader.pageSize)
                return (try page.events.map { try CQRSJSON.value(of: AuditEntry($0)) }, page.total)
            }
        }
    }

    /// Registers a view's `<view>_get` and `<view>_list` operations.
    public mutating func register<V: View>(view: V.Type, storage: any ReadStorage<V>) throws where V: JSONSchemaProviding {
        let name = Naming.snake(V.modelType)
        let noun = Naming.title(V.modelType).lowercased()
        let parentType = V.isChild ? V.Source.aggregateType : nil
        let parent = Naming.title(V.Source.aggregateType).lowercased()
        let document = NamedSchema(name: Naming.pascal(name), schema: V.jsonSchema.json)
        var keyProperties: [(String, JSONValue)] = []
        if V.isChild {
            keyProperties.append(("parentId", Self.idSchema("The id of the \(parent) it belongs to.")))
        }
        keyProperties.append(("id", Self.idSchema("The \(noun)'s id.")))
        let projector = self.projector.flatMap { $0.names.contains(V.modelType) ? $0 : nil }
        var getProperties = keyProperties
        if projector != nil { getProperties.append(("minPosition", Self.minPositionSchema)) }
        try add(
            CatalogOperation(
                name: "\(name)_get", group: V.modelType, kind: .viewGet, title: "\(Naming.title(V.modelType)): get",
                description: (document.schema["description"]?.stringValue ?? "One \(noun).") + " Returns one \(noun) by id, as it is now (views have no past states; \(V.Source.aggregateType)_get takes asOfVersion).",
                input: NamedSchema(
                    name: Naming.pascal(name) + "GetInput",
                    schema: Self.objectSchema(getProperties, required: keyProperties.map(\.0), additional: false)),
                output: document, semantics: .read, errors: [.invalid, .notFound, .unavailable], parentType: parentType,
                run: { arguments, _ in
                    let id = arguments["id"]?.stringValue ?? ""
                    let minPosition = arguments["minPosition"]?.intValue.map(Int64.init)
                    let wait = try await Self.waitFor(minPosition, in: V.modelType, projector: projector)
                    guard let found = try await storage.find(id: id, parentId: arguments["parentId"]?.stringValue) else {
                        var details: [String: JSONValue] = ["id": .string(id)]
                        if let wait, !wait.reached { details["checkpoint"] = .int(Int(wait.checkpoint)) }
                        throw InfrastructureError.notFound.error(
                            "\(noun) '\(id)' not found", details: .object(details),
                            hint: wait.map { $0.reached ? nil : "The view is behind (at \($0.checkpoint), not yet \(minPosition ?? 0)): try again shortly." } ?? nil)
                    }
                    return try CQRSJSON.value(of: found)
                }))
        var list = Self.listOperation(
            name: "\(name)_list", group: V.modelType, kind: .viewList, title: "\(Naming.title(V.modelType)): list",
            description: (document.schema["description"]?.stringValue ?? "") + " Lists \(noun)s"
                + (V.isChild ? " of one \(parent)" : "") + " with optional filters, sorting and paging.",
            item: document, storage: storage,
            parentDescription: V.isChild ? "The id of the \(parent) whose \(noun)s to list." : nil,
            budget: options.pageByteBudget, projector: projector)
        list.parentType = parentType
        try add(list)
    }

    private mutating func add(_ operation: CatalogOperation) throws {
        if let include = options.include, !include.contains(operation.group), !include.contains(operation.name) { return }
        guard Naming.isValidOperationName(operation.name), operation.name.utf8.count <= Self.maximumNameLength else {
            throw InfrastructureError.configurationError.error(
                "Invalid operation name '\(operation.name)' (expected ^[a-z0-9_]{1,\(Self.maximumNameLength)}$, so that a host's prefix still fits 64)")
        }
        try Self.checkHostRules(operation)
        guard index[operation.name] == nil else {
            throw CqrsError.validation("Two operations are named '\(operation.name)'")
        }
        // A schema name is what renderings share (OpenAPI's components): one name, one schema.
        for named in [operation.input, operation.body, operation.output].compactMap({ $0 }) {
            if let known = schemas[named.name], known != named.schema {
                throw InfrastructureError.configurationError.error(
                    "\(operation.name): the schema name \(named.name) is already taken by another schema")
            }
            schemas[named.name] = named.schema
        }
        index[operation.name] = operations.count
        operations.append(operation)
    }

    /// The longest operation name: MCP hosts prefix tool names with the server's and cap them at 64.
    public static let maximumNameLength = 40

    /// The schema rules every MCP host accepts: input and output are `"type": "object"` at the top,
    /// the input has no top-level `oneOf`/`anyOf`/`allOf`, and nothing uses `$ref`/`$defs`.
    static func checkHostRules(_ operation: CatalogOperation) throws {
        func refuse(_ rule: String) -> CqrsError {
            InfrastructureError.configurationError.error("\(operation.name): \(rule), which some MCP hosts refuse")
        }
        for (what, schema) in [("input", operation.input.schema), ("output", operation.output.schema)] {
            guard schema["type"] == "object" else { throw refuse("its \(what) schema is not \"type\": \"object\" at the top") }
            let text = schema.serialized()
            if text.contains("\"$ref\"") || text.contains("\"$defs\"") { throw refuse("its \(what) schema uses $ref or $defs") }
        }
        for keyword in ["oneOf", "anyOf", "allOf"] where operation.input.schema[keyword] != nil {
            throw refuse("its input schema has a top-level \(keyword)")
        }
    }

    /// Refuses error codes whose prefix another domain already uses (their internal codes would clash).
    private mutating func claimErrorPrefixes(_ codes: [any DomainErrorCode]) throws {
        func owner(_ code: some DomainErrorCode) -> (prefix: Int, domain: String) { (type(of: code).prefix, type(of: code).domain) }
        for code in codes {
            let (prefix, domain) = owner(code)
            if let other = errorPrefixes[prefix], other != domain {
                throw InfrastructureError.configurationError.error(
                    "The error domains '\(other)' and '\(domain)' share the prefix \(prefix): their internal codes would clash")
            }
            errorPrefixes[prefix] = domain
        }
    }

    // MARK: - Calling

    /// Validates `arguments` against the operation's input schema, then runs it.
    ///
    /// - Throws: 400 `VALIDATION_FAILED` with `details.violations` (each `pointer`, `keyword`,
    ///   `message`) for arguments that break the schema; otherwise whatever the operation throws
    ///   (domain errors, not found, conflicts, store outages), as a `CqrsError`.
    public func call(_ operation: CatalogOperation, arguments: JSONValue, context: CommandContext) async throws -> JSONValue {
        let violations = JSONSchema.validate(arguments, against: operation.input.schema)
        if !violations.isEmpty {
            throw CqrsError.validation(
                "Invalid arguments for \(operation.name): " + violations.map(\.description).joined(separator: "; "),
                details: ["violations": try CQRSJSON.value(of: violations)])
        }
        let started = ContinuousClock.now
        var context = context
        context.operation = operation.name
        return try await CommandTracing.span(
            operation.name, attributes: ["cqrs.operation": .string(operation.name), "cqrs.request_id": .string(context.requestId)]
        ) { span in
            do {
                let result = try await operation.run(arguments, context)
                OperationMetrics.record(operation, outcome: "ok", since: started)
                return result
            } catch {
                let failure = CqrsError.wrapping(error)
                span.attributes["cqrs.error.code"] = failure.code
                OperationMetrics.record(operation, outcome: failure.code, since: started)
                throw failure
            }
        }
    }
}
