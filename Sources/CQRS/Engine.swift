import CQRSSchema
import Foundation
import Logging
import Tracing

/// Receives the events of every successful commit, after the commit, in registration order.
public protocol Dispatcher<A>: Sendable {
    /// The aggregate whose events this dispatcher receives.
    associatedtype A: Aggregate
    /// Handles the events one command committed. A thrown error goes to the engine's error handler
    /// and does not fail the command (the events are already committed).
    func dispatch(aggregateId: String, events: [EventEnvelope<A.Event>], context: CommandContext) async throws
}

/// Runs commands: load, decide, commit with optimistic concurrency, then dispatch.
public struct CommandEngine<A: CommandHandler>: Sendable {
    /// The store the engine reads and writes.
    public let store: any EventStore
    /// The services handed to the command handlers.
    public let services: A.Services
    /// When snapshots are written.
    public let snapshotPolicy: SnapshotPolicy
    /// How create commands get their aggregate id.
    public let idGenerator: AggregateIdGenerator<A>
    /// The dispatchers run after each commit, in order.
    public private(set) var dispatchers: [any Dispatcher<A>]
    private let errorHandler: @Sendable (CqrsError, CommandContext) -> Void
    private let logger: Logger
    let cache: AggregateCache<A>
    let locks = KeyedLocks()

    /// Creates an engine.
    /// - Parameters:
    ///   - store: where the aggregate's events are committed and loaded from.
    ///   - services: what the command handlers are given (clients, configuration).
    ///   - snapshotPolicy: when a commit also writes a snapshot of the new state.
    ///   - idGenerator: how a create command's aggregate id is made.
    ///   - dispatchers: receive the events of every commit, after it, in order.
    ///   - cacheCapacity: how many aggregate states the engine keeps in memory (0 disables the cache).
    ///     A cached state is always brought up to date from the store before use.
    ///   - logger: where failed commands are logged (with request id, operation and aggregate as metadata).
    ///   - errorHandler: receives dispatcher failures (they never fail the command); by default they are logged.
    public init(
        store: any EventStore, services: A.Services, snapshotPolicy: SnapshotPolicy = .every(100),
        idGenerator: AggregateIdGenerator<A> = .uuid, dispatchers: [any Dispatcher<A>] = [],
        cacheCapacity: Int = 10_000, logger: Logger = Logger(label: "cqrs.engine"),
        errorHandler: (@Sendable (CqrsError, CommandContext) -> Void)? = nil
    ) {
        self.store = store
        self.services = services
        self.snapshotPolicy = snapshotPolicy
        self.idGenerator = idGenerator
        self.dispatchers = dispatchers
        self.logger = logger
        self.cache = AggregateCache(capacity: cacheCapacity)
        self.errorHandler =
            errorHandler ?? { [logger] error, context in
                logger.error(
                    "Dispatcher failed: \(error)", metadata: ["requestId": .string(context.requestId)])
            }
    }

    /// Adds a dispatcher after the existing ones.
    public mutating func addDispatcher(_ dispatcher: any Dispatcher<A>) {
        dispatchers.append(dispatcher)
    }

    /// Runs a create command on a new aggregate.
    ///
    /// - Throws: `CqrsError`: the handler's domain errors, 409 `AGGREGATE_ALREADY_EXISTS` when the id is
    ///   taken, 422 `IDEMPOTENCY_KEY_REUSED` when the key was used by another command.
    public func create(
        _ command: A.CreateCommand, context: CommandContext = CommandContext(), metadata: [String: String] = [:],
        idempotencyKey: String? = nil
    ) async throws -> CommandResult<A.Event> {
        try await run("create", context: context, id: nil) {
            if let idempotencyKey { try Identifier.check(idempotencyKey, as: "idempotencyKey") }
            let claim = try idempotencyKey.map { IdempotencyClaim(key: $0, fingerprint: try fingerprint("create", command)) }
            if let claim, let replay = try await replay(claim) { return replay }
            let id = try idGenerator.nextId(for: command, context: context)
            try Identifier.check(id, as: "The generated aggregate id")
            let initial = A(id: id)
            let events = try await initial.handleCreate(command, services: services, context: context)
            // The commit refuses an existing id (409); without events there is no commit to refuse it.
            if events.isEmpty, try await store.streamVersion(aggregateType: A.aggregateType, id: id) > 0 {
                throw CqrsError.aggregateAlreadyExists(A.aggregateType, id: id)
            }
            return try await commit(
                events, on: initial, version: 0, id: id, claim: claim, context: context, metadata: metadata)
        }
    }

