import CQRS
import CQRSSchema

/// What an operation does, which tells a front end how to render it (a tool, a route).
public enum OperationKind: Sendable, Hashable {
    /// Creates an aggregate with the named command case (`open`).
    case create(command: String)
    /// Runs the named command case (`deposit`) on an existing aggregate.
    case update(command: String)
    /// The latest state of one aggregate.
    case get
    /// Latest states of many aggregates, filtered, sorted and paged.
    case list
    /// The audit log of one aggregate.
    case events
    /// One document of a view.
    case viewGet
    /// Documents of a view, filtered, sorted and paged.
    case viewList
    /// How far each projection is behind the global log.
    case projectionStatus

    /// Whether the operation creates an aggregate.
    public var isCreate: Bool {
        if case .create = self { return true }
        return false
    }

    /// Whether the operation runs a command (changes state).
    public var isCommand: Bool {
        switch self {
        case .create, .update: true
        default: false
        }
    }
}

/// How an operation behaves, for clients deciding whether to call or retry it.
public struct OperationSemantics: Sendable, Hashable {
    /// It only reads.
    public var readOnly: Bool
    /// It may destroy or irreversibly change data.
    public var destructive: Bool
    /// Calling it again with the same arguments has no further effect.
    public var idempotent: Bool

    static let read = OperationSemantics(readOnly: true, destructive: false, idempotent: true)
}

/// A JSON Schema with a stable name (`AccountState`), so renderings can share it
/// (OpenAPI lists it once under `components/schemas`).
public struct NamedSchema: Sendable, Hashable {
    /// The name: letters and digits, unique within a catalog.
    public var name: String
    /// The schema (JSON Schema 2020-12).
    public var schema: JSONValue
}

/// One way an operation can fail.
public struct OperationError: Sendable, Hashable {
    /// The HTTP status of the `CqrsError` (the same status MCP reports in `structuredContent`).
    public var status: Int
    /// When it happens.
    public var description: String
    /// The domain error codes of this status (`ACCOUNT_INSUFFICIENT_FUNDS`), empty for the library's own.
    public var codes: [String] = []

    /// The domain's codes, one entry per status.
    static func domain(_ codes: [any DomainErrorCode]) -> [OperationError] {
        Dictionary(grouping: codes, by: \.spec.status).sorted { $0.key < $1.key }.map { status, codes in
            OperationError(
                status: status,
                description: "Refused by the domain: " + codes.map { $0.code + ($0.spec.hint.map { " (\($0))" } ?? "") }.joined(separator: "; "),
                codes: codes.map(\.code))
        }
    }
}

/// Where a list operation reads, so a front end with its own query syntax (REST's RSQL) builds the
/// same `ReadQuery` the JSON arguments give.
public struct ListAccess: Sendable {
    /// The schema of one item (whose declared fields a filter may name).
    public var item: NamedSchema
    /// The fields a query may sort on.
    public var sortableFields: [String]
    /// Whether a projector feeds the items, so that a read can wait for a global position.
    public var acceptsMinPosition: Bool
    let read: @Sendable (ReadQuery, String?, Int64?) async throws -> JSONValue

    /// One page of items: `{"items","total","nextCursor"?}`, plus `checkpoint` and `stale` when
    /// `minPosition` is given: the read first waits (boundedly) until the projection has applied the
    /// log up to that position, and `stale` says whether it had not.
    /// - Throws: 400 when the query names an undeclared field or sorts on an unsortable one.
    public func query(_ query: ReadQuery, parentId: String?, minPosition: Int64? = nil) async throws -> JSONValue {
        try FieldPaths.check(query, item: item.schema, sortable: sortableFields)
        return try await read(query, parentId, minPosition)
    }
}

/// One operation of the catalog: a command case, a read, an audit log, a view read.
///
/// Every front end renders the same operations: MCP as tools (`name`, `inputSchema`, the semantics
/// as annotations), REST as routes (``group``, ``kind``, ``body``) with OpenAPI from the same schemas.
public struct CatalogOperation: Sendable {
    /// The operation's name (`account_deposit`): the MCP tool name and the OpenAPI `operationId`.
    public internal(set) var name: String
    /// The aggregate or view type it belongs to (`account`, `movement`).
    public internal(set) var group: String
    /// What it does.
    public internal(set) var kind: OperationKind
    /// A human title.
    public internal(set) var title: String
    /// What it does, for people and models.
    public internal(set) var description: String
    /// Every argument as one object: the command's fields plus `id`, `expectedVersion`,
    /// `idempotencyKey`, or a read's `id`, `parentId`, `filter`, `sort`, `limit`, `cursor`.
    public internal(set) var input: NamedSchema
    /// The fields of a command case alone (a REST body), nil for reads.
    public internal(set) var body: NamedSchema?
    /// The result on success.
    public internal(set) var output: NamedSchema
    /// How it behaves.
    public internal(set) var semantics: OperationSemantics
    /// How it can fail.
    public internal(set) var errors: [OperationError]
    /// For a child view: the aggregate type its documents belong to.
    public internal(set) var parentType: String?
    /// For list operations: the typed query entry point.
    public internal(set) var list: ListAccess?
    let run: @Sendable (JSONValue, CommandContext) async throws -> JSONValue
}

extension OperationError {
    static let invalid = OperationError(status: 400, description: "Invalid arguments or a domain rule refused the command.")
    static let unavailable = OperationError(status: 503, description: "The store is unreachable.")
    static let notFound = OperationError(status: 404, description: "No such aggregate or document.")
    static let conflict = OperationError(
        status: 409, description: "A concurrent change won (the expected version is not current) or the aggregate exists.")
    static let keyReused = OperationError(
        status: 422, description: "The idempotency key was used before with other arguments.")
}
