import CQRSSchema
import Synchronization

/// The state of one legacy (initialize-based) conversation: a stdio process or one HTTP session.
///
/// It records the negotiated revision and the requests in flight, so `notifications/cancelled`
/// can stop them. Requests of the 2026-07-28 revision are stateless and never change it.
public final class MCPSession: Sendable {
    /// The HTTP `Mcp-Session-Id`, when the session belongs to the HTTP transport.
    public let id: String?

    private struct State {
        var negotiatedVersion: String?
        var initializedNotified = false
        var clientInfo: JSONValue?
        var closed = false
        var inFlight: [MCPRequestID: InFlight] = [:]
    }

    private struct InFlight {
        var task: Task<MCPReply?, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Creates a session.
    /// - Parameter id: The transport's session id, if any.
    public init(id: String? = nil) {
        self.id = id
    }

    /// The legacy revision negotiated by `initialize`, or nil before it.
    public var negotiatedVersion: String? { state.withLock { $0.negotiatedVersion } }

    /// Whether `initialize` has been answered.
    public var isInitialized: Bool { negotiatedVersion != nil }

    /// Whether the client sent `notifications/initialized`.
    public var receivedInitializedNotification: Bool { state.withLock { $0.initializedNotified } }

    /// The `clientInfo` the client sent with `initialize`.
    public var clientInfo: JSONValue? { state.withLock { $0.clientInfo } }

    /// The number of requests being served.
    public var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Ends the session: cancels every request in flight (their replies are dropped).
    public func close() {
        let tasks = state.withLock { state -> [Task<MCPReply?, Never>] in
            state.closed = true
            var tasks: [Task<MCPReply?, Never>] = []
            for key in state.inFlight.keys {
                state.inFlight[key]?.cancelled = true
                if let task = state.inFlight[key]?.task { tasks.append(task) }
            }
            return tasks
        }
        for task in tasks { task.cancel() }
    }

    /// Cancels the request with this id, if it is in flight. Returns whether it was.
    @discardableResult
    public func cancel(requestID: MCPRequestID) -> Bool {
        let task = state.withLock { state -> Task<MCPReply?, Never>?? in
            guard state.inFlight[requestID] != nil else { return nil }
            state.inFlight[requestID]?.cancelled = true
            return .some(state.inFlight[requestID]?.task)
        }
        guard let task else { return false }
        task?.cancel()
        return true
    }

    // MARK: Internal bookkeeping

    func markInitialized(version: String, clientInfo: JSONValue?) -> Bool {
        state.withLock { state in
            guard state.negotiatedVersion == nil else { return false }
            state.negotiatedVersion = version
            state.clientInfo = clientInfo
            return true
        }
    }

    func markInitializedNotification() {
        state.withLock { $0.initializedNotified = true }
    }

    /// Reserves an id; false when a request with the same id is already in flight.
    func register(_ id: MCPRequestID) -> Bool {
        state.withLock { state in
            guard !state.closed, state.inFlight[id] == nil else { return false }
            state.inFlight[id] = InFlight()
            return true
        }
    }

    func attach(_ id: MCPRequestID, task: Task<MCPReply?, Never>) {
        let cancelNow = state.withLock { state -> Bool in
            state.inFlight[id]?.task = task
            return state.inFlight[id]?.cancelled ?? true
        }
        if cancelNow { task.cancel() }
    }

    /// Removes the id; returns whether the request was cancelled by the client.
    func finish(_ id: MCPRequestID) -> Bool {
        state.withLock { state in
            state.inFlight.removeValue(forKey: id)?.cancelled ?? true
        }
    }
}
