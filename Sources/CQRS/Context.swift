import CQRSSchema
import Foundation
import Synchronization

/// A source of the wall-clock time commands are stamped with, injectable for tests. (Not named
/// `Clock`, which would shadow the standard library's protocol in every module importing CQRS.)
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    /// A clock reading `read`.
    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The system clock.
    public static let system = WallClock { Date() }

    /// A clock stopped at `date`.
    public static func fixed(_ date: Date) -> WallClock { WallClock { date } }

    /// The current time.
    public func now() -> Date { read() }
}

/// A source of UUIDs, injectable for tests.
public struct IdSource: Sendable {
    private let make: @Sendable () -> UUID

    /// A source calling `make`.
    public init(_ make: @escaping @Sendable () -> UUID) { self.make = make }

    /// Random UUID v4 from the C library's CSPRNG (`arc4random_buf`: no system call or file per id,
    /// unlike Foundation's `UUID()` on Linux).
    public static let random = IdSource {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { arc4random_buf($0.baseAddress!, 16) }
        bytes.6 = (bytes.6 & 0x0F) | 0x40
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }

    /// Time-ordered UUIDs (version 7, RFC 9562): 48 bits of Unix milliseconds, then 74 random bits
    /// from the same CSPRNG as ``random``. Ids made later sort later, as bytes and as text, so a
    /// store's unique index on event ids appends near its end instead of touching a random page per
    /// event (what Marten's sequential GUIDs are for). The default of ``CommandContext``.
    public static let timeOrdered = IdSource {
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { arc4random_buf($0.baseAddress! + 6, 10) }
        let milliseconds = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        bytes.0 = UInt8(truncatingIfNeeded: milliseconds >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: milliseconds >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: milliseconds >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: milliseconds >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: milliseconds >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: milliseconds)
        bytes.6 = (bytes.6 & 0x0F) | 0x70
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return UUID(uuid: bytes)
    }

    /// Distinct, predictable UUIDs: `00000000-0000-4000-8000-000000000001`, `…0002`, … (thread-safe).
    public static func sequential(startingAt first: UInt64 = 1) -> IdSource {
        let counter = Mutex(first)
        return IdSource {
            let n = counter.withLock { value in
                defer { value += 1 }
                return value
            }
            var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]
            for i in 0..<6 { bytes[15 - i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
            return UUID(
                uuid: (
                    bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                    bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
                ))
        }
    }

    /// The next UUID.
    public func next() -> UUID { make() }
}

/// Who runs a command, on behalf of which request, and the tools (clock, ids) it may use.
///
/// Standard entries (`userId`, `requestId`, `correlationId`, `causationId`) and the top-level
/// entries of ``metadata`` are stored with every event the command produces.
public struct CommandContext: Sendable {
    /// The user running the command; `"anonymous"` when unknown.
    public var currentUser: String
    /// The id of the request carrying the command.
    public var requestId: String
    /// The id shared by every message of one conversation; defaults to the request id.
    public var correlationId: String?
    /// The id of the message that caused this command; defaults to the request id.
    public var causationId: String?
    /// A free-form JSON bag travelling with the command.
    public private(set) var metadata: JSONValue?
    /// The clock used to stamp events.
    public var clock: WallClock
    /// The id source used for event ids and generated aggregate ids.
    public var ids: IdSource
    /// The front end's operation that issued the command (an MCP tool, a REST route's operation id),
    /// carried into log lines; not stored with events.
    public var operation: String?

    /// A context; the request id defaults to a fresh UUID.
    public init(
        currentUser: String? = nil, requestId: String? = nil, correlationId: String? = nil,
        causationId: String? = nil, metadata: JSONValue? = nil, clock: WallClock = .system, ids: IdSource = .timeOrdered
    ) {
        self.currentUser = currentUser ?? "anonymous"
        self.requestId = requestId ?? ids.next().uuidString.lowercased()
        self.correlationId = correlationId
        self.causationId = causationId
        self.metadata = metadata
        self.clock = clock
        self.ids = ids
    }

    /// A copy whose metadata bag is `metadata`.
    public func withMetadata(_ metadata: JSONValue?) -> CommandContext {
        var copy = self
        copy.metadata = metadata
        return copy
    }

    /// A copy with one entry merged into the metadata bag; a bag that is not an object is replaced.
    public func withMetadataEntry(_ key: String, _ value: JSONValue) -> CommandContext {
        var copy = self
        var members = metadata?.objectValue ?? [:]
        members[key] = value
        copy.metadata = .object(members)
        return copy
    }

    /// The metadata bag entry for `key`, or the whole bag when `key` is nil.
    public func metadata(_ key: String?) -> JSONValue? {
        guard let key else { return metadata }
        return metadata?[key]
    }

    /// The string map stored with each event: bag entries, then `extra`, then the standard entries.
    func eventMetadata(extra: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        if let bag = metadata?.objectValue {
            for (key, value) in bag {
                result[key] = value.stringValue ?? CQRSJSON.text(of: value)
            }
        }
        result.merge(extra) { _, new in new }
        result["userId"] = currentUser
        if !requestId.isEmpty { result["requestId"] = requestId }
        let correlation = correlationId ?? requestId
        if !correlation.isEmpty { result["correlationId"] = correlation }
        let causation = causationId ?? requestId
        if !causation.isEmpty { result["causationId"] = causation }
        return result
    }
}
