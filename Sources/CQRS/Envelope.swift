import CQRSSchema
import Foundation

/// One stored event with everything known about it.
@Schema
public struct EventEnvelope<Payload: Sendable>: Sendable {
    /// A unique id of this event.
    public var eventId: UUID
    /// The aggregate's type name.
    public var aggregateType: String
    /// The aggregate's id.
    public var aggregateId: String
    /// The aggregate's version after this event (1 for the first event).
    public var version: Int
    /// The event's position in the store-wide log, increasing in commit order.
    public var globalPosition: Int64
    /// The event's stable type name.
    public var eventType: String
    /// The event itself.
    public var payload: Payload
    /// User, request, correlation and causation ids, plus caller entries.
    public var metadata: [String: String]
    /// When the event was committed (UTC, millisecond precision).
    public var occurredAt: Date

    /// Creates an envelope.
    public init(
        eventId: UUID, aggregateType: String, aggregateId: String, version: Int, globalPosition: Int64,
        eventType: String, payload: Payload, metadata: [String: String], occurredAt: Date
    ) {
        self.eventId = eventId
        self.aggregateType = aggregateType
        self.aggregateId = aggregateId
        self.version = version
        self.globalPosition = globalPosition
        self.eventType = eventType
        self.payload = payload
        self.metadata = metadata
        self.occurredAt = occurredAt
    }

    /// The same envelope with another payload.
    public func mapPayload<T: Sendable>(_ transform: (Payload) throws -> T) rethrows -> EventEnvelope<T> {
        EventEnvelope<T>(
            eventId: eventId, aggregateType: aggregateType, aggregateId: aggregateId, version: version,
            globalPosition: globalPosition, eventType: eventType, payload: try transform(payload),
            metadata: metadata, occurredAt: occurredAt)
    }
}

extension EventEnvelope: Equatable where Payload: Equatable {}
extension EventEnvelope: Hashable where Payload: Hashable {}
extension EventEnvelope: Codable where Payload: Codable {}

/// A value that can present itself as an envelope with a JSON payload.
public protocol JSONEnvelopeConvertible: Sendable {
    /// The envelope with its payload as JSON (the form of the global log and the audit log).
    func jsonEnvelope() throws -> EventEnvelope<JSONValue>
}

extension EventEnvelope: JSONEnvelopeConvertible where Payload: Encodable {
    /// The envelope with its payload as JSON (the form of the global log and the audit log).
    public func jsonEnvelope() throws -> EventEnvelope<JSONValue> {
        try mapPayload { try CQRSJSON.value(of: $0) }
    }
}

extension Date {
    /// The date truncated to whole milliseconds, the precision every store keeps.
    public var truncatedToMilliseconds: Date {
        Date(millisecondsSince1970: millisecondsSince1970)
    }
    /// Whole milliseconds since 1970 (rounded down).
    public var millisecondsSince1970: Int64 {
        // A Date keeps seconds since 2001 as a Double, so one made from whole milliseconds can come
        // back a hair below them (5 ms as 4.99999…): a date that is exactly what the next whole
        // millisecond makes (either way of making it) is that millisecond.
        let down = Int64((timeIntervalSinceReferenceDate * 1000).rounded(.down)) + Self.referenceMilliseconds
        let next = down + 1
        if Date(millisecondsSince1970: next) == self || Date(timeIntervalSince1970: Double(next) / 1000) == self { return next }
        return down
    }
    /// The date at `milliseconds` since 1970.
    public init(millisecondsSince1970 milliseconds: Int64) {
        let (sinceReference, overflow) = milliseconds.subtractingReportingOverflow(Self.referenceMilliseconds)
        self.init(timeIntervalSinceReferenceDate: overflow ? Double(milliseconds) / 1000 - 978_307_200 : Double(sinceReference) / 1000)
    }
    /// 2001-01-01, Foundation's reference date, in milliseconds since 1970.
    private static let referenceMilliseconds: Int64 = 978_307_200_000
}