    /// Runs an update command on an existing aggregate.
    ///
    /// Commands on one aggregate run one at a time within this engine (and its copies), in arrival
    /// order; a handler must not run another command on its own aggregate through the same engine.
    ///
    /// - Parameters:
    ///   - id: the aggregate's id.
    ///   - command: what to do.
    ///   - context: who asks, the request id, ids and clock.
    ///   - metadata: extra metadata stored with each event.
    ///   - expectedVersion: when given, the command fails with 409 unless the aggregate is at
    ///     this version. Without it the command is decided on the current state: a conflict with another
    ///     process's commit makes the engine load and decide again (up to ``maximumAttempts`` times).
    ///   - idempotencyKey: a retry with the same key and command returns the first result instead of
    ///     committing again.
    /// - Throws: `CqrsError`: the handler's domain errors, 400 for an invalid id or key (see
    ///   ``Identifier``), 404 when the aggregate does not exist, 409 `CONCURRENCY_ERROR` on a version
    ///   conflict that remains, 422 `IDEMPOTENCY_KEY_REUSED`.
    public func update(
        id: String, _ command: A.UpdateCommand, context: CommandContext = CommandContext(),
        metadata: [String: String] = [:], expectedVersion: Int? = nil, idempotencyKey: String? = nil
    ) async throws -> CommandResult<A.Event> {
        try await run("update", context: context, id: id) {
            try Identifier.check(id, as: "id")
            if let idempotencyKey { try Identifier.check(idempotencyKey, as: "idempotencyKey") }
            let claim = try idempotencyKey.map {
                IdempotencyClaim(key: $0, fingerprint: try fingerprint("update:\(id)", command))
            }
            return try await locks.withLock(id) {
                // Without an expected version the caller asks for a decision on the current state:
                // a conflict with another process means "decide again", a few times, with jitter.
                var attempt = 1
                while true {
                    do {
                        return try await decideAndCommit(
                            id: id, command, claim: claim, expectedVersion: expectedVersion, context: context,
                            metadata: metadata)
                    } catch let error as CqrsError where error.code == InfrastructureError.concurrencyError.code {
                        cache.remove(id)
                        guard expectedVersion == nil else { throw error }
                        guard attempt < Self.maximumAttempts else {
                            throw CqrsError.overtaken(
                                A.aggregateType, id: id, attempts: attempt,
                                currentVersion: error.details?["currentVersion"]?.intValue)
                        }
                        // Full jitter, growing to 25 ms: another process's stream of commits on the
                        // same aggregate ends or leaves a gap well within the attempts.
                        try await Task.sleep(for: .microseconds(Int.random(in: 50...min(500 << min(attempt, 6), 25_000))))
                        attempt += 1
                    }
                }
            }
        }
    }

    /// How many times an update without an expected version is decided before its conflict is reported.
    public static var maximumAttempts: Int { 50 }

    private func decideAndCommit(
        id: String, _ command: A.UpdateCommand, claim: IdempotencyClaim?, expectedVersion: Int?,
        context: CommandContext, metadata: [String: String]
    ) async throws -> CommandResult<A.Event> {
        if let claim, let replay = try await replay(claim) { return replay }
        if let cached = cache.get(id), expectedVersion == nil || expectedVersion == cached.version,
            let result = try await decideOnCachedState(
                cached, id: id, command, claim: claim, context: context, metadata: metadata)
        {
            return result
        }
        guard let loaded = try await load(id: id) else {
            throw CqrsError.aggregateNotFound(A.aggregateType, id: id)
        }
        if let expectedVersion, expectedVersion != loaded.version {
            throw CqrsError.concurrency(id: id, expectedVersion: expectedVersion, currentVersion: loaded.version)
        }
        let events = try await loaded.state.handleUpdate(command, services: services, context: context)
        return try await commit(
            events, on: loaded.state, version: loaded.version, id: id, claim: claim, context: context,
            metadata: metadata)
    }

    /// Loads an aggregate: the latest snapshot plus the events after it. A snapshot that no longer
    /// decodes is logged and ignored (full replay). Returns nil when the aggregate does not exist.
    public func load(id: String) async throws -> LoadedAggregate<A>? {
        try Identifier.check(id, as: "id")
        return try await CommandTracing.span("load \(A.aggregateType)", attributes: ["cqrs.aggregate.id": .string(id)]) { span in
            try await restore(id: id, span: span)
        }
    }

