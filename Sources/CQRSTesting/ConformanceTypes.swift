import CQRS
import Foundation

/// The aggregate the conformance suite drives: a counter with a note.
public struct ConformanceCounter: CommandHandler, Equatable {
    public static let aggregateType = "conformance_counter"
    public var id: String
    public var value: Int
    public var notes: [String]

    public init(id: String) {
        self.id = id
        value = 0
        notes = []
    }

    public mutating func apply(_ event: CounterEvent) throws {
        switch event {
        case .added(let amount): value += amount
        case .noted(let text): notes.append(text)
        }
    }

    public func handleCreate(_ command: CounterCreate, services: Void, context: CommandContext) async throws
        -> [CounterEvent]
    {
        switch command {
        case .start(_, let value): [.added(value)]
        }
    }

    public func handleUpdate(_ command: CounterCommand, services: Void, context: CommandContext) async throws
        -> [CounterEvent]
    {
        switch command {
        case .add(let amount): return [.added(amount)]
        case .addMany(let count): return (0..<count).map { _ in .added(1) }
        case .note(let text): return [.noted(text)]
        case .nothing: return []
        case .refuse: throw ConformanceError.refused.error("Refused on purpose")
        case .subtract(let amount):
            guard amount <= value else { throw ConformanceError.refused.error("Cannot subtract \(amount) from \(value)") }
            return [.added(-amount)]
        }
    }

    /// Ids come from the create command, so tests can race on one id.
    public static let idGenerator = AggregateIdGenerator<ConformanceCounter> { command, _ in
        switch command {
        case .start(let id, _): id
        }
    }
}

/// The same stream under a changed state shape: its snapshots written by ``ConformanceCounter``
/// no longer decode (the `label` field is new and required), so loading must replay.
public struct ConformanceCounterV2: CommandHandler, Equatable {
    public static let aggregateType = ConformanceCounter.aggregateType
    public var id: String
    public var value: Int
    public var notes: [String]
    public var label: String

    public init(id: String) {
        self.id = id
        value = 0
        notes = []
        label = "v2"
    }

    public mutating func apply(_ event: CounterEvent) throws {
        switch event {
        case .added(let amount): value += amount
        case .noted(let text): notes.append(text)
        }
    }

    public func handleCreate(_ command: CounterCreate, services: Void, context: CommandContext) async throws
        -> [CounterEvent]
    { [] }

    public func handleUpdate(_ command: CounterCommand, services: Void, context: CommandContext) async throws
        -> [CounterEvent]
    { [] }
}

/// Counter events.
@EventTypes
public enum CounterEvent: DomainEvent {
    case added(Int)
    case noted(String)
}

/// Counter create command.
public enum CounterCreate: Codable, Sendable, Equatable {
    case start(id: String, value: Int)
}

/// Counter update commands.
public enum CounterCommand: Codable, Sendable, Equatable {
    case add(Int)
    case addMany(count: Int)
    case note(String)
    case nothing
    case refuse
    /// Refused when the counter is below the amount.
    case subtract(Int)
}

/// The suite's domain error (prefix 99).
@DomainErrors(domain: "conformance", prefix: 99)
public enum ConformanceError {
    @ErrorCode(1, .badRequest)
    case refused
}

/// A document with fields of every kind, for the read-storage checks.
public struct ConformanceDocument: ReadModel, Equatable {
    public static let modelType = "conformance_document"
    public static var sortableFields: Set<String> { ["name", "count", "score", "active", "address.city"] }
    public var id: String
    public var name: String
    public var count: Int
    public var score: Double?
    public var active: Bool
    public var address: Address

    public struct Address: Codable, Sendable, Equatable {
        public var city: String
    }

    public init(id: String, name: String, count: Int, score: Double?, active: Bool, city: String) {
        self.id = id
        self.name = name
        self.count = count
        self.score = score
        self.active = active
        self.address = Address(city: city)
    }
}

/// A child document (lives under a parent id).
public struct ConformanceChild: ReadModel, Equatable {
    public static let modelType = "conformance_child"
    public static let isChild = true
    public static var sortableFields: Set<String> { ["rank"] }
    public var id: String
    public var owner: String
    public var rank: Int
    public var parentId: String? { owner }

    public init(id: String, owner: String, rank: Int) {
        self.id = id
        self.owner = owner
        self.rank = rank
    }
}
