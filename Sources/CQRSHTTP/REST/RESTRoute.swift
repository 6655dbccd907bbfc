import CQRS
import CQRSCatalog
import CQRSSchema
import HTTPTypes

/// One REST route: a catalog operation at a method and path.
///
/// | operation | route |
/// | --- | --- |
/// | create (`account_open`) | `POST /accounts/commands/open` |
/// | update (`account_deposit`) | `POST /accounts/{id}/commands/deposit` |
/// | get, list, events | `GET /accounts/{id}`, `GET /accounts`, `GET /accounts/{id}/events` |
/// | view get, list | `GET /account_summaries/{id}`, `GET /account_summaries` |
/// | child view get, list | `GET /accounts/{id}/movements/{movementId}`, `GET /accounts/{id}/movements` |
public struct RESTRoute: Sendable {
    /// A path parameter and the operation argument it fills.
    public struct PathParameter: Sendable, Hashable {
        /// The name in the path template (`id`, `movementId`).
        public var name: String
        /// The operation's argument (`id`, `parentId`).
        public var argument: String
    }

    /// The HTTP method.
    public var method: HTTPRequest.Method
    /// The path template, OpenAPI style (`/accounts/{id}/commands/deposit`).
    public var path: String
    /// The operation served.
    public var operation: CatalogOperation
    /// The path's parameters, in order.
    public var pathParameters: [PathParameter]
    /// The query parameters the route takes.
    public var queryParameters: [String]

    /// The routes of every operation of a catalog, in the catalog's order.
    public static func routes(of catalog: OperationCatalog) -> [RESTRoute] {
        catalog.operations.map { route(for: $0) }
    }

    /// The path of one aggregate (`/accounts/{id}` filled in, the id percent-encoded).
    public static func aggregatePath(type: String, id: String) -> String {
        "/\(Naming.plural(type))/\(RESTInput.percentEncoded(id))"
    }

    /// Checks that no two routes, and no route and a server path (`/mcp`, `/docs`…), share a method
    /// and path, and that no collection or child view shadows the `commands` and `events` segments.
    /// - Throws: 500 `CONFIGURATION_ERROR` naming the clash (instead of Hummingbird's crash at startup).
    static func checkUnique(_ routes: [RESTRoute], serverPaths: Set<String>) throws {
        var seen = Set<String>()
        for route in routes {
            let key = "\(route.method.rawValue) \(route.path)"
            let first = route.path.split(separator: "/").first.map { "/" + $0 } ?? "/"
            let segments = route.path.split(separator: "/")
            guard seen.insert(key).inserted, !serverPaths.contains(first),
                route.operation.parentType == nil || !["commands", "events"].contains(segments.count > 2 ? String(segments[2]) : "")
            else {
                throw InfrastructureError.configurationError.error(
                    "The route \(key) of \(route.operation.name) clashes with another route or a server path")
            }
        }
    }

    static func route(for operation: CatalogOperation) -> RESTRoute {
        let id = PathParameter(name: "id", argument: "id")
        let collection = "/" + Naming.plural(operation.group)
        let paging = ["offset", "limit", "cursor"]
        let consistency = operation.input.schema["properties"]?["minPosition"] == nil ? [] : ["minPosition"]
        switch operation.kind {
        case .create(let command):
            return RESTRoute(
                method: .post, path: "\(collection)/commands/\(command)", operation: operation, pathParameters: [],
                queryParameters: ["dryRun"])
        case .update(let command):
            return RESTRoute(
                method: .post, path: "\(collection)/{id}/commands/\(command)", operation: operation, pathParameters: [id],
                queryParameters: operation.input.schema["properties"]?["confirm"] == nil ? ["dryRun"] : ["dryRun", "confirm"])
        case .get:
            return RESTRoute(
                method: .get, path: "\(collection)/{id}", operation: operation, pathParameters: [id],
                queryParameters: ["asOfVersion", "asOfTime"])
        case .list:
            return RESTRoute(
                method: .get, path: collection, operation: operation, pathParameters: [],
                queryParameters: ["filter", "sort"] + paging + consistency)
        case .events:
            return RESTRoute(
                method: .get, path: "\(collection)/{id}/events", operation: operation, pathParameters: [id],
                queryParameters: ["fromVersion", "toVersion", "eventTypes"] + paging)
        case .viewGet, .viewList:
            var path = collection
            var parameters: [PathParameter] = []
            var documentId = id
            if let parent = operation.parentType {
                path = "/\(Naming.plural(parent))/{id}/\(Naming.plural(operation.group))"
                parameters.append(PathParameter(name: "id", argument: "parentId"))
                let camel = Naming.pascal(operation.group)
                documentId = PathParameter(name: camel.prefix(1).lowercased() + camel.dropFirst() + "Id", argument: "id")
            }
            if operation.kind == .viewList {
                return RESTRoute(
                    method: .get, path: path, operation: operation, pathParameters: parameters,
                    queryParameters: ["filter", "sort"] + paging + consistency)
            }
            return RESTRoute(
                method: .get, path: "\(path)/{\(documentId.name)}", operation: operation, pathParameters: parameters + [documentId],
                queryParameters: consistency)
        case .projectionStatus:
            return RESTRoute(method: .get, path: "/projections", operation: operation, pathParameters: [], queryParameters: [])
        }
    }
}