    private func restore(id: String, span: any Span) async throws -> LoadedAggregate<A>? {
        if let cached = cache.get(id) {
            let store = self.store
            let newer = try await StoreMetrics.timed("load", store) {
                try await store.loadEvents(A.self, id: id, afterVersion: cached.version, limit: nil)
            }
            span.attributes["cqrs.events"] = newer.count
            span.attributes["cqrs.cached"] = true
            guard let last = newer.last else { return LoadedAggregate(state: cached.state, version: cached.version) }
            var state = cached.state
            for envelope in newer { try state.apply(envelope.payload) }
            cache.put(id, state: state, version: last.version)
            return LoadedAggregate(state: state, version: last.version)
        }
        let useSnapshot = snapshotPolicy != .never
        let store = self.store
        var replay = try await StoreMetrics.timed("load", store) { try await store.loadReplay(A.self, id: id, useSnapshot: useSnapshot) }
        guard replay.version > 0 else { return nil }
        var state = A(id: id)
        if let snapshot = replay.snapshot {
            do {
                state = try CQRSJSON.decode(A.self, from: snapshot.state)
            } catch {
                logger.warning(
                    "Snapshot of \(A.aggregateType) '\(id)' at version \(snapshot.version) no longer decodes; replaying all events",
                    metadata: ["error": "\(error)"])
                replay = try await store.loadReplay(A.self, id: id, useSnapshot: false)
            }
        }
        for event in replay.events {
            try state.apply(event)
        }
        span.attributes["cqrs.events"] = replay.events.count
        span.attributes["cqrs.snapshot"] = replay.snapshot != nil
        // The replay's version comes from the journal; the events read may end before it only if a
        // commit landed between the two reads of a non-transactional store.
        let version = replay.lastEventVersion ?? replay.snapshot?.version ?? replay.version
        cache.put(id, state: state, version: version)
        return LoadedAggregate(state: state, version: version)
    }

    /// One page of an aggregate's events.
    /// - Throws: 404 when the aggregate does not exist; 400 on a bad offset or limit.
    public func auditLog(id: String, offset: Int = 0, limit: Int = 20) async throws -> AuditPage<A.Event> {
        try Identifier.check(id, as: "id")
        guard offset >= 0 else { throw CqrsError.validation("offset must be 0 or more", details: ["offset": .int(offset)]) }
        guard (1...1000).contains(limit) else {
            throw CqrsError.validation("limit must be between 1 and 1000", details: ["limit": .int(limit)])
        }
        let slice = try await store.loadEvents(A.self, id: id, afterVersion: offset, limit: limit)
        let total = try await store.streamVersion(aggregateType: A.aggregateType, id: id)
        guard total > 0 else { throw CqrsError.aggregateNotFound(A.aggregateType, id: id) }
        return AuditPage(events: slice, total: total, offset: offset, limit: limit)
    }

    // MARK: - Internals

    /// Runs a command's body in its `create`/`update` span, logging and stamping its failure.
    private func run(
        _ kind: String, context: CommandContext, id: String?, _ body: () async throws -> CommandResult<A.Event>
    ) async throws -> CommandResult<A.Event> {
        try await CommandTracing.span("\(kind) \(A.aggregateType)", attributes: commandAttributes(context: context, id: id)) { span in
            do {
                let result = try await body()
                span.attributes["cqrs.aggregate.id"] = result.aggregateId
                span.attributes["cqrs.version"] = result.version
                return result
            } catch {
                let cqrs = CqrsError.wrapping(error)
                span.attributes["cqrs.error.code"] = cqrs.code
                var metadata: Logger.Metadata = [
                    "requestId": .string(context.requestId), "aggregateType": .string(A.aggregateType), "code": .string(cqrs.code),
                ]
                if let id { metadata["aggregateId"] = .string(id) }
                if let operation = context.operation { metadata["operation"] = .string(operation) }
                if cqrs.status >= 500 {
                    logger.error("Command failed: \(error)", metadata: metadata)
                } else {
                    logger.debug("Command refused: \(cqrs.message)", metadata: metadata)
                }
                throw cqrs.with(requestId: context.requestId)
            }
        }
    }

