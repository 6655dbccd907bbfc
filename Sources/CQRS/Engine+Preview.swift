import CQRSSchema
import Foundation

/// What a command would do: decided against the current state exactly as for real, with nothing
/// written (no event, no idempotency record, no dispatcher run).
public struct CommandPreview<A: Aggregate>: Sendable {
    /// The aggregate's id (for a create, the id it would get).
    public var aggregateId: String
    /// The version the command would reach (the current one when it produces no events).
    public var version: Int
    /// The events it would commit, in order.
    public var events: [A.Event]
    /// The state after those events.
    public var state: A
    /// True when the idempotency key was already used by this same command: the real call would
    /// return that first result and change nothing (``events`` is then empty).
    public var replayed: Bool
}

/// Dry runs and reads of the past.
extension CommandEngine {
    /// Decides a create command as ``create(_:context:metadata:idempotencyKey:)`` would, and writes nothing.
    /// - Throws: the same errors the real command would give before its commit (domain errors,
    ///   409 when the id is taken, 422 when the key was used by another command).
    public func previewCreate(
        _ command: A.CreateCommand, context: CommandContext = CommandContext(), idempotencyKey: String? = nil
    ) async throws -> CommandPreview<A> {
        if let idempotencyKey {
            try Identifier.check(idempotencyKey, as: "idempotencyKey")
            if let replayed = try await replay(IdempotencyClaim(key: idempotencyKey, fingerprint: try fingerprint("create", command))) {
                return try await replayedPreview(replayed)
            }
        }
        let id = try idGenerator.nextId(for: command, context: context)
        try Identifier.check(id, as: "The generated aggregate id")
        if try await store.streamVersion(aggregateType: A.aggregateType, id: id) > 0 {
            throw CqrsError.aggregateAlreadyExists(A.aggregateType, id: id)
        }
        let events = try await A(id: id).handleCreate(command, services: services, context: context)
        return try preview(events, on: A(id: id), version: 0, id: id)
    }

    /// Decides an update command as ``update(id:_:context:metadata:expectedVersion:idempotencyKey:)``
    /// would, on the current state, and writes nothing.
    /// - Throws: the same errors the real command would give before its commit (404, 409 on an
    ///   `expectedVersion` that is not current, domain errors, 422 on a reused key).
    public func previewUpdate(
        id: String, _ command: A.UpdateCommand, context: CommandContext = CommandContext(), expectedVersion: Int? = nil,
        idempotencyKey: String? = nil
    ) async throws -> CommandPreview<A> {
        try Identifier.check(id, as: "id")
        if let idempotencyKey {
            try Identifier.check(idempotencyKey, as: "idempotencyKey")
            let claim = IdempotencyClaim(key: idempotencyKey, fingerprint: try fingerprint("update:\(id)", command))
            if let replayed = try await replay(claim) { return try await replayedPreview(replayed) }
        }
        guard let loaded = try await load(id: id) else { throw CqrsError.aggregateNotFound(A.aggregateType, id: id) }
        if let expectedVersion, expectedVersion != loaded.version {
            throw CqrsError.concurrency(id: id, expectedVersion: expectedVersion, currentVersion: loaded.version)
        }
        let events = try await loaded.state.handleUpdate(command, services: services, context: context)
        return try preview(events, on: loaded.state, version: loaded.version, id: id)
    }

    /// The state as it was at `version`, replayed from the journal (never from a newer snapshot).
    /// Returns nil when the aggregate does not exist.
    /// - Throws: 400 when `version` is below 1 or beyond the aggregate's current version.
    public func load(id: String, asOfVersion version: Int) async throws -> LoadedAggregate<A>? {
        try Identifier.check(id, as: "id")
        guard version >= 1 else { throw CqrsError.validation("asOfVersion must be 1 or more", details: ["asOfVersion": .int(version)]) }
        let events = try await store.loadEvents(A.self, id: id, afterVersion: 0, limit: version)
        guard !events.isEmpty else { return nil }
        guard events.count == version else {
            throw InfrastructureError.validationFailed.error(
                "\(A.aggregateType) '\(id)' has only reached version \(events.count), not \(version)",
                details: ["parameter": "asOfVersion", "asOfVersion": .int(version), "currentVersion": .int(events.count)],
                hint: "Use an asOfVersion of at most \(events.count).")
        }
        return try replayed(events, id: id)
    }

    /// The state after the last event that occurred at or before `date`, replayed from the journal.
    /// Returns nil when the aggregate does not exist or did not exist yet at `date`.
    public func load(id: String, asOf date: Date) async throws -> LoadedAggregate<A>? {
        try Identifier.check(id, as: "id")
        let events = try await store.loadEvents(A.self, id: id, afterVersion: 0, limit: nil)
        let past = events.prefix { $0.occurredAt <= date }
        guard !past.isEmpty else { return nil }
        return try replayed(Array(past), id: id)
    }

    /// The events of an aggregate with versions in `versions`, of the given types (all types when
    /// nil): at most `limit` of them, scanning from the range's start.
    /// - Returns: the events found, the last version scanned (pass it as the next start) and the
    ///   aggregate's current version.
    /// - Throws: 404 when the aggregate does not exist; 400 on a bad range or limit.
    public func events(
        id: String, versions: ClosedRange<Int>, types: Set<String>?, limit: Int
    ) async throws -> (events: [EventEnvelope<A.Event>], scannedThrough: Int, total: Int) {
        try Identifier.check(id, as: "id")
        guard versions.lowerBound >= 1, (1...1000).contains(limit) else {
            throw CqrsError.validation("Versions start at 1 and limit is between 1 and 1000")
        }
        let total = try await store.streamVersion(aggregateType: A.aggregateType, id: id)
        guard total > 0 else { throw CqrsError.aggregateNotFound(A.aggregateType, id: id) }
        var found: [EventEnvelope<A.Event>] = []
        var scanned = versions.lowerBound - 1
        let last = min(versions.upperBound, total)
        while found.count < limit, scanned < last {
            let chunk = try await store.loadEvents(A.self, id: id, afterVersion: scanned, limit: min(1000, last - scanned))
            guard !chunk.isEmpty else { break }
            for event in chunk {
                scanned = event.version
                if types?.contains(event.eventType) ?? true { found.append(event) }
                if found.count == limit { break }
            }
        }
        return (found, scanned, total)
    }

    private func preview(_ events: [A.Event], on state: A, version: Int, id: String) throws -> CommandPreview<A> {
        var next = state
        for event in events { try next.apply(event) }
        return CommandPreview(aggregateId: id, version: version + events.count, events: events, state: next, replayed: false)
    }

    private func replayedPreview(_ result: CommandResult<A.Event>) async throws -> CommandPreview<A> {
        let state = try await load(id: result.aggregateId, asOfVersion: result.version)?.state ?? A(id: result.aggregateId)
        return CommandPreview(aggregateId: result.aggregateId, version: result.version, events: [], state: state, replayed: true)
    }

    private func replayed(_ events: [EventEnvelope<A.Event>], id: String) throws -> LoadedAggregate<A> {
        var state = A(id: id)
        for event in events { try state.apply(event.payload) }
        return LoadedAggregate(state: state, version: events.last?.version ?? 0)
    }
}
