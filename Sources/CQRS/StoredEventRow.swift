import CQRSSchema
import Foundation

/// An event row as a store reads it, before its payload and metadata are decoded (which a store does
/// after releasing its connection).
public struct StoredEventRow: Sendable {
    /// The global position.
    public var position: Int64
    /// The event's id.
    public var eventId: UUID
    /// The aggregate type.
    public var aggregateType: String
    /// The aggregate id.
    public var aggregateId: String
    /// The version within the aggregate.
    public var version: Int
    /// The stored event type.
    public var eventType: String
    /// The payload's JSON text.
    public var payload: Data
    /// The metadata's JSON text (an object of strings).
    public var metadata: Data
    /// The commit time, in milliseconds since 1970.
    public var occurredAt: Int64

    /// Creates a row.
    public init(
        position: Int64, eventId: UUID, aggregateType: String, aggregateId: String, version: Int, eventType: String,
        payload: Data, metadata: Data, occurredAt: Int64
    ) {
        self.position = position
        self.eventId = eventId
        self.aggregateType = aggregateType
        self.aggregateId = aggregateId
        self.version = version
        self.eventType = eventType
        self.payload = payload
        self.metadata = metadata
        self.occurredAt = occurredAt
    }

    /// Decodes rows in one pass: typed payloads as one JSON array with one decoder call (straight from
    /// the text, without a `JSONValue` tree), raw `JSONValue` payloads with the strict parser (numbers
    /// kept exactly), metadata once per distinct text (the events of a commit share it).
    public static func decode<E: Decodable & Sendable>(_ rows: [StoredEventRow], as type: E.Type) throws -> [EventEnvelope<E>] {
        guard !rows.isEmpty else { return [] }
        let decoder = CQRSJSON.valueDecoder
        let payloads: [E]
        if E.self == JSONValue.self {
            payloads = try rows.map { row in
                // Foundation's depth limit, as for typed payloads: a deep event stored once must stay readable.
                do { return try JSONValue.parse(row.payload, maxDepth: 512) as! E } catch {
                    throw CqrsError.serialization("Event at position \(row.position) is not valid JSON: \(error)")
                }
            }
        } else {
            var array = [UInt8(ascii: "[")]
            array.reserveCapacity(rows.reduce(2) { $0 + $1.payload.count + 1 })
            for (index, row) in rows.enumerated() {
                if index > 0 { array.append(UInt8(ascii: ",")) }
                array.append(contentsOf: row.payload)
            }
            array.append(UInt8(ascii: "]"))
            if let batch = decodePayloads(array, count: rows.count, as: type) {
                payloads = batch
            } else {
                // Find the culprit for a precise error.
                payloads = try rows.map { row in
                    do {
                        return try decoder.decode(E.self, fromJSON: row.payload)
                    } catch {
                        throw CqrsError.serialization(
                            "Event \(row.aggregateType) '\(row.aggregateId)' version \(row.version) (\(row.eventType)) does not decode as \(E.self): \(error)")
                    }
                }
            }
        }
        var metadataCache: [Data: [String: String]] = [:]
        var previous: (text: Data, metadata: [String: String])?
        var envelopes: [EventEnvelope<E>] = []
        envelopes.reserveCapacity(rows.count)
        for (row, payload) in zip(rows, payloads) {
            let metadata: [String: String]
            if let previous, previous.text == row.metadata {
                metadata = previous.metadata
            } else if let cached = metadataCache[row.metadata] {
                metadata = cached
            } else {
                do {
                    metadata = try decoder.decode([String: String].self, fromJSON: row.metadata)
                } catch {
                    throw CqrsError.serialization("Metadata of event at position \(row.position) does not decode: \(error)")
                }
                metadataCache[row.metadata] = metadata
            }
            previous = (row.metadata, metadata)
            envelopes.append(
                EventEnvelope(
                    eventId: row.eventId, aggregateType: row.aggregateType, aggregateId: row.aggregateId, version: row.version,
                    globalPosition: row.position, eventType: row.eventType, payload: payload, metadata: metadata,
                    occurredAt: Date(millisecondsSince1970: row.occurredAt)))
        }
        return envelopes
    }

    /// The `count` payloads joined as one JSON array (`[p1,p2,…]`), decoded with one decoder call, or
    /// nil when any does not decode, or when the array does not hold `count` values (a stored `1,2`
    /// would shift the batch): then decode row by row to name the culprit.
    package static func decodePayloads<E: Decodable>(_ array: [UInt8], count: Int, as type: E.Type) -> [E]? {
        guard let batch = try? CQRSJSON.valueDecoder.decodeElements(type, fromJSON: array), batch.count == count else { return nil }
        return batch
    }
}
