import CQRSSchema

/// A domain event: a fact that happened to one aggregate.
public protocol DomainEvent: Codable, Sendable, Equatable {
    /// A stable name for the event's kind, stored with each event (e.g. `"deposited"`).
    var eventType: String { get }
}

/// The state of a consistency boundary, rebuilt by applying its events in order.
///
/// The aggregate value itself is what snapshots store, so it is `Codable`.
public protocol Aggregate: Codable, Sendable {
    /// The events this aggregate emits.
    associatedtype Event: DomainEvent
    /// The aggregate's type name, e.g. `"account"`: it names tools, routes and stored streams.
    static var aggregateType: String { get }
    /// The aggregate's id.
    var id: String { get }
    /// The initial state of the aggregate with this id, before any event.
    init(id: String)
    /// State fields a caller may sort the list of aggregates on (none by default).
    static var sortableStateFields: [String] { get }
    /// Applies one event. Throwing here means the stream cannot be replayed; the error reaches the caller.
    mutating func apply(_ event: Event) throws
}

/// Decides which events a command produces.
///
/// A create command runs on the initial state of a new id; an update command on the loaded state.
/// Throw a ``CqrsError`` (usually from a ``DomainErrorCode``) to refuse a command.
///
/// Handlers decide; they should not change anything outside the events they return. The engine may
/// call a handler twice for one command: it first decides on its cached state and, if the commit
/// finds that state stale (or the handler refused on it), decides again on freshly loaded state.
public protocol CommandHandler: Aggregate {
    /// The commands that create an aggregate (usually an enum).
    associatedtype CreateCommand: Codable & Sendable
    /// The commands that change an existing aggregate (usually an enum).
    associatedtype UpdateCommand: Codable & Sendable
    /// Services injected into the handlers (clients, policies); `Void` when none.
    associatedtype Services: Sendable = Void

    /// The domain error codes its commands can give (listed with each command operation and in
    /// the OpenAPI document); empty by default.
    static var errorCodes: [any DomainErrorCode] { get }

    /// The coding keys of the update commands that destroy or irreversibly end something (e.g.
    /// `["close"]`); front ends mark them as destructive. None by default.
    static var destructiveCommands: Set<String> { get }

    /// Decides the events of a create command.
    func handleCreate(_ command: CreateCommand, services: Services, context: CommandContext) async throws -> [Event]
    /// Decides the events of an update command.
    func handleUpdate(_ command: UpdateCommand, services: Services, context: CommandContext) async throws -> [Event]
}

extension CommandHandler {
    public static var destructiveCommands: Set<String> { [] }
    public static var errorCodes: [any DomainErrorCode] { [] }
}

/// Chooses the id of the aggregate a create command makes.
///
/// The default is a UUID v4 from the context's id source. A deterministic generator turns an
/// association into an aggregate: `GrantRight(user_42, right_7)` gets id `user_42:right_7` (see
/// ``compositeId(_:)``), and a second grant of the same pair is a 409 rather than a silent overwrite.
public struct AggregateIdGenerator<A: CommandHandler>: Sendable {
    private let make: @Sendable (A.CreateCommand, CommandContext) throws -> String

    /// A generator from a closure; throw a ``CqrsError`` to reject a command that yields no valid id.
    public init(_ make: @escaping @Sendable (A.CreateCommand, CommandContext) throws -> String) {
        self.make = make
    }

    /// A random UUID v4 (lower case) from the context's id source.
    public static var uuid: AggregateIdGenerator<A> {
        AggregateIdGenerator { _, context in context.ids.next().uuidString.lowercased() }
    }

    /// An id built from parts, one-to-one: the parts joined with `:`, where a `%` or `:` inside a part
    /// is written `%25` or `%3A`. So (`a_b`, `c`) and (`a`, `b_c`) or (`a:b`, `c`) and (`a`, `b:c`)
    /// never share an id, as a plain join would make them.
    public static func compositeId(_ parts: [String]) -> String {
        parts.map { part in
            var escaped = ""
            for character in part.unicodeScalars {
                switch character {
                case "%": escaped += "%25"
                case ":": escaped += "%3A"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return escaped
        }.joined(separator: ":")
    }

    /// The id for a command.
    public func nextId(for command: A.CreateCommand, context: CommandContext) throws -> String {
        try make(command, context)
    }
}
