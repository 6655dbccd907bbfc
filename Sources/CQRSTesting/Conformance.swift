import CQRS
import CQRSSchema
import Foundation

/// What a backend provides to run the conformance suite: fresh, empty stores.
public protocol ConformanceBackend: Sendable {
    /// A new, empty event store.
    func makeEventStore() async throws -> any EventStore
    /// A new, empty read storage for a model type.
    func makeReadStorage<M: ReadModel>(_ type: M.Type) async throws -> any ReadStorage<M>
}

/// The backend conformance suite: every store must pass every check. A backend's test target runs
/// each check as its own test:
/// ```swift
/// @Test(arguments: ConformanceCheck.allCases)
/// func conformance(_ check: ConformanceCheck) async throws {
///     try await ConformanceSuite(backend: MyBackend()).run(check)
/// }
/// ```
public enum ConformanceCheck: String, CaseIterable, Sendable, CustomStringConvertible {
    case appendAndLoad, existenceRules, zeroEventCommand, expectedVersion, domainErrors
    case concurrentWritersOneAggregate, concurrentCommitsSameVersion, racingCreates
    case idempotentUpdate, idempotentCreate, idempotencyKeyReuse, concurrentIdempotentCommands, mixedConcurrentCommits
    case snapshotPolicies, undecodableSnapshot, globalLogOrder, globalLogNoSkipUnderConcurrency
    case auditPaging, readStorageCrud, readStorageFilters, readStorageSortAndPaging, readStorageChildren
    case projections, projectionCheckpoints, projectorExactlyOnce, projectorRetriesAFailingEvent, globalLogSubscription
    case enginesSharingAStore
    case contendedWritersWithoutExpectedVersion, identifierRules, nulInText, bytewiseStrings, exactNumbers
    case largeInFilters

    public var description: String { rawValue }
}

/// Runs ``ConformanceCheck``s against a backend.
public struct ConformanceSuite: Sendable {
    let backend: any ConformanceBackend

    /// A suite for `backend`.
    public init(backend: any ConformanceBackend) {
        self.backend = backend
    }

    /// Runs one check; throws an ``ExpectationFailure`` describing the first difference.
    public func run(_ check: ConformanceCheck) async throws {
        switch check {
        case .appendAndLoad: try await appendAndLoad()
        case .existenceRules: try await existenceRules()
        case .zeroEventCommand: try await zeroEventCommand()
        case .expectedVersion: try await expectedVersion()
        case .domainErrors: try await domainErrors()
        case .concurrentWritersOneAggregate: try await concurrentWritersOneAggregate()
        case .concurrentCommitsSameVersion: try await concurrentCommitsSameVersion()
        case .racingCreates: try await racingCreates()
        case .idempotentUpdate: try await idempotentUpdate()
        case .idempotentCreate: try await idempotentCreate()
        case .idempotencyKeyReuse: try await idempotencyKeyReuse()
        case .concurrentIdempotentCommands: try await concurrentIdempotentCommands()
        case .mixedConcurrentCommits: try await mixedConcurrentCommits()
        case .snapshotPolicies: try await snapshotPolicies()
        case .undecodableSnapshot: try await undecodableSnapshot()
        case .globalLogOrder: try await globalLogOrder()
        case .globalLogNoSkipUnderConcurrency: try await globalLogNoSkip()
        case .auditPaging: try await auditPaging()
        case .readStorageCrud: try await readStorageCrud()
        case .readStorageFilters: try await readStorageFilters()
        case .readStorageSortAndPaging: try await readStorageSortAndPaging()
        case .readStorageChildren: try await readStorageChildren()
        case .projections: try await projections()
        case .projectionCheckpoints: try await projectionCheckpoints()
        case .projectorExactlyOnce: try await projectorExactlyOnce()
        case .projectorRetriesAFailingEvent: try await projectorRetriesAFailingEvent()
        case .globalLogSubscription: try await globalLogSubscription()
        case .enginesSharingAStore: try await enginesSharingAStore()
        case .contendedWritersWithoutExpectedVersion: try await contendedWritersWithoutExpectedVersion()
        case .identifierRules: try await identifierRules()
        case .nulInText: try await nulInText()
        case .bytewiseStrings: try await bytewiseStrings()
        case .exactNumbers: try await exactNumbers()
        case .largeInFilters: try await largeInFilters()
        }
    }

    // MARK: - Helpers

    typealias Engine = CommandEngine<ConformanceCounter>

    func engine(_ store: any EventStore, policy: SnapshotPolicy = .every(100)) -> Engine {
        Engine(store: store, services: (), snapshotPolicy: policy, idGenerator: ConformanceCounter.idGenerator)
    }

    func expect(
        _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        if !condition { throw ExpectationFailure(message(), file: file, line: line) }
    }

