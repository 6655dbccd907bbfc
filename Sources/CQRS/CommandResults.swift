import CQRSSchema
import Foundation

/// The outcome of a command.
public struct CommandResult<Event: Sendable>: Sendable {
    /// The aggregate the command ran on.
    public var aggregateId: String
    /// The aggregate's version after the command.
    public var version: Int
    /// The global position of the command's last event (nil when it produced none).
    public var globalPosition: Int64?
    /// The events the command committed.
    public var events: [EventEnvelope<Event>]
    /// True when this is the stored result of an earlier command with the same idempotency key.
    public var replayed: Bool

    /// Creates a result.
    public init(
        aggregateId: String, version: Int, globalPosition: Int64?, events: [EventEnvelope<Event>], replayed: Bool
    ) {
        self.aggregateId = aggregateId
        self.version = version
        self.globalPosition = globalPosition
        self.events = events
        self.replayed = replayed
    }
}

extension CommandResult: Equatable where Event: Equatable {}

/// An aggregate as loaded: its state and version.
public struct LoadedAggregate<A: Aggregate>: Sendable {
    /// The state after every event.
    public var state: A
    /// The number of events applied (0: the aggregate does not exist).
    public var version: Int

    /// Creates a loaded aggregate.
    public init(state: A, version: Int) {
        self.state = state
        self.version = version
    }
}

/// One event of an aggregate's audit log, with its payload as JSON.
@Schema
public struct AuditEntry: Sendable, Hashable, Codable {
    /// The event's unique id.
    public var eventId: UUID
    /// The aggregate's version after this event (1 for the first).
    public var version: Int
    /// The event's stable type name.
    public var eventType: String
    /// The event itself.
    public var payload: JSONValue
    /// User, request, correlation and causation ids, plus caller entries.
    public var metadata: [String: String]
    /// When the event was committed (UTC, millisecond precision).
    public var occurredAt: Date
    /// The event's position in the store-wide log.
    public var globalPosition: Int64

    /// The audit form of an envelope.
    public init<E: Encodable & Sendable>(_ envelope: EventEnvelope<E>) throws {
        eventId = envelope.eventId
        version = envelope.version
        eventType = envelope.eventType
        payload = try CQRSJSON.value(of: envelope.payload)
        metadata = envelope.metadata
        occurredAt = envelope.occurredAt
        globalPosition = envelope.globalPosition
    }
}

/// One page of an aggregate's audit log.
public struct AuditPage<Event: Sendable>: Sendable {
    /// The events of the page, in version order.
    public var events: [EventEnvelope<Event>]
    /// The aggregate's total number of events.
    public var total: Int
    /// The number of events before this page.
    public var offset: Int
    /// The page size asked for.
    public var limit: Int

    /// Creates a page.
    public init(events: [EventEnvelope<Event>], total: Int, offset: Int, limit: Int) {
        self.events = events
        self.total = total
        self.offset = offset
        self.limit = limit
    }
}

extension AuditPage: Equatable where Event: Equatable {}
