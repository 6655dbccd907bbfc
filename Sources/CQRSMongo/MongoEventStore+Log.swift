import CQRS
import CQRSSchema
import Foundation

/// The global log: commits in `seq` order, never passing a number that may still be filled.
extension MongoEventStore {
    /// The number of commit documents one round trip of ``readAll(after:limit:)`` reads at most.
    static let pageOfCommits = 500

    /// Events above `position` in position order. Stops before the first missing commit number; when
    /// nothing precedes it, waits for it (polling every 2 ms) and voids it once it has been missing for
    /// ``gapTimeout`` (see the type's documentation), so a caller always finds its own committed events.
    public func readAll(after position: Int64, limit: Int) async throws -> [EventEnvelope<JSONValue>] {
        guard limit > 0 else { return [] }
        // Bounded like PostgreSQL's wait: when a gap cannot be voided (a read-only user, a failing
        // server), the caller gets nothing yet and asks again.
        let deadline = ContinuousClock.now + gapTimeout * 2 + .milliseconds(500)
        var pause = Duration.milliseconds(2)
        while ContinuousClock.now < deadline {
            let (rows, gap) = try await database.run { session in
                try Self.scan(session, after: position, limit: limit)
            }
            guard rows.isEmpty, let gap else {
                return try StoredEventRow.decode(rows, as: JSONValue.self)
            }
            let now = ContinuousClock.now
            let since = gaps.withLock { gaps in
                if gaps.count > 1024 { gaps.removeAll() }
                if let since = gaps[gap.lowerBound] { return since }
                gaps[gap.lowerBound] = now
                return now
            }
            if now - since >= gapTimeout {
                // Every number of the gap was claimed before the commit that follows it, and was seen
                // missing since that commit appeared: they are voided together, not one timeout each.
                let numbers = Array(gap.lowerBound..<min(gap.upperBound, gap.lowerBound + 4096))
                try await database.run { Self.void($0, numbers) }
                gaps.withLock { _ = $0.removeValue(forKey: gap.lowerBound) }
            } else {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(50))
            }
        }
        return []
    }

    /// Up to `limit` events above `position`, and the missing commit numbers that stopped the scan
    /// (up to the next number present).
    private static func scan(_ session: MongoSession, after position: Int64, limit: Int) throws -> (rows: [StoredEventRow], gap: Range<Int64>?) {
        var expected = max(position >> 20, 1)
        var rows: [StoredEventRow] = []
        while rows.count < limit {
            let asked = min(limit - rows.count, pageOfCommits)
            let page = try session.documents(
                ["find": "commits", "filter": .document(["seq": .document(["$gte": .int64(expected)])]), "sort": ["seq": 1],
                 "limit": .int64(Int64(asked))], collection: "commits")
            for document in page {
                let seq = Int64(try int(document, "seq"))
                if seq > expected { return (rows, expected..<seq) }
                expected = seq + 1
                rows += try Self.rows(document).lazy.filter { $0.position > position }
            }
            if page.count < asked { break }
        }
        if rows.count > limit { rows.removeLast(rows.count - limit) }
        return (rows, nil)
    }

    /// The head is the last position before the first missing commit number (remembered between calls,
    /// so only the newer commits are scanned); the count covers every event above `position`.
    public func logExtent(after position: Int64) async throws -> LogExtent {
        let start = watermark.withLock { $0 }
        let (head, count) = try await database.run { session -> ((seq: Int64, position: Int64), Int) in
            var head = start
            scanning: while true {
                let page = try session.documents(
                    ["find": "commits", "filter": .document(["seq": .document(["$gt": .int64(head.seq)])]), "sort": ["seq": 1],
                     "limit": .int64(Int64(Self.pageOfCommits)), "projection": ["seq": 1, "n": 1]], collection: "commits")
                for document in page {
                    let seq = Int64(try Self.int(document, "seq"))
                    guard seq == head.seq + 1 else { break scanning }
                    let events = try Self.int(document, "n")
                    head = (seq, events > 0 ? Self.position(seq, events) : head.position)
                }
                if page.count < Self.pageOfCommits { break }
            }
            let reply = try session.command([
                "aggregate": "commits",
                "pipeline": .array([
                    .document(["$match": .document(["seq": .document(["$gte": .int64(position >> 20)])])]),
                    .document(["$group": .document(["_id": .null, "n": .document(["$sum": "$n"])])]),
                ]),
                "cursor": .document([:]),
            ])
            var total = Int(reply["cursor"]?.document?["firstBatch"]?.array?.first?.document?["n"]?.int64 ?? 0)
            // Events of the commit `position` points into that lie at or below it.
            let within = Int(position & ((1 << 20) - 1))
            if within > 0 { total -= within }
            return (head, max(total, 0))
        }
        watermark.withLock { if head.seq > $0.seq { $0 = head } }
        return LogExtent(head: head.position, eventsAfter: count)
    }
}