    @discardableResult
    func expectError<T>(
        _ code: String, status: Int? = nil, file: StaticString = #filePath, line: UInt = #line,
        _ body: () async throws -> T
    ) async throws -> CqrsError {
        do {
            let value = try await body()
            throw ExpectationFailure("Expected error \(code), got \(value)", file: file, line: line)
        } catch let error as CqrsError {
            try expect(error.code == code, "Expected error \(code), got \(error)", file: file, line: line)
            if let status { try expect(error.status == status, "Expected status \(status), got \(error.status)", file: file, line: line) }
            return error
        }
    }

    func start(_ engine: Engine, _ id: String, value: Int = 0) async throws {
        _ = try await engine.create(.start(id: id, value: value))
    }

    // MARK: - Event store checks

    private func appendAndLoad() async throws {
        let store = try await backend.makeEventStore()
        let moment = Date(timeIntervalSince1970: 1_790_000_000.123_456)
        let context = CommandContext(
            currentUser: "ada", requestId: "req-1", correlationId: "corr-1", metadata: ["tenant": "acme", "n": 3],
            clock: .fixed(moment), ids: .sequential())
        let engine = engine(store)
        let created = try await engine.create(.start(id: "c1", value: 5), context: context, metadata: ["source": "test"])
        try expect(created.aggregateId == "c1" && created.version == 1, "create result \(created)")
        let updated = try await engine.update(id: "c1", .addMany(count: 3), context: context)
        try expect(updated.version == 4 && updated.events.map(\.version) == [2, 3, 4], "update result \(updated)")
        try expect(updated.globalPosition == updated.events.last?.globalPosition, "global position of the result")
        let loaded = try await engine.load(id: "c1")
        try expect(loaded?.version == 4 && loaded?.state.value == 8, "loaded \(String(describing: loaded))")
        let events = try await store.loadEvents(ConformanceCounter.self, id: "c1", afterVersion: 0, limit: nil)
        try expect(events.map(\.version) == [1, 2, 3, 4], "versions \(events.map(\.version))")
        try expect(events == created.events + updated.events, "stored envelopes equal the committed ones")
        let first = events[0]
        try expect(first.aggregateType == "conformance_counter" && first.aggregateId == "c1", "identity of \(first)")
        try expect(first.eventType == "added" && first.payload == .added(5), "payload of \(first)")
        try expect(first.occurredAt == moment.truncatedToMilliseconds, "occurredAt \(first.occurredAt) keeps milliseconds")
        try expect(first.metadata["userId"] == "ada", "userId in \(first.metadata)")
        try expect(first.metadata["requestId"] == "req-1", "requestId in \(first.metadata)")
        try expect(first.metadata["correlationId"] == "corr-1", "correlationId in \(first.metadata)")
        try expect(first.metadata["causationId"] == "req-1", "causationId in \(first.metadata)")
        try expect(first.metadata["source"] == "test", "caller entry in \(first.metadata)")
        try expect(first.metadata["tenant"] == "acme" && first.metadata["n"] == "3", "bag entries in \(first.metadata)")
        try expect(Set(events.map(\.eventId)).count == 4, "event ids are unique")
        let page = try await store.loadEvents(ConformanceCounter.self, id: "c1", afterVersion: 1, limit: 2)
        try expect(page.map(\.version) == [2, 3], "paged load \(page.map(\.version))")
        let missing = try await store.loadStream(ConformanceCounter.self, id: "nope", useSnapshot: true)
        try expect(missing.version == 0 && missing.events.isEmpty, "missing stream is empty")
        let missingReplay = try await store.loadReplay(ConformanceCounter.self, id: "nope", useSnapshot: true)
        try expect(missingReplay.version == 0 && missingReplay.events.isEmpty && missingReplay.lastEventVersion == nil, "missing replay is empty")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "c1") == 4, "streamVersion")
    }

    private func existenceRules() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await expectError("INFRASTRUCTURE_AGGREGATE_NOT_FOUND", status: 404) {
            try await engine.update(id: "ghost", .add(1))
        }
        try await start(engine, "e1")
        try await expectError("INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS", status: 409) {
            try await engine.create(.start(id: "e1", value: 1))
        }
        // The journal decides existence, even with no snapshot at all.
        let noSnapshots = self.engine(store, policy: .never)
        try await expectError("INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS", status: 409) {
            try await noSnapshots.create(.start(id: "e1", value: 1))
        }
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "e1") == 1, "nothing appended")
    }

    private func zeroEventCommand() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "z1")
        let result = try await engine.update(id: "z1", .nothing)
        try expect(result.version == 1 && result.events.isEmpty && result.globalPosition == nil, "zero-event result \(result)")
        try expect(try await store.readAll(after: 0, limit: 100).count == 1, "nothing appended")
    }

    private func expectedVersion() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "v1")
        _ = try await engine.update(id: "v1", .add(1), expectedVersion: 1)
        let error = try await expectError("INFRASTRUCTURE_CONCURRENCY_ERROR", status: 409) {
            try await engine.update(id: "v1", .add(1), expectedVersion: 1)
        }
        try expect(error.details?["currentVersion"] == .int(2), "details carry the current version: \(error)")
        try expect(error.details?["expectedVersion"] == .int(1), "details carry the expected version: \(error)")
    }

    private func domainErrors() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "d1")
        let context = CommandContext(requestId: "req-refuse")
        let error = try await expectError("CONFORMANCE_REFUSED", status: 400) {
            try await engine.update(id: "d1", .refuse, context: context)
        }
        try expect(error.internalCode == 99001 && error.requestId == "req-refuse", "error keeps code and request id: \(error)")
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "d1") == 1, "nothing appended")
    }

    private func concurrentWritersOneAggregate() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        try await start(engine, "w1")
        let outcomes = await withTaskGroup(of: Result<Int, CqrsError>.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    do { return .success(try await engine.update(id: "w1", .add(1)).version) }
                    catch { return .failure(CqrsError.wrapping(error)) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var versions: [Int] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let version): versions.append(version)
            case .failure(let error):
                try expect(false, "a writer without an expected version failed: \(error)")
            }
        }
        try expect(versions.sorted() == Array(2...33), "every writer wins once: \(versions.sorted())")
        let events = try await store.loadEvents(ConformanceCounter.self, id: "w1", afterVersion: 0, limit: nil)
        try expect(events.map(\.version) == Array(1...33), "every version exactly once: \(events.map(\.version))")
    }

    private func concurrentCommitsSameVersion() async throws {
        let store = try await backend.makeEventStore()
        try await start(engine(store), "s1")
        let outcomes = await withTaskGroup(of: Result<Int, CqrsError>.self) { group in
            for n in 0..<32 {
                group.addTask {
                    let commit = PendingCommit<ConformanceCounter>(
                        aggregateId: "s1", expectedVersion: 1,
                        events: [PendingEvent(eventId: UUID(), payload: .added(n))], metadata: [:],
                        occurredAt: Date().truncatedToMilliseconds, snapshot: nil, idempotency: nil)
                    do {
                        guard case .committed(let envelopes) = try await store.commit(commit) else { return .success(-1) }
                        return .success(envelopes[0].version)
                    } catch { return .failure(CqrsError.wrapping(error)) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        try expect(winners == [2], "exactly one commit at version 1 wins, got \(winners)")
        for case .failure(let error) in outcomes {
            try expect(error.code == "INFRASTRUCTURE_CONCURRENCY_ERROR" && error.status == 409, "a loser got \(error)")
        }
    }

    private func racingCreates() async throws {
        let store = try await backend.makeEventStore()
        let engine = engine(store)
        let outcomes = await withTaskGroup(of: Result<Int, CqrsError>.self) { group in
            for n in 0..<16 {
                group.addTask {
                    do { return .success(try await engine.create(.start(id: "r1", value: n)).version) }
                    catch { return .failure(CqrsError.wrapping(error)) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        try expect(outcomes.compactMap { try? $0.get() } == [1], "exactly one create wins")
        for case .failure(let error) in outcomes {
            try expect(error.code == "INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS" && error.status == 409, "a loser got \(error)")
        }
        try expect(try await store.streamVersion(aggregateType: "conformance_counter", id: "r1") == 1, "one event")
    }

    private func enginesSharingAStore() async throws {
        let store = try await backend.makeEventStore()
        let first = engine(store)
        let second = engine(store)
        try await start(first, "m1")
        for round in 0..<5 {
            let writer = round.isMultiple(of: 2) ? first : second
            _ = try await writer.update(id: "m1", .add(1))
        }
        let fromFirst = try await first.load(id: "m1")
        let fromSecond = try await second.load(id: "m1")
        try expect(fromFirst?.version == 6 && fromFirst?.state.value == 5, "first engine sees every commit: \(String(describing: fromFirst))")
        try expect(fromSecond?.version == 6 && fromSecond?.state.value == 5, "second engine sees every commit")
        // A decision on a stale cached state must not stand: the first engine's cache says 5, the
        // store says 15 after the second engine's commit, so subtracting 10 succeeds.
        _ = try await second.update(id: "m1", .add(10))
        let subtracted = try await first.update(id: "m1", .subtract(10))
        try expect(subtracted.version == 8, "decided on fresh state: \(subtracted)")
        _ = try await second.update(id: "m1", .add(10))
        let successes = await withTaskGroup(of: Int.self) { group in
            for n in 0..<20 {
                group.addTask {
                    let engine = n.isMultiple(of: 2) ? first : second
                    for _ in 0..<5 {
                        if (try? await engine.update(id: "m1", .add(1))) != nil { return 1 }
                    }
                    return 0
                }
            }
            return await group.reduce(0, +)
        }
        let final = try await first.load(id: "m1")
        try expect(final?.version == 9 + successes && final?.state.value == 15 + successes, "no lost update: \(successes) successes, \(String(describing: final))")
    }
}
