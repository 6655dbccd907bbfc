import CQRSSchema
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

    private let documents = Mutex<[Key: (model: Model, json: JSONValue)]>([:])

    /// An empty storage.
    public init() {}

    public func find(id: String, parentId: String?) async throws -> Model? {
        try Model.checkKey(id: id, parentId: parentId)
        return documents.withLock { $0[Key(parentId: parentId ?? "", id: id)]?.model }
    }

    public func upsert(_ model: Model) async throws {
        try Model.checkKey(id: model.id, parentId: model.parentId)
        let json = try CQRSJSON.value(of: model)
        documents.withLock { $0[Key(parentId: model.parentId ?? "", id: model.id)] = (model, json) }
    }

    public func delete(id: String, parentId: String?) async throws {
        try Model.checkKey(id: id, parentId: parentId)
        _ = documents.withLock { $0.removeValue(forKey: Key(parentId: parentId ?? "", id: id)) }
    }

    public func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model> {
        try Model.checkParent(parentId)
        try query.validate(for: Model.self)
        let parent = ByteString(parentId ?? "")
        var rows = documents.withLock { documents in
            documents.compactMap { key, entry -> (id: String, json: JSONValue, item: Model)? in
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
}
