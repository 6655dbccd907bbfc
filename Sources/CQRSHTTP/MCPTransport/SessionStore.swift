import CQRSMCP
import Synchronization

/// Legacy sessions: bounded in number, each bound to the principal that opened it, expired after
/// an idle timeout, and evicted least recently used first when the store is full.
///
/// Memory per session is bounded: an entry holds the session's negotiated revision, the client's
/// `clientInfo` (inside a request body, so at most ``MCPHTTPOptions/maxBodyBytes``) and at most
/// ``MCPHTTPOptions/maxInFlightPerSession`` in-flight request records; the store holds at most
/// ``MCPHTTPOptions/maxSessions`` entries.
final class SessionStore: Sendable {
    private struct Entry {
        let session: MCPSession
        let principal: String?
        var lastSeen: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let idleTimeout: Duration
    private let capacity: Int

    init(idleTimeout: Duration, capacity: Int) {
        self.idleTimeout = idleTimeout
        self.capacity = capacity
    }

    var count: Int { entries.withLock { $0.count } }

    /// Stores a session opened by `principal`. When the store is full it first drops expired
    /// sessions, then the least recently used idle one; false only when every session is busy.
    func insert(_ session: MCPSession, principal: String?) -> Bool {
        guard let id = session.id else { return false }
        let (inserted, dropped) = entries.withLock { entries -> (Bool, [MCPSession]) in
            var dropped = entries.count >= capacity ? sweep(&entries) : []
            if entries.count >= capacity {
                let idle = entries.filter { $0.value.session.inFlightCount == 0 }
                guard let oldest = idle.min(by: { $0.value.lastSeen < $1.value.lastSeen }) else { return (false, dropped) }
                entries.removeValue(forKey: oldest.key)
                dropped.append(oldest.value.session)
            }
            entries[id] = Entry(session: session, principal: principal, lastSeen: .now)
            return (true, dropped)
        }
        for session in dropped { session.close() }
        return inserted
    }

    /// The live session with this id opened by the same principal (touching it), or nil when
    /// unknown, expired or another principal's (a session id is not a credential of its own).
    func lookup(_ id: String, principal: String?) -> MCPSession? {
        let (found, expired) = entries.withLock { entries -> (MCPSession?, MCPSession?) in
            guard let entry = entries[id], entry.principal == principal else { return (nil, nil) }
            let now = ContinuousClock.now
            if now - entry.lastSeen > idleTimeout, entry.session.inFlightCount == 0 {
                entries.removeValue(forKey: id)
                return (nil, entry.session)
            }
            entries[id]?.lastSeen = now
            return (entry.session, nil)
        }
        expired?.close()
        return found
    }

    /// Closes the sessions idle past the timeout (their subscriptions and streams end with them).
    func sweepExpired() {
        let expired = entries.withLock { sweep(&$0) }
        for session in expired { session.close() }
    }

    func touch(_ id: String) {
        entries.withLock { $0[id]?.lastSeen = .now }
    }

    /// Removes the session if the same principal opened it.
    func remove(_ id: String, principal: String?) -> MCPSession? {
        entries.withLock { entries in
            guard entries[id]?.principal == principal else { return nil }
            return entries.removeValue(forKey: id)?.session
        }
    }

    private func sweep(_ entries: inout [String: Entry]) -> [MCPSession] {
        let now = ContinuousClock.now
        var expired: [MCPSession] = []
        for (id, entry) in entries where now - entry.lastSeen > idleTimeout && entry.session.inFlightCount == 0 {
            entries.removeValue(forKey: id)
            expired.append(entry.session)
        }
        return expired
    }

    /// 32 random bytes from the system's cryptographically secure generator, as hex.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var id = ""
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            id += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return id
    }
}
