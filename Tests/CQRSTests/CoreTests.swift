import CQRS
import CQRSSchema
import CQRSTesting
import Foundation
import Synchronization
import Testing

@Suite("Core")
struct CoreTests {
    @Test func datesRoundTripWithMilliseconds() throws {
        for seconds in [0.0, 1_790_000_000.123, -86_400.5, 951_782_400.999, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds).truncatedToMilliseconds
            let data = try CQRSJSON.encode(["at": date])
            let back = try CQRSJSON.decode([String: Date].self, from: data)
            #expect(back["at"] == date, "\(seconds)")
        }
        let text = String(decoding: try CQRSJSON.encode([Date(timeIntervalSince1970: 1_790_000_000.5)]), as: UTF8.self)
        #expect(text == #"["2026-09-21T14:13:20.500Z"]"#)
        let offset = try CQRSJSON.decode([Date].self, from: Data(#"["2026-09-21T16:13:20+02:00"]"#.utf8))
        #expect(offset == [Date(timeIntervalSince1970: 1_790_000_000)])
        #expect(throws: (any Error).self) { try CQRSJSON.decode([Date].self, from: Data(#"["yesterday"]"#.utf8)) }
    }

    /// A date made from whole milliseconds keeps them: it used to come back one below for some (5 ms
    /// read as 4.99999…), so a stored `occurredAt` could print a millisecond early.
    @Test func millisecondsSurviveTheirDate() throws {
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] = [0, 1, 5, 999, -1, -5, 1_764_640_000_005, 253_402_300_799_999]
            + (0..<20_000).map { _ in Int64.random(in: -62_000_000_000_000...253_402_300_799_999, using: &generator) }
        for ms in samples {
            let date = Date(millisecondsSince1970: ms)
            #expect(date.millisecondsSince1970 == ms, "\(ms)")
            #expect(date.truncatedToMilliseconds == date, "\(ms)")
        }
        #expect(CQRSJSON.text(of: [Date(millisecondsSince1970: 5)]) == #"["1970-01-01T00:00:00.005Z"]"#)
        #expect(Date(timeIntervalSince1970: 0.0059).millisecondsSince1970 == 5, "sub-millisecond parts are cut")
        #expect(Date(timeIntervalSince1970: 1.0059995).millisecondsSince1970 == 1005, "even just below the next one")
        #expect(Date(timeIntervalSince1970: 1_764_640_000.0059995).millisecondsSince1970 == 1_764_640_000_005)
    }

    @Test func contextMetadataBag() {
        let context = CommandContext()
        #expect(context.currentUser == "anonymous")
        #expect(!context.requestId.isEmpty)
        let bag = context.withMetadata(["a": 1]).withMetadataEntry("b", "two")
        #expect(bag.metadata(nil) == ["a": 1, "b": "two"])
        #expect(bag.metadata("b") == "two")
        let replaced = context.withMetadata("not an object").withMetadataEntry("k", true)
        #expect(replaced.metadata(nil) == ["k": true])
    }

    @Test func sequentialIdsAreDistinctAndPredictable() {
        let ids = IdSource.sequential()
        #expect(ids.next().uuidString.lowercased() == "00000000-0000-4000-8000-000000000001")
        #expect(ids.next().uuidString.lowercased() == "00000000-0000-4000-8000-000000000002")
    }

    /// Version 7 ids: the variant and version bits, the time in the first 48 bits, later ids sorting
    /// later (by millisecond), none repeated.
    @Test func timeOrderedIds() async throws {
        let before = Date().millisecondsSince1970
        let first = (0..<50_000).map { _ in IdSource.timeOrdered.next() }
        try await Task.sleep(for: .milliseconds(2))
        let later = IdSource.timeOrdered.next()
        let after = Date().millisecondsSince1970
        #expect(Set(first).count == first.count)
        for id in first + [later] {
            let text = id.uuidString.lowercased()
            #expect(Array(text)[14] == "7" && "89ab".contains(Array(text)[19]), "\(text)")
            let milliseconds = Int64(text.prefix(8) + text.dropFirst(9).prefix(4), radix: 16) ?? -1
            #expect((before...after).contains(milliseconds), "\(text)")
        }
        #expect(first.allSatisfy { $0.uuidString.lowercased() < later.uuidString.lowercased() })
        #expect(CommandContext(currentUser: "u").ids.next().uuidString.lowercased().dropFirst(14).first == "7", "the default")
    }

    @Test func snapshotPolicy() {
        #expect(SnapshotPolicy.every(3).shouldSnapshot(from: 2, to: 3))
        #expect(SnapshotPolicy.every(3).shouldSnapshot(from: 1, to: 7))
        #expect(!SnapshotPolicy.every(3).shouldSnapshot(from: 3, to: 5))
        #expect(SnapshotPolicy.everyCommit.shouldSnapshot(from: 3, to: 4))
        #expect(!SnapshotPolicy.never.shouldSnapshot(from: 0, to: 100))
    }

    actor Recorder {
        var entries: [String] = []
        func add(_ entry: String) { entries.append(entry) }
    }

    struct Recording: Dispatcher {
        typealias A = ConformanceCounter
        let name: String
        let recorder: Recorder
        let fails: Bool
        func dispatch(aggregateId: String, events: [EventEnvelope<CounterEvent>], context: CommandContext) async throws {
            await recorder.add("\(name):\(events.map(\.version))")
            if fails { throw CqrsError.internalError("dispatcher \(name) failed") }
        }
    }

    @Test func dispatchersRunInOrderAndTheirFailuresDoNotFailTheCommand() async throws {
        let recorder = Recorder()
        let failures = Mutex<[String]>([])
        let engine = CommandEngine<ConformanceCounter>(
            store: InMemoryEventStore(), services: (), idGenerator: ConformanceCounter.idGenerator,
            dispatchers: [
                Recording(name: "first", recorder: recorder, fails: true),
                Recording(name: "second", recorder: recorder, fails: false),
            ],
            errorHandler: { error, _ in failures.withLock { $0.append(error.message) } })
        _ = try await engine.create(.start(id: "x", value: 1))
        let result = try await engine.update(id: "x", .addMany(count: 2))
        #expect(result.version == 3)
        _ = try await engine.update(id: "x", .nothing)
        #expect(await recorder.entries == ["first:[1]", "second:[1]", "first:[2, 3]", "second:[2, 3]"])
        #expect(failures.withLock { $0 } == ["dispatcher first failed", "dispatcher first failed"])
    }

    @Test func globalLogCarriesJSONPayloads() async throws {
        let store = InMemoryEventStore()
        let engine = CommandEngine<ConformanceCounter>(store: store, services: (), idGenerator: ConformanceCounter.idGenerator)
        _ = try await engine.create(.start(id: "j", value: 3))
        let log = try await store.readAll(after: 0, limit: 10)
        #expect(log.map(\.payload) == [["added": ["_0": 3]]])
    }
}
