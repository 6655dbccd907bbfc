import CQRSSchema
import Foundation

/// A projection and its storage, with the types erased so that one ``Projector`` runs many.
protocol ProjectionRunning: Sendable {
    /// The projection's name (its model type).
    var name: String { get }
    /// The aggregate type whose events feed it.
    var sourceType: String { get }
    func checkpoint() async throws -> ProjectionCheckpoint
    func claim(owner: String, lease: Duration) async throws -> ProjectionCheckpoint
    /// Applies a slice of the global log read after `from`; false when the checkpoint has moved.
    func apply(_ events: [EventEnvelope<JSONValue>], from: Int64, owner: String, lease: Duration) async throws -> Bool
    func reset() async throws
    func recordError(_ message: String?) async throws
    func release(owner: String) async throws
}

/// A registered projection: what it computes and where its documents and checkpoint live.
public struct RegisteredProjection: Sendable {
    let runner: any ProjectionRunning

    /// `projection` writing into `storage`.
    public init<P: Projection>(_ projection: P, storage: any ReadStorage<P.Model>) {
        runner = ProjectionRunner(projection: projection, storage: storage)
    }

    /// The projection's name (its model type).
    public var name: String { runner.name }
}

struct ProjectionRunner<P: Projection>: ProjectionRunning {
    let projection: P
    let storage: any ReadStorage<P.Model>

    var name: String { projection.name }
    var sourceType: String { P.Source.aggregateType }

    func checkpoint() async throws -> ProjectionCheckpoint { try await storage.checkpoint(name) }

    func claim(owner: String, lease: Duration) async throws -> ProjectionCheckpoint {
        try await storage.claim(name, owner: owner, lease: lease)
    }

    func reset() async throws { try await storage.reset(name) }

    func recordError(_ message: String?) async throws { try await storage.recordError(name, message: message) }

    func release(owner: String) async throws { try await storage.release(name, owner: owner) }

    func apply(_ events: [EventEnvelope<JSONValue>], from: Int64, owner: String, lease: Duration) async throws -> Bool {
        guard let last = events.last else { return true }
        let typed = try events.filter { $0.aggregateType == sourceType }.map { envelope in
            do {
                return try envelope.mapPayload { try CQRSJSON.decode(P.Source.Event.self, from: $0) }
            } catch {
                throw CqrsError.serialization(
                    "Event at position \(envelope.globalPosition) (\(envelope.eventType)) does not decode as \(P.Source.Event.self): \(error)")
            }
        }
        let writes = try await changes(typed)
        return try await storage.commit(
            ProjectionCommit(projection: name, owner: owner, from: from, to: last.globalPosition, writes: writes, lease: lease))
    }

    /// The final content of each document the events touch, in the order they were first touched.
    private func changes(_ events: [EventEnvelope<P.Source.Event>]) async throws -> [(key: ViewKey, document: P.Model?)] {
        let keys = events.compactMap { projection.key(for: $0) }
        guard !keys.isEmpty else { return [] }
        var documents: [ViewKey: P.Model?] = try await storage.find(keys: Array(Set(keys))).mapValues { $0 }
        var touched: [ViewKey] = []
        var seen = Set<ViewKey>()
        for event in events {
            guard let key = projection.key(for: event) else { continue }
            switch try projection.project(documents[key] ?? nil, event) {
            case .unchanged: continue
            case .upsert(let document):
                guard document.id == key.id, document.parentId == key.parentId else {
                    throw CqrsError.database(
                        "\(name) projected event \(event.globalPosition) to document '\(document.id)' under key '\(key.id)'")
                }
                documents[key] = .some(document)
            case .delete:
                documents[key] = .some(nil)
            }
            if seen.insert(key).inserted { touched.append(key) }
        }
        return touched.map { ($0, documents[$0] ?? nil) }
    }
}
