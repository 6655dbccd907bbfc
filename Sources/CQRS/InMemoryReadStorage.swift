import CQRSSchema
import Foundation
import Synchronization

/// A ``ReadStorage`` in memory, with the same query semantics as the SQL stores.
public final class InMemoryReadStorage<Model: ReadModel>: ReadStorage {
    // Keys compare by UTF-8 bytes, as the SQL stores compare text.
    private struct Key: Hashable {
        var parentId: ByteString
        var id: ByteString
        init(parentId: String, id: String) {
            self.parentId = ByteString(parentId)
            self.id = ByteString(id)
        }
    }

    private struct State {
        var documents: [Key: (model: Model, json: JSONValue)] = [:]
        var checkpoints: [String: ProjectionCheckpoint] = [:]
    }

    private let state = Mutex(State())

    /// An empty storage.
    public init() {}

    public func find(id: String, parentId: String?) async throws -> Model? {
        try Model.checkKey(id: id, parentId: parentId)
        return state.withLock { $0.documents[Key(parentId: parentId ?? "", id: id)]?.model }
    }

    public func upsert(_ model: Model) async throws {
        try Model.checkKey(id: model.id, parentId: model.parentId)
        let json = try CQRSJSON.value(of: model)
        state.withLock { $0.documents[Key(parentId: model.parentId ?? "", id: model.id)] = (model, json) }
    }

    public func delete(id: String, parentId: String?) async throws {
        try Model.checkKey(id: id, parentId: parentId)
        _ = state.withLock { $0.documents.removeValue(forKey: Key(parentId: parentId ?? "", id: id)) }
    }

    public func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model> {
        try Model.checkParent(parentId)
        try query.validate(for: Model.self)
        let parent = ByteString(parentId ?? "")
        var rows = state.withLock { state in
            state.documents.compactMap { key, entry -> (id: String, json: JSONValue, item: Model)? in
                guard key.parentId == parent else { return nil }
                if let filter = query.filter, !JSONQuery.matches(entry.json, filter) { return nil }
                return (key.id.string, entry.json, entry.model)
            }
        }
        JSONQuery.sort(&rows, by: query.sort)
        let start = min(query.offset, rows.count)
        let end = min(rows.count, start + query.limit)
        return Page(items: rows[start..<end].map(\.item), total: rows.count, offset: query.offset, limit: query.limit)
    }

    // MARK: - Projection storage

    public func find(keys: [ViewKey]) async throws -> [ViewKey: Model] {
        for key in keys { try Model.checkKey(id: key.id, parentId: key.parentId) }
        return state.withLock { state in
            var found: [ViewKey: Model] = [:]
            for key in keys {
                if let entry = state.documents[Key(parentId: key.parentId ?? "", id: key.id)] { found[key] = entry.model }
            }
            return found
        }
    }

    public func checkpoint(_ projection: String) async throws -> ProjectionCheckpoint {
        state.withLock { $0.checkpoints[projection] } ?? ProjectionCheckpoint(name: projection, position: 0)
    }

    public func claim(_ projection: String, owner: String, lease: Duration) async throws -> ProjectionCheckpoint {
        let now = Date()
        return state.withLock { state in
            var checkpoint = state.checkpoints[projection] ?? {
                // A projection without a checkpoint owns no documents.
                state.documents.removeAll()
                return ProjectionCheckpoint(name: projection, position: 0)
            }()
            if checkpoint.owner == owner || checkpoint.owner == nil || (checkpoint.leaseExpiresAt ?? .distantPast) < now {
                checkpoint.owner = owner
                checkpoint.leaseExpiresAt = now.addingTimeInterval(lease.inSeconds)
            }
            state.checkpoints[projection] = checkpoint
            return checkpoint
        }
    }

    public func commit(_ commit: ProjectionCommit<Model>) async throws -> Bool {
        var encoded: [(Key, (model: Model, json: JSONValue)?)] = []
        for (key, document) in commit.writes {
            try Model.checkKey(id: key.id, parentId: key.parentId)
            encoded.append((Key(parentId: key.parentId ?? "", id: key.id), try document.map { ($0, try CQRSJSON.value(of: $0)) }))
        }
        let now = Date()
        return state.withLock { state in
            guard var checkpoint = state.checkpoints[commit.projection], checkpoint.position == commit.from,
                checkpoint.owner == commit.owner
            else { return false }
            for (key, entry) in encoded { state.documents[key] = entry }
            checkpoint.position = commit.to
            checkpoint.leaseExpiresAt = now.addingTimeInterval(commit.lease.inSeconds)
            checkpoint.lastError = nil
            state.checkpoints[commit.projection] = checkpoint
            return true
        }
    }

    public func reset(_ projection: String) async throws {
        state.withLock { state in
            state.documents.removeAll()
            var checkpoint = state.checkpoints[projection] ?? ProjectionCheckpoint(name: projection, position: 0)
            checkpoint.position = 0
            checkpoint.lastError = nil
            state.checkpoints[projection] = checkpoint
        }
    }

    public func release(_ projection: String, owner: String) async throws {
        state.withLock { state in
            guard var checkpoint = state.checkpoints[projection], checkpoint.owner == owner else { return }
            checkpoint.owner = nil
            checkpoint.leaseExpiresAt = nil
            state.checkpoints[projection] = checkpoint
        }
    }

    public func recordError(_ projection: String, message: String?) async throws {
        state.withLock { state in
            guard var checkpoint = state.checkpoints[projection] else { return }
            checkpoint.lastError = message
            state.checkpoints[projection] = checkpoint
        }
    }
}
