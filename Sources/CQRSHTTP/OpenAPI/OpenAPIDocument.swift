import CQRS
import CQRSCatalog
import CQRSSchema

/// The OpenAPI 3.1 document of the REST routes, generated from the same catalog operations (and
/// so the same schemas) as the MCP tools. Every schema is listed once under `components/schemas`
/// by its stable name; every error is a problem document.
public enum OpenAPIDocument {
    /// What the document says about the API as a whole.
    public struct Info: Sendable {
        /// The API's title.
        public var title: String
        /// The API's version.
        public var version: String
        /// What the API is for.
        public var description: String

        /// Creates info.
        public init(title: String, version: String, description: String) {
            self.title = title
            self.version = version
            self.description = description
        }
    }

    /// The document of everything a server of `catalog` serves over REST (what `serve` publishes).
    public static func make(catalog: OperationCatalog, info: Info) -> JSONValue {
        make(routes: RESTRoute.routes(of: catalog), info: info, eventStreams: Array(catalog.eventLogs.keys))
    }

    /// The document for a set of routes, plus the event streams (`GET /{type}/{id}/events/stream`)
    /// of the aggregate types in `eventStreams`.
    public static func make(routes: [RESTRoute], info: Info, eventStreams: [String] = []) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [
            "Problem": ProblemDetails.jsonSchema.json,
            "Health": ["type": "object", "required": ["status"], "properties": ["status": ["type": "string"]]],
        ]
        var tags: [String] = []
        for route in routes {
            let operation = route.operation
            if !tags.contains(operation.group) { tags.append(operation.group) }
            for named in [operation.body, operation.output].compactMap({ $0 }) { schemas[named.name] = named.schema }
            var item = paths[route.path]?.objectValue ?? [:]
            item[route.method.rawValue.lowercased()] = self.operation(route, links: links(from: route, among: routes))
            paths[route.path] = .object(item)
        }
        for (path, item) in serverPaths { paths[path] = item }
        for type in eventStreams.sorted() { paths[EventStream.path(of: type)] = eventStream(type) }
        return [
            "openapi": "3.1.0",
            "info": ["title": .string(info.title), "version": .string(info.version), "description": .string(info.description)],
            "tags": .array(tags.map { ["name": .string($0), "description": .string("Operations of \(Naming.title($0).lowercased()).")] }
                + [["name": "server", "description": "Liveness, readiness and this document."]]),
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "responses": .object(Dictionary(uniqueKeysWithValues: problemStatuses.map { ("Problem\($0.key)", problemResponse($0.value)) })),
                "parameters": ["RequestId": requestIdParameter],
                "headers": [
                    "RequestId": ["description": "The request's id (the client's X-Request-Id when valid).", "schema": ["type": "string"]],
                    "ETag": ["description": "The aggregate's version as an entity tag, e.g. \"3\".", "schema": ["type": "string"]],
                ],
                "securitySchemes": [
                    "bearerAuth": [
                        "type": "http", "scheme": "bearer",
                        "description": "Required when the server was started with a token (--token or CQRS_MCP_TOKEN).",
                    ]
                ],
            ],
            "security": [.object([:]), ["bearerAuth": []]],
        ]
    }

    // MARK: - Operations

    private static func eventStream(_ type: String) -> JSONValue {
        let noun = Naming.title(type).lowercased()
        return [
            "get": [
                "operationId": .string("\(type)_events_stream"), "tags": [.string(type)],
                "summary": .string("\(Naming.title(type)): stream of new events"),
                "description": .string("Server-sent events: one per new event of the \(noun) (id: its version, event: its type, data: its audit entry), as commits happen in any process. Last-Event-ID or fromVersion resumes without a gap; a comment every 15 s keeps the connection open."),
                "parameters": [
                    ["name": "id", "in": "path", "required": true, "schema": ["type": "string", "minLength": 1, "maxLength": 256], "description": .string("The \(noun)'s id.")],
                    ["name": "fromVersion", "in": "query", "required": false, "schema": ["type": "integer", "minimum": 1], "description": "Start with this version (default: after the current one)."],
                    ["name": "Last-Event-ID", "in": "header", "required": false, "schema": ["type": "string", "pattern": "^[0-9]{1,18}$"], "description": "Resume after this event id (a version)."],
                    ["$ref": "#/components/parameters/RequestId"],
                ],
                "responses": [
                    "200": ["description": "The stream.", "content": ["text/event-stream": ["schema": ["type": "string"]]]],
                    "400": ["$ref": "#/components/responses/Problem400"],
                    "404": ["$ref": "#/components/responses/Problem404"],
                    "503": ["$ref": "#/components/responses/Problem503"],
                ],
            ]
        ]
    }

    private static func operation(_ route: RESTRoute, links: JSONValue) -> JSONValue {
        let operation = route.operation
        var parameters: [JSONValue] = route.pathParameters.map { parameter in
            [
                "name": .string(parameter.name), "in": "path", "required": true,
                "schema": schema(of: parameter.argument, in: operation),
                "description": schema(of: parameter.argument, in: operation)["description"] ?? "",
            ]
        }
        parameters += route.queryParameters.map { queryParameter($0, operation: operation) }
        switch operation.kind {
        case .create, .update:
            if case .update = operation.kind {
                parameters.append([
                    "name": "If-Match", "in": "header", "required": false,
                    "description": "Run only if the aggregate is at this version (an entity tag such as \"3\"); otherwise 412.",
                    "schema": ["type": "string", "pattern": "^(\\*|\"[1-9][0-9]{0,18}\")$"],
                ])
            }
            parameters.append([
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Makes retries safe: a repeated request with the same key and body returns the first result.",
                "schema": schema(of: "idempotencyKey", in: operation),
            ])
        case .get:
            parameters.append([
                "name": "If-None-Match", "in": "header", "required": false,
                "description": "Answer 304 when the aggregate is still at this version (its ETag).", "schema": ["type": "string"],
            ])
        default: break
        }
        parameters.append(["$ref": "#/components/parameters/RequestId"])

        var headers: [String: JSONValue] = ["X-Request-Id": ["$ref": "#/components/headers/RequestId"]]
        if operation.kind.isCommand || operation.kind == .get {
            headers["ETag"] = ["$ref": "#/components/headers/ETag"]
        }
        if case .create = operation.kind {
            headers["Location"] = ["description": "The new aggregate's URL.", "schema": ["type": "string"]]
        }
        var success: [String: JSONValue] = [
            "description": .string(successDescription(operation.kind)), "headers": .object(headers),
            "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(operation.output.name)")]]],
        ]
        if links.objectValue?.isEmpty == false { success["links"] = links }
        var responses: [String: JSONValue] = [successStatus(operation.kind): .object(success)]
        if operation.kind.isCreate {
            responses["200"] = [
                "description": "A dry run (dryRun=true): what the command would do; nothing was written.",
                "headers": ["X-Request-Id": ["$ref": "#/components/headers/RequestId"]],
                "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(operation.output.name)")]]],
            ]
        }
        if operation.kind == .get {
            responses["304"] = ["description": "Not modified: the aggregate is still at the If-None-Match version."]
        }
        var statuses = Set(operation.errors.map(\.status)).union([400, 401, 403, 404, 405])
        if operation.kind.isCommand { statuses.formUnion([408, 413, 415, 422]) }
        if case .update = operation.kind { statuses.insert(412) }
        if operation.input.schema["properties"]?["confirm"] != nil { statuses.insert(428) }
        for status in statuses.sorted() {
            let domain = operation.errors.filter { $0.status == status && !$0.codes.isEmpty }
            if domain.isEmpty {
                if problemStatuses[status] != nil { responses[String(status)] = ["$ref": .string("#/components/responses/Problem\(status)")] }
            } else {
                // The domain's codes at this status, named in the response (e.g. 410 ACCOUNT_CLOSED).
                let general = problemStatuses[status].map { $0 + " " } ?? ""
                responses[String(status)] = problemResponse(general + domain.map(\.description).joined(separator: " "))
            }
        }
        responses["default"] = ["$ref": "#/components/responses/Problem500"]

        var json: [String: JSONValue] = [
            "operationId": .string(operation.name), "summary": .string(operation.title),
            "description": .string(operation.description), "tags": [.string(operation.group)],
            "parameters": .array(parameters), "responses": .object(responses),
        ]
        if let body = operation.body {
            json["requestBody"] = [
                "required": false,
                "description": "The command's fields (an empty body is `{}`).",
                "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(body.name)")]]],
            ]
        }
        return .object(json)
    }

    /// Links from a command's result to the reads of the same aggregate (for clients and stateful
    /// testers): the result's `id` fills their `{id}`.
    private static func links(from route: RESTRoute, among routes: [RESTRoute]) -> JSONValue {
        guard route.operation.kind.isCommand else { return [:] }
        var links: [String: JSONValue] = [:]
        for target in routes where target.pathParameters.count == 1 && target.pathParameters[0].name == "id" {
            let sameAggregate = target.operation.group == route.operation.group
            let childView = target.operation.parentType == route.operation.group && target.operation.kind == .viewList
            guard sameAggregate || childView else { continue }
            links[Naming.pascal(target.operation.name)] = [
                "operationId": .string(target.operation.name), "parameters": ["id": "$response.body#/id"],
            ]
        }
        return .object(links)
    }

    private static func schema(of argument: String, in operation: CatalogOperation) -> JSONValue {
        operation.input.schema["properties"]?[argument] ?? ["type": "string"]
    }

    private static func queryParameter(_ name: String, operation: CatalogOperation) -> JSONValue {
        let sortable = operation.list?.sortableFields.joined(separator: ", ") ?? ""
        let (description, schema): (String, JSONValue) =
            switch name {
            case "filter":
                ("RSQL over the item's declared fields: ==, !=, =lt=, =le=, =gt=, =ge=, =in=(a,b), =out=(a,b), =like= (abc*, *abc*); ';' is and, ',' is or, parentheses group (at most \(RSQL.maximumDepth) deep, \(QueryLimits.conditions) comparisons, \(QueryLimits.listValues) values per list). Example: state.balance=ge=100;state.owner==alice",
                 ["type": "string", "minLength": 1, "maxLength": 8192])
            case "sort": ("At most \(QueryLimits.sortKeys) sort keys, '-' for descending, e.g. -\(operation.list?.sortableFields.first ?? "id"),id. Sortable: \(sortable).", ["type": "string", "minLength": 1])
            case "offset": ("How many items to skip (not with cursor).", ["type": "integer", "minimum": 0, "maximum": .int(Int.max)])
            case "limit":
                ("Page size (default \(ReadQuery.defaultLimit), at most \(ReadQuery.maximumLimit)).",
                 ["type": "integer", "minimum": 1, "maximum": .int(ReadQuery.maximumLimit), "default": .int(ReadQuery.defaultLimit)])
            case "cursor": ("The nextCursor of the previous page.", ["type": "string", "minLength": 1])
            case "eventTypes": ("Only events of these types, comma-separated.", ["type": "string", "minLength": 1])
            default:
                (Self.schema(of: name, in: operation)["description"]?.stringValue ?? "", Self.schema(of: name, in: operation))
            }
        return ["name": .string(name), "in": "query", "required": false, "description": .string(description), "schema": schema]
    }

    private static func successStatus(_ kind: OperationKind) -> String {
        if case .create = kind { return "201" }
        return "200"
    }

    private static func successDescription(_ kind: OperationKind) -> String {
        switch kind {
        case .create: "Created: the new aggregate's id and version."
        case .update: "Applied: the aggregate's id and new version."
        case .get: "The latest state."
        case .list, .viewList: "One page of items."
        case .events: "One page of the audit log."
        case .viewGet: "The document."
        case .projectionStatus: "Each projection's checkpoint, lag and last error."
        }
    }

    // MARK: - Shared parts

    static let problemStatuses: [Int: String] = [
        400: "Malformed JSON, or a malformed or unknown parameter (details.parameter names it).",
        401: "The bearer token is missing or wrong.",
        403: "A foreign Origin, or a Host this server does not answer to.",
        404: "No such route, aggregate or document.",
        405: "The path does not take this method (Allow lists those it takes).",
        408: "The body did not arrive in time.",
        409: "A conflict: the aggregate exists, or concurrent writers kept overtaking this command.",
        412: "If-Match names another version (details.currentVersion is the current one).",
        413: "The body is too large.",
        415: "The body is not application/json.",
        422: "The body does not match the command (details.violations lists each JSON pointer), or the idempotency key was used with another body.",
        428: "A destructive command without confirm=true (the server runs with --confirm-destructive).",
        500: "An error (a problem document).",
        503: "The store is unreachable.",
    ]

    private static func problemResponse(_ description: String) -> JSONValue {
        [
            "description": .string(description),
            "headers": ["X-Request-Id": ["$ref": "#/components/headers/RequestId"]],
            "content": ["application/problem+json": ["schema": ["$ref": "#/components/schemas/Problem"]]],
        ]
    }

    private static let requestIdParameter: JSONValue = [
        "name": "X-Request-Id", "in": "header", "required": false,
        "description": "Your id for the request (1–200 visible ASCII characters), echoed back and recorded with the events.",
        "schema": ["type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"],
    ]

    private static var serverPaths: [String: JSONValue] {
        func health(_ id: String, _ summary: String, _ extra: [String: JSONValue]) -> JSONValue {
            var responses: [String: JSONValue] = [
                "200": [
                    "description": .string(summary),
                    "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Health"]]],
                ],
                "default": ["$ref": "#/components/responses/Problem500"],
            ]
            responses.merge(extra) { $1 }
            return ["get": ["operationId": .string(id), "summary": .string(summary), "tags": ["server"], "responses": .object(responses)]]
        }
        return [
            "/health": health("health", "The server is running.", ["403": ["$ref": "#/components/responses/Problem403"]]),
            "/ready": health(
                "ready", "The store answers.",
                [
                    "401": ["$ref": "#/components/responses/Problem401"], "403": ["$ref": "#/components/responses/Problem403"],
                    "503": ["$ref": "#/components/responses/Problem503"],
                ]),
        ]
    }
}
