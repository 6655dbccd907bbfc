import CQRS
import CQRSSchema
import Foundation

/// Projections without multi-document transactions: a batch writes its documents first, then moves
/// the checkpoint (a document of `projection_checkpoints`) with a compare-and-set on position, owner
/// and lease epoch. A crash between the two leaves documents *ahead* of the checkpoint, so each
/// document carries the batch's position (`pos`), the writer's epoch (`ep`, incremented whenever the
/// lease changes hands or the projection is reset) and its content before the batch (`b`). A projector
/// reading a document ahead of its checkpoint takes that earlier content, so no event is applied twice
/// or lost; a writer never overwrites a document of a newer epoch (a deposed lease holder is fenced
/// off), and a batch that met any such document does not move the checkpoint (it is decided again).
/// Deleted documents stay as tombstones (`del`) so they keep their fence.
///
/// The checkpoint also holds a *floor* epoch: documents written below it (before a reset or the
/// checkpoint's creation, or by a writer deposed by them) are invisible to every read and deleted
/// when convenient, so a reset is one update and a late write from before it never shows.
/// Queries show a document as its latest batch wrote it, which may be a batch whose checkpoint move
/// is still to come.
extension MongoReadStorage {
    private static var checkpoints: String { "projection_checkpoints" }

    public func find(keys: [ViewKey]) async throws -> [ViewKey: Model] {
        for key in keys { try Model.checkKey(id: key.id, parentId: key.parentId) }
        guard !keys.isEmpty else { return [:] }
        let type = Model.modelType
        let texts = try await database.run { session -> [ViewKey: String] in
            let checkpoint = try Self.modelCheckpoint(session, type)
            return try Self.contents(session, keys, asOf: checkpoint?["pos"]?.int64 ?? 0, floor: checkpoint?["floor"]?.int64 ?? 0)
                .compactMapValues(\.text)
        }
        return try texts.mapValues(Self.decode)
    }

    /// The checkpoint of the projection writing this model (a projection may have its own name).
    static func modelCheckpoint(_ session: MongoSession, _ type: String) throws -> BSONDocument? {
        try session.documents(
            ["find": .string(checkpoints), "filter": .document(["m": .string(type)]), "limit": 1], collection: checkpoints).first
    }

    /// The condition that hides documents below the floor epoch (nil: nothing to hide).
    static func visible(floor: Int64) -> BSON? {
        floor > 0 ? .document(["ep": .document(["$gte": .int64(floor)])]) : nil
    }

    /// The content of each document as of the checkpoint `position`: nil text for a missing one.
    private static func contents(_ session: MongoSession, _ keys: [ViewKey], asOf position: Int64, floor: Int64) throws
        -> [ViewKey: (text: String?, position: Int64)]
    {
        let ids = Dictionary(keys.map { (documentId($0.id, parentId: $0.parentId), $0) }, uniquingKeysWith: { first, _ in first })
        let documents = try session.documents(
            ["find": "read_models", "filter": .document(["_id": .document(["$in": .array(ids.keys.sorted().map { .string($0) })])]),
             "projection": ["j": 1, "del": 1, "pos": 1, "b": 1, "ep": 1]], collection: "read_models")
        var contents: [ViewKey: (text: String?, position: Int64)] = [:]
        for document in documents {
            guard let id = document["_id"]?.string, let key = ids[id] else { continue }
            if floor > 0, (document["ep"]?.int64 ?? 0) < floor { continue }  // From before a reset: missing.
            let written = document["pos"]?.int64 ?? 0
            if written <= position {
                contents[key] = (document["del"]?.bool == true ? nil : document["j"]?.string, written)
            } else if let before = document["b"]?.document, let at = before["pos"]?.int64, at <= position {
                contents[key] = (before["j"]?.string, at)
            }
            // Otherwise the document predates its checkpoint's history: it counts as missing.
        }
        return contents
    }

    public func checkpoint(_ projection: String) async throws -> ProjectionCheckpoint {
        try await database.run { try Self.checkpoint($0, projection) } ?? ProjectionCheckpoint(name: projection, position: 0)
    }

