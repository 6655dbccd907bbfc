import CQRS
import CQRSSchema
import Foundation

/// A `ReadStorage` in MongoDB: every model's documents in the collection `read_models`, with the
/// filter, sort and paging of `ReadQuery` run by MongoDB (see `MongoDocumentQuery` for the
/// layout that gives them the semantics of the other stores). The total and the page are two reads
/// (after one for the checkpoint's floor epoch), so under concurrent writes they may see different
/// moments.
///
/// A document keeps its JSON text (`j`) exactly as encoded; a projector's document also carries the
/// position of the batch that wrote it, the writer's lease epoch and the document as it was before
/// that batch (see `MongoReadStorage+Projection.swift`).
public final class MongoReadStorage<Model: ReadModel>: ReadStorage {
    /// The database holding the collection.
    public let database: MongoDatabase

    /// A storage for `Model` documents in `database`, without creating the collection's index (for
    /// a caller that has run ``MongoDatabase/prepareReadModels()`` once for every storage).
    public init(unindexed database: MongoDatabase) {
        self.database = database
    }

    /// A storage for `Model` documents in `database`, its index created if missing.
    public convenience init(database: MongoDatabase) async throws {
        try await database.prepareReadModels()
        self.init(unindexed: database)
    }

    static func documentId(_ id: String, parentId: String?) -> String {
        Model.modelType + MongoEventStore.separator + (parentId ?? "") + MongoEventStore.separator + id
    }

    public func find(id: String, parentId: String?) async throws -> Model? {
        try Model.checkKey(id: id, parentId: parentId)
        let key = Self.documentId(id, parentId: parentId)
        let found = try await database.run { session in
            let floor = try Self.modelCheckpoint(session, Model.modelType)?["floor"]?.int64 ?? 0
            var conditions: [BSON] = [.document(["_id": .string(key)])]
            if let visible = Self.visible(floor: floor) { conditions.append(visible) }
            return try session.documents(
                ["find": "read_models", "filter": .document(["$and": .array(conditions)]), "limit": 1, "projection": ["j": 1, "del": 1]],
                collection: "read_models")
        }
        guard let document = found.first, document["del"]?.bool != true, let text = document["j"]?.string else { return nil }
        return try Self.decode(text)
    }

    public func upsert(_ model: Model) async throws {
        try Model.checkKey(id: model.id, parentId: model.parentId)
        let document = try Self.document(model, key: ViewKey(id: model.id, parentId: model.parentId))
        try Self.checkSize(document, key: ViewKey(id: model.id, parentId: model.parentId))
        try await database.run { session in
            let (_, errors) = try session.write([
                "update": "read_models",
                "updates": .array([.document(["q": .document(["_id": document["_id"]!]), "u": .document(document), "upsert": true])]),
            ])
            if let error = errors.values.first { throw MongoError.server(code: error.code, message: error.message) }
        }
    }

    public func delete(id: String, parentId: String?) async throws {
        try Model.checkKey(id: id, parentId: parentId)
        let key = Self.documentId(id, parentId: parentId)
        try await database.run { session in
            _ = try session.write(["delete": "read_models", "deletes": .array([.document(["q": .document(["_id": .string(key)]), "limit": 1])])])
        }
    }

    public func query(_ query: ReadQuery, parentId: String?) async throws -> Page<Model> {
        try Model.checkParent(parentId)
        try query.validate(for: Model.self)
        var conditions: [BSON] = [.document(["m": .string(Model.modelType), "p": .string(parentId ?? ""), "del": .document(["$ne": true])])]
        if let filter = query.filter { conditions.append(MongoDocumentQuery.translate(filter)) }
        var sort: [(String, BSON)] = []
        var sorted: Set<String> = []
        // A repeated field orders nothing more (and a sort document must not repeat a key).
        for key in query.sort where sorted.insert(key.field).inserted {
            let names = MongoDocumentQuery.sortFields(key.field)
            let direction: BSON = key.descending ? .int32(-1) : .int32(1)
            sort += [(names.rank, direction), (names.value, direction)]
        }
        sort.append(("i", .int32(1)))
        let (total, documents) = try await database.run { [sort, conditions] session in
            // Documents from before the last reset (or a lost checkpoint) are not part of the view.
            let floor = try Self.modelCheckpoint(session, Model.modelType)?["floor"]?.int64 ?? 0
            let filter: BSON = .document(["$and": .array(conditions + (Self.visible(floor: floor).map { [$0] } ?? []))])
            let count = try session.command(["count": "read_models", "query": filter])
            let page = try session.documents(
                ["find": "read_models", "filter": filter, "sort": .document(BSONDocument(sort)), "skip": .int64(Int64(query.offset)),
                 "limit": .int64(Int64(query.limit)), "projection": ["j": 1]], collection: "read_models")
            return (Int(count["n"]?.int64 ?? 0), page)
        }
        let items = try documents.compactMap { $0["j"]?.string }.map(Self.decode)
        return Page(items: items, total: total, offset: query.offset, limit: query.limit)
    }

    /// A document's stored form: key fields, JSON text, filter leaves and sort keys.
    static func document(_ model: Model, key: ViewKey) throws -> BSONDocument {
        let json = try CQRSJSON.value(of: model)
        var document: BSONDocument = [
            "_id": .string(documentId(key.id, parentId: key.parentId)), "m": .string(Model.modelType), "p": .string(key.parentId ?? ""),
            "i": .string(key.id), "j": .string(CQRSJSON.text(of: json)), "f": MongoDocumentQuery.leaves(json),
        ]
        for (name, value) in MongoDocumentQuery.sortKeys(json, fields: Model.sortableFields) { document[name] = value }
        return document
    }

    /// MongoDB stores documents of up to 16 MiB; the stored form holds the JSON text, its leaves, sort
    /// keys and (for a projector) the previous text, so a view document must stay well below that.
    /// - Returns: the document's size in bytes.
    /// - Throws: 400 `VALIDATION_FAILED` naming the document, before anything is sent.
    @discardableResult
    static func checkSize(_ document: BSONDocument, key: ViewKey) throws -> Int {
        let size = document.bytes.count
        guard size > 16 << 20 else { return size }
        throw CqrsError.validation(
            "The \(Model.modelType) document '\(key.id)' would take \(size) bytes in MongoDB, over its 16 MiB document limit",
            details: ["bytes": .int(size), "limit": .int(16 << 20)])
    }

    static func decode(_ text: String) throws -> Model { try Model.decodeStored(Data(text.utf8)) }
}

extension MongoDatabase {
    /// Creates the index every ``MongoReadStorage`` of this database uses, if missing.
    public func prepareReadModels() async throws {
        try await run { session in
            try session.command([
                "createIndexes": "read_models",
                "indexes": .array([.document(["key": .document(["m": 1, "p": 1, "i": 1]), "name": "model"])]),
            ])
        }
    }
}