    private func commandAttributes(context: CommandContext, id: String?) -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes["cqrs.aggregate.type"] = A.aggregateType
        if let id { attributes["cqrs.aggregate.id"] = id }
        attributes["cqrs.request_id"] = context.requestId
        if let operation = context.operation { attributes["cqrs.operation"] = operation }
        return attributes
    }

    private func commit(
        _ events: [A.Event], on state: A, version: Int, id: String, claim: IdempotencyClaim?,
        context: CommandContext, metadata: [String: String]
    ) async throws -> CommandResult<A.Event> {
        guard !events.isEmpty else {
            return CommandResult(aggregateId: id, version: version, globalPosition: nil, events: [], replayed: false)
        }
        var next = state
        for event in events { try next.apply(event) }
        let pending = PendingCommit<A>(
            aggregateId: id, expectedVersion: version,
            events: events.map { PendingEvent(eventId: context.ids.next(), payload: $0) },
            metadata: context.eventMetadata(extra: metadata),
            occurredAt: context.clock.now().truncatedToMilliseconds,
            snapshot: snapshotPolicy.shouldSnapshot(from: version, to: version + events.count) ? next : nil,
            idempotency: claim)
        let store = self.store
        let outcome = try await CommandTracing.span(
            "commit \(A.aggregateType)",
            attributes: ["cqrs.events": .int64(Int64(events.count)), "cqrs.store": .string("\(type(of: store))")]
        ) { _ in try await StoreMetrics.timed("commit", store) { try await store.commit(pending) } }
        switch outcome {
        case .duplicate(let record):
            // A concurrent command with the same key won the race.
            return try await result(of: record, claim: claim)
        case .committed(let envelopes):
            cache.put(id, state: next, version: version + events.count)
            await dispatch(id: id, envelopes: envelopes, context: context)
            return CommandResult(
                aggregateId: id, version: envelopes.last?.version ?? version,
                globalPosition: envelopes.last?.globalPosition, events: envelopes, replayed: false)
        }
    }

    /// The fast path of an update: decide on the cached state and let the commit's version check
    /// prove it current (one store round trip instead of two). Returns nil, having written nothing,
    /// when the cached state may have been stale: a conflict, a refusal, or no events; the caller then
    /// decides again on freshly loaded state.
    private func decideOnCachedState(
        _ cached: (state: A, version: Int), id: String, _ command: A.UpdateCommand, claim: IdempotencyClaim?,
        context: CommandContext, metadata: [String: String]
    ) async throws -> CommandResult<A.Event>? {
        guard let events = try? await cached.state.handleUpdate(command, services: services, context: context),
            !events.isEmpty
        else { return nil }
        do {
            return try await commit(
                events, on: cached.state, version: cached.version, id: id, claim: claim, context: context,
                metadata: metadata)
        } catch let error as CqrsError where error.code == InfrastructureError.concurrencyError.code {
            // Someone else wrote: forget the cached state, so the fresh path reads the store.
            cache.remove(id)
            return nil
        }
    }

    private func dispatch(id: String, envelopes: [EventEnvelope<A.Event>], context: CommandContext) async {
        for dispatcher in dispatchers {
            do {
                try await dispatcher.dispatch(aggregateId: id, events: envelopes, context: context)
            } catch {
                errorHandler(CqrsError.wrapping(error), context)
            }
        }
    }

    func replay(_ claim: IdempotencyClaim) async throws -> CommandResult<A.Event>? {
        guard let record = try await store.idempotencyRecord(aggregateType: A.aggregateType, key: claim.key) else {
            return nil
        }
        return try await result(of: record, claim: claim)
    }

    func result(of record: IdempotencyRecord, claim: IdempotencyClaim?) async throws -> CommandResult<A.Event> {
        if let claim, claim.fingerprint != record.fingerprint {
            throw InfrastructureError.idempotencyKeyReused.error(
                "Idempotency key '\(record.key)' was already used by a different command",
                details: ["idempotencyKey": .string(record.key), "aggregateId": .string(record.aggregateId)])
        }
        let events = try await store.loadEvents(
            A.self, id: record.aggregateId, afterVersion: record.firstVersion - 1,
            limit: record.version - record.firstVersion + 1)
        return CommandResult(
            aggregateId: record.aggregateId, version: record.version, globalPosition: record.globalPosition,
            events: events, replayed: true)
    }

    func fingerprint(_ kind: String, _ command: some Encodable) throws -> String {
        "\(kind):" + String(decoding: try CQRSJSON.encode(command), as: UTF8.self)
    }
}