    public func claim(_ projection: String, owner: String, lease: Duration) async throws -> ProjectionCheckpoint {
        let type = Model.modelType
        return try await database.run { session in
            while true {
                let until = BSON.int64(Date().millisecondsSince1970 + Int64(lease.inSeconds * 1000))
                let now = BSON.int64(Date().millisecondsSince1970)
                if let renewed = try Self.modify(session, ["_id": .string(projection), "owner": .string(owner)], ["$set": .document(["lease": until])]) {
                    return Self.checkpoint(projection, renewed)
                }
                let free: BSONDocument = [
                    "_id": .string(projection), "$or": .array([.document(["owner": .null]), .document(["lease": .document(["$lt": now])])]),
                ]
                if let taken = try Self.modify(session, free, ["$set": .document(["owner": .string(owner), "lease": until]), "$inc": .document(["ep": 1])]) {
                    return Self.checkpoint(projection, taken)
                }
                if let held = try Self.checkpoint(session, projection) { return held }
                _ = try Self.claimless(session, projection, type)
            }
        }
    }

    public func commit(_ commit: ProjectionCommit<Model>) async throws -> Bool {
        let writes = try commit.writes.map { key, model -> (key: ViewKey, document: BSONDocument?) in
            try Model.checkKey(id: key.id, parentId: key.parentId)
            return (key, try model.map { try Self.document($0, key: key) })
        }
        let type = Model.modelType
        return try await database.run { session in
            guard let checkpoint = try Self.checkpointDocument(session, commit.projection), checkpoint["pos"]?.int64 == commit.from,
                checkpoint["owner"]?.string == commit.owner, let epoch = checkpoint["ep"]?.int64
            else { return false }
            let before = try Self.contents(session, writes.map(\.key), asOf: commit.from, floor: checkpoint["floor"]?.int64 ?? 0)
            let updates: [(update: BSON, bytes: Int)] = try writes.map { key, document in
                var stored = document ?? [
                    "_id": .string(Self.documentId(key.id, parentId: key.parentId)), "m": .string(type), "p": .string(key.parentId ?? ""),
                    "i": .string(key.id), "del": true,
                ]
                let earlier = before[key]
                stored["pos"] = .int64(commit.to)
                stored["ep"] = .int64(epoch)
                stored["b"] = .document(["j": earlier?.text.map(BSON.string) ?? .null, "pos": .int64(earlier?.position ?? 0)])
                let bytes = try Self.checkSize(stored, key: key)
                let fence: BSONDocument = [
                    "_id": stored["_id"]!, "$or": .array([.document(["ep": .document(["$lte": .int64(epoch)])]), .document(["ep": .document(["$exists": false])])]),
                ]
                return (.document(["q": .document(fence), "u": .document(stored), "upsert": true]), bytes)
            }
            var fenced = false
            for chunk in Self.chunks(updates) {
                let (_, errors) = try session.write(["update": "read_models", "updates": .array(chunk), "ordered": false])
                if let error = errors.values.first(where: { !$0.isDuplicateKey }) {
                    throw MongoError.server(code: error.code, message: error.message)
                }
                // A duplicate key: the document has a newer epoch (this writer has been deposed), or a
                // racing upsert created it first. Either way the batch is not complete.
                fenced = fenced || !errors.isEmpty
            }
            if fenced { return false }
            let until = Date().millisecondsSince1970 + Int64(commit.lease.inSeconds * 1000)
            let (reply, _) = try session.write([
                "update": .string(Self.checkpoints),
                "updates": .array([.document([
                    "q": .document(["_id": .string(commit.projection), "pos": .int64(commit.from), "owner": .string(commit.owner), "ep": .int64(epoch)]),
                    "u": .document(["$set": .document(["pos": .int64(commit.to), "lease": .int64(until), "err": .null])]),
                ])]),
            ])
            return reply["n"]?.int64 == 1
        }
    }

    public func reset(_ projection: String) async throws {
        let type = Model.modelType
        try await database.run { session in
            while true {
                guard let current = try Self.checkpointDocument(session, projection), let epoch = current["ep"]?.int64 else {
                    // No checkpoint yet: creating one hides and deletes every document already.
                    _ = try Self.claimless(session, projection, type)
                    continue
                }
                // One compare-and-set: position 0 and a new epoch that is also the floor, so the current
                // writer is fenced off and nothing written before becomes visible again.
                let (reply, _) = try session.write([
                    "update": .string(Self.checkpoints),
                    "updates": .array([.document([
                        "q": .document(["_id": .string(projection), "ep": .int64(epoch)]),
                        "u": .document(["$set": .document(["m": .string(type), "pos": 0, "err": .null, "ep": .int64(epoch + 1), "floor": .int64(epoch + 1)])]),
                    ])]),
                ])
                guard reply["n"]?.int64 == 1 else { continue }
                try Self.collectBelowFloor(session, type, floor: epoch + 1)
                return
            }
        }
    }

