import CQRS
import Foundation
import Testing

/// The one decoder of stored rows that every store uses.
@Suite("Stored event rows")
struct StoredEventRowTests {
    struct Counted: Codable, Sendable, Equatable {
        var n: Int
    }

    func row(_ version: Int, _ payload: String, metadata: String = #"{"userId":"ada"}"#) -> StoredEventRow {
        StoredEventRow(
            position: Int64(version), eventId: UUID(), aggregateType: "counter", aggregateId: "c1", version: version,
            eventType: "counted", payload: Data(payload.utf8), metadata: Data(metadata.utf8), occurredAt: 0)
    }

    @Test func eachRowKeepsItsOwnPayloadAndMetadata() throws {
        let rows = [
            row(1, #"{"n":1}"#), row(2, #"{"n":2}"#, metadata: #"{"userId":"bob"}"#), row(3, #"{"n":3}"#),
            row(4, #"{"n":4}"#, metadata: #"{"userId":"bob"}"#),
        ]
        let envelopes = try StoredEventRow.decode(rows, as: Counted.self)
        #expect(envelopes.map(\.payload.n) == [1, 2, 3, 4])
        #expect(envelopes.map { $0.metadata["userId"] } == ["ada", "bob", "ada", "bob"])
    }

    @Test func aPayloadOfTwoValuesCannotShiftTheBatch() {
        // "1,2" inside the batch's array would read as two elements and misalign every later event.
        let rows = [row(1, #"{"n":1}"#), row(2, #"{"n":2},{"n":9}"#), row(3, #"{"n":3}"#)]
        #expect(throws: CqrsError.self) { try StoredEventRow.decode(rows, as: Counted.self) }
    }

    @Test func aBadRowIsNamed() {
        do {
            _ = try StoredEventRow.decode([row(1, #"{"n":1}"#), row(2, #"{"n":"two"}"#)], as: Counted.self)
            Issue.record("decoded")
        } catch {
            #expect("\(error)".contains("version 2"), "\(error)")
        }
    }
}
