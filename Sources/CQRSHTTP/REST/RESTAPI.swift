import CQRS
import CQRSCatalog
import CQRSSchema
import HTTPTypes
import Hummingbird
import NIOCore

/// The REST rendering of an `OperationCatalog`: one route per operation (see ``RESTRoute``),
/// JSON bodies, `If-Match`/`ETag` versions, `Idempotency-Key`, RSQL filters, and problem documents
/// for every error. Add it to a router that runs ``RequestIdMiddleware`` and ``GuardMiddleware``.
public struct RESTAPI: Sendable {
    /// The operations served.
    public let catalog: OperationCatalog
    /// The routes, in the catalog's order.
    public let routes: [RESTRoute]
    let options: MCPHTTPOptions

    /// Renders a catalog; `options` bound request bodies (size, arrival time).
    /// - Throws: a configuration error when two routes, or a route and one of `serverPaths`, clash.
    public init(catalog: OperationCatalog, options: MCPHTTPOptions = MCPHTTPOptions(), serverPaths: Set<String> = []) throws {
        self.catalog = catalog
        self.routes = RESTRoute.routes(of: catalog)
        self.options = options
        try RESTRoute.checkUnique(routes, serverPaths: serverPaths)
    }

    /// Adds every route, and a `405` with `Allow` for the other methods on each path.
    public func addRoutes<Context: GuardedRequestContext>(to router: some RouterMethods<Context>) {
        var methods: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in routes {
            if methods[route.path] == nil { order.append(route.path) }
            methods[route.path, default: []].append(route.method)
            router.on(RouterPath(route.path), method: route.method) { request, context in
                await self.serve(route, request: request, context: context)
            }
        }
        for path in order {
            Self.refuseOtherMethods(at: path, allowing: methods[path] ?? [], on: router)
        }
    }

    /// Registers `405 Method Not Allowed` (with `Allow`) for the methods a path does not serve
    /// (`allow` overrides the header where a served method itself refuses, as `GET /mcp` does).
    static func refuseOtherMethods<Context: GuardedRequestContext>(
        at path: String, allowing allowed: [HTTPRequest.Method], allow: String? = nil, on router: some RouterMethods<Context>
    ) {
        let allow = allow ?? (allowed.contains(.get) ? allowed + [.head] : allowed).map(\.rawValue).joined(separator: ", ")
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .options, .trace] where !allowed.contains(method) {
            router.on(RouterPath(path), method: method) { _, context in
                var headers = HTTPFields()
                headers[.allow] = allow
                return Problem.response(
                    for: Problem.generic(405, "\(method.rawValue) is not allowed here; allowed: \(allow)"),
                    requestId: context.requestId, headers: headers)
            }
        }
    }

    // MARK: - Serving

    func serve<Context: GuardedRequestContext>(_ route: RESTRoute, request: Request, context: Context) async -> Response {
        guard context.isGuarded else { return GuardMiddleware<Context>.unguarded(isMCP: false) }
        let commandContext = CommandContext(
            currentUser: context.principal ?? catalog.options.defaultUser, requestId: context.requestId,
            metadata: ["transport": "rest"])
        let ifMatch = request.headers[.ifMatch]
        do {
            var input = try RESTInput(route: route, request: request, parameters: context.parameters)
            switch route.operation.kind {
            case .create, .update:
                try input.readOptions()
                try input.readCommandHeaders(request.headers, isCreate: route.operation.kind.isCreate)
                try input.mergeBody(try await readBody(request), headers: request.headers, fields: route.operation.body?.schema)
                let result = try await call(route, input, commandContext)
                if input.isDryRun { return Self.json(.ok, result) }
                var headers = HTTPFields()
                if let version = result["version"]?.intValue { headers[.eTag] = "\"\(version)\"" }
                if case .create = route.operation.kind, let id = result["id"]?.stringValue {
                    // Location only where the new aggregate can be read (`--tools` may leave out its get).
                    if catalog.operation(named: "\(route.operation.group)_get") != nil {
                        headers[.location] = RESTRoute.aggregatePath(type: route.operation.group, id: id)
                    }
                    return Self.json(.created, result, headers: headers)
                }
                return Self.json(.ok, result, headers: headers)
            case .list, .viewList:
                let query = try input.readQuery()
                try input.readOptions()
                try input.check(route)
                guard let list = route.operation.list else { throw CqrsError.internalError("A list operation without list access") }
                return Self.json(
                    .ok,
                    try await list.query(
                        query, parentId: input.arguments["parentId"]?.stringValue,
                        minPosition: input.arguments["minPosition"]?.intValue.map(Int64.init)))
            case .projectionStatus:
                return Self.json(.ok, try await call(route, input, commandContext))
            case .events:
                try input.readOptions()
                try input.readPaging()
                return Self.json(.ok, try await call(route, input, commandContext))
            case .get, .viewGet:
                try input.readOptions()
                let result = try await call(route, input, commandContext)
                var headers = HTTPFields()
                let current = input.arguments["asOfVersion"] == nil && input.arguments["asOfTime"] == nil
                guard route.operation.kind == .get, current, let version = result["version"]?.intValue else {
                    return Self.json(.ok, result)
                }
                let tag = "\"\(version)\""
                headers[.eTag] = tag
                if let match = request.headers[.ifNoneMatch], RESTInput.matches(match, tag: tag) {
                    return Response(status: .notModified, headers: headers, body: .init())
                }
                return Self.json(.ok, result, headers: headers)
            }
        } catch {
            var problem = Problem.error(from: error)
            if problem.code == InfrastructureError.validationFailed.code, problem.details?["parameter"] == nil,
                let violations = problem.details?["violations"]
            {
                // A body value the command cannot hold: unprocessable, like every other body violation.
                problem = RESTInput.unprocessable((try? CQRSJSON.decode([SchemaViolation].self, from: violations)) ?? [])
            }
            if ifMatch != nil, ifMatch != "*", problem.code == InfrastructureError.concurrencyError.code {
                problem = GenericError.preconditionFailed.error(
                    "If-Match: " + problem.message, details: problem.details)
            }
            return Problem.response(for: problem, requestId: context.requestId)
        }
    }

    /// Runs the operation; schema violations in the body become a 422 listing each one, those in
    /// path, query or header values a 400 naming the parameter.
    private func call(_ route: RESTRoute, _ input: RESTInput, _ context: CommandContext) async throws -> JSONValue {
        try input.check(route)
        return try await catalog.call(route.operation, arguments: .object(input.arguments), context: context)
    }

    /// The body, within the size limit and the connection idle timeout.
    private func readBody(_ request: Request) async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > options.maxBodyBytes {
            throw GenericError.payloadTooLarge.error("The body is larger than \(options.maxBodyBytes) bytes")
        }
        do {
            let limit = options.maxBodyBytes
            return try await MCPHTTPTransport.within(options.connectionIdleTimeout) { [request] in
                Array(buffer: try await request.body.collect(upTo: limit))
            }
        } catch is NIOTooManyBytesError {
            throw GenericError.payloadTooLarge.error("The body is larger than \(options.maxBodyBytes) bytes")
        } catch is MCPHTTPTransport.DeadlinePassed {
            throw GenericError.requestTimeout.error("The request body did not arrive in time")
        } catch {
            throw GenericError.validationFailed.error("Could not read the request body")
        }
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serializedBytes(sortedKeys: false))))
    }
}