    /// Creates the checkpoint at 0 without an owner; false when it exists already. A projection without
    /// a checkpoint owns no documents (older code or a lost checkpoint may have left some): its floor
    /// lies above every epoch they carry, and they are deleted.
    private static func claimless(_ session: MongoSession, _ projection: String, _ type: String) throws -> Bool {
        let newest = try session.documents(
            ["find": "read_models", "filter": .document(["m": .string(type)]), "sort": ["ep": -1], "limit": 1, "projection": ["ep": 1]],
            collection: "read_models").first?["ep"]?.int64 ?? 0
        let (_, errors) = try session.write([
            "insert": .string(checkpoints),
            "documents": .array([.document([
                "_id": .string(projection), "m": .string(type), "pos": 0, "owner": .null, "lease": .null, "ep": .int64(newest),
                "floor": .int64(newest + 1), "err": .null,
            ])]),
        ])
        if let error = errors[0], !error.isDuplicateKey { throw MongoError.server(code: error.code, message: error.message) }
        guard errors.isEmpty else { return false }
        try collectBelowFloor(session, type, floor: newest + 1)
        return true
    }

    /// Deletes the documents below the floor epoch (invisible already; this only reclaims the space).
    static func collectBelowFloor(_ session: MongoSession, _ type: String, floor: Int64) throws {
        _ = try session.write([
            "delete": "read_models",
            "deletes": .array([.document([
                "q": .document(["m": .string(type), "$or": .array([.document(["ep": .document(["$lt": .int64(floor)])]), .document(["ep": .document(["$exists": false])])])]),
                "limit": 0,
            ])]),
        ])
    }

    public func recordError(_ projection: String, message: String?) async throws {
        try await database.run { session in
            _ = try session.write([
                "update": .string(Self.checkpoints),
                "updates": .array([.document(["q": .document(["_id": .string(projection)]), "u": .document(["$set": .document(["err": message.map(BSON.string) ?? .null])])])]),
            ])
        }
    }

    public func release(_ projection: String, owner: String) async throws {
        try await database.run { session in
            _ = try session.write([
                "update": .string(Self.checkpoints),
                "updates": .array([.document([
                    "q": .document(["_id": .string(projection), "owner": .string(owner)]),
                    "u": .document(["$set": .document(["owner": .null, "lease": .null])]),
                ])]),
            ])
        }
    }

    /// Updates in commands of at most 500 statements and about 8 MB (MongoDB takes 48 MB per
    /// message, 16 MB per document): one large document never holds the others back.
    private static func chunks(_ updates: [(update: BSON, bytes: Int)]) -> [[BSON]] {
        var chunks: [[BSON]] = [[]]
        var bytes = 0
        for (update, size) in updates {
            if !chunks[chunks.count - 1].isEmpty, chunks[chunks.count - 1].count >= 500 || bytes + size > 8 << 20 {
                chunks.append([])
                bytes = 0
            }
            chunks[chunks.count - 1].append(update)
            bytes += size
        }
        return chunks.filter { !$0.isEmpty }
    }

    private static func checkpointDocument(_ session: MongoSession, _ projection: String) throws -> BSONDocument? {
        try session.documents(["find": .string(checkpoints), "filter": .document(["_id": .string(projection)]), "limit": 1], collection: checkpoints).first
    }

    private static func checkpoint(_ session: MongoSession, _ projection: String) throws -> ProjectionCheckpoint? {
        try checkpointDocument(session, projection).map { checkpoint(projection, $0) }
    }

    private static func checkpoint(_ projection: String, _ document: BSONDocument) -> ProjectionCheckpoint {
        ProjectionCheckpoint(
            name: projection, position: document["pos"]?.int64 ?? 0, owner: document["owner"]?.string,
            leaseExpiresAt: document["lease"]?.int64.map(Date.init(millisecondsSince1970:)), lastError: document["err"]?.string)
    }

    /// `findAndModify` returning the checkpoint document after the update, or nil when nothing matched.
    private static func modify(_ session: MongoSession, _ query: BSONDocument, _ update: BSONDocument, upsert: Bool = false) throws -> BSONDocument? {
        do {
            let reply = try session.command([
                "findAndModify": .string(checkpoints), "query": .document(query), "update": .document(update), "new": true, "upsert": .bool(upsert),
            ])
            return reply["value"]?.document
        } catch MongoError.server(let code, _) where code == MongoError.duplicateKey {
            // An upsert raced another process creating the same checkpoint.
            return nil
        }
    }
}
