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
        var clientCapabilities: JSONValue?
        var pending: [String: CheckedContinuation<JSONValue, any Error>] = [:]
        var nextRequest = 0
        var closed = false
        var inFlight: [MCPRequestID: InFlight] = [:]
        var outbound: (@Sendable ([UInt8]) -> Void)?
        var subscriptions: [String: Task<Void, Never>] = [:]
        // Without an outbound sink: the last messages, numbered, for the transport's stream.
        var outbox: [OutboundMessage] = []
        var nextOutboundID = 1
        var delivered = 0
        var readerTickets = 0
        var reader: (ticket: Int, continuation: AsyncStream<OutboundMessage>.Continuation)?
    }

    /// A server-initiated message with its number in the session (an SSE event id).
    public struct OutboundMessage: Sendable {
        /// Its number, from 1.
        public var id: Int
        /// The JSON-RPC message.
        public var bytes: [UInt8]
    }

    /// How many outbound messages a session keeps for a stream that reconnects.
    public static let outboxCapacity = 256

    /// The most resources one session may subscribe to.
    public static let maximumSubscriptions = 256

    private struct InFlight {
        /// Cancels the task serving it.
        var cancel: (@Sendable () -> Void)?
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

    /// Ends the session: cancels every request in flight (their replies are dropped) and every
    /// resource subscription.
    public func close() {
        let (subscriptions, reader) = state.withLock { state -> ([Task<Void, Never>], AsyncStream<OutboundMessage>.Continuation?) in
            defer {
                state.subscriptions.removeAll()
                state.reader = nil
            }
            state.outbound = nil
            return (Array(state.subscriptions.values), state.reader?.continuation)
        }
        for subscription in subscriptions { subscription.cancel() }
        reader?.finish()
        failPendingRequests()
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            state.closed = true
            var cancels: [@Sendable () -> Void] = []
            for key in state.inFlight.keys {
                state.inFlight[key]?.cancelled = true
                if let cancel = state.inFlight[key]?.cancel { cancels.append(cancel) }
            }
            return cancels
        }
        for cancel in cancels { cancel() }
    }

    /// Cancels the request with this id, if it is in flight. Returns whether it was.
    @discardableResult
    public func cancel(requestID: MCPRequestID) -> Bool {
        let cancel = state.withLock { state -> (@Sendable () -> Void)?? in
            guard state.inFlight[requestID] != nil else { return nil }
            state.inFlight[requestID]?.cancelled = true
            return .some(state.inFlight[requestID]?.cancel)
        }
        guard let cancel else { return false }
        cancel?()
        return true
    }

    // MARK: Internal bookkeeping

    func markInitialized(version: String, clientInfo: JSONValue?, capabilities: JSONValue? = nil) -> Bool {
        state.withLock { state in
            guard state.negotiatedVersion == nil else { return false }
            state.negotiatedVersion = version
            state.clientInfo = clientInfo
            state.clientCapabilities = capabilities
            return true
        }
    }

    /// The `capabilities` the client sent with `initialize`.
    public var clientCapabilities: JSONValue? { state.withLock { $0.clientCapabilities } }

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

    /// Starts the task serving request `id` (registered). It is attached before it can call
    /// ``finish(_:)``, so that it never attaches to a later request reusing the id.
    func attach<Success>(_ id: MCPRequestID, start: () -> Task<Success, Never>) -> Task<Success, Never> {
        let (task, cancelNow) = state.withLock { state -> (Task<Success, Never>, Bool) in
            let task = start()
            state.inFlight[id]?.cancel = { task.cancel() }
            return (task, state.inFlight[id]?.cancelled ?? true)
        }
        if cancelNow { task.cancel() }
        return task
    }

    /// Removes the id; returns whether the request was cancelled by the client.
    func finish(_ id: MCPRequestID) -> Bool {
        state.withLock { state in
            state.inFlight.removeValue(forKey: id)?.cancelled ?? true
        }
    }

    // MARK: - Server-initiated messages

    /// Where this session's server-initiated messages go (stdio: standard output; HTTP: the
    /// session's `GET` stream). Without one they are dropped.
    public func setOutbound(_ sink: @escaping @Sendable ([UInt8]) -> Void) {
        state.withLock { $0.outbound = sink }
    }

    /// Sends a notification to the client: through the outbound sink when there is one, otherwise
    /// into the session's outbox for ``outboundMessages(after:)``.
    public func notify(_ method: String, params: JSONValue) {
        send((["jsonrpc": "2.0", "method": .string(method), "params": params] as JSONValue).serializedBytes(sortedKeys: false))
    }

    /// The session's outbound messages as one stream (the transport's `GET` stream): those after
    /// `lastID` still kept (without it, those no stream has received yet), then each new one. A new
    /// stream ends the previous one, so that each message goes to one stream; ``close()`` ends it.
    public func outboundMessages(after lastID: Int?) -> AsyncStream<OutboundMessage> {
        let (stream, continuation) = AsyncStream<OutboundMessage>.makeStream(bufferingPolicy: .bufferingNewest(Self.outboxCapacity))
        let previous = state.withLock { state -> AsyncStream<OutboundMessage>.Continuation? in
            guard !state.closed else {
                continuation.finish()
                return nil
            }
            let after = lastID ?? state.delivered
            for message in state.outbox where message.id > after { continuation.yield(message) }
            state.delivered = max(state.delivered, state.outbox.last?.id ?? 0)
            state.readerTickets += 1
            let ticket = state.readerTickets
            defer { state.reader = (ticket, continuation) }
            continuation.onTermination = { [weak self] _ in
                self?.state.withLock { state in if state.reader?.ticket == ticket { state.reader = nil } }
            }
            return state.reader?.continuation
        }
        previous?.finish()
        return stream
    }

    /// Whether a message sent now reaches the client at once: an outbound sink (stdio) or an open
    /// stream (HTTP `GET`).
    public var canReachClient: Bool { state.withLock { $0.outbound != nil || $0.reader != nil } }

    /// The URIs this session is subscribed to.
    public var subscribedURIs: [String] { state.withLock { $0.subscriptions.keys.sorted() } }

    /// Subscribes to `uri`: each element of `changes` becomes `notifications/resources/updated`.
    /// Subscribing again to the same URI keeps one subscription.
    /// - Throws: ``MCPError/invalidParams(_:data:)`` past ``maximumSubscriptions``.
    func subscribe(uri: String, changes: AsyncStream<Void>) throws {
        let task = Task { [weak self] in
            for await _ in changes {
                guard let self else { return }
                self.notify("notifications/resources/updated", params: ["uri": .string(uri)])
            }
        }
        let replaced = try state.withLock { state -> Task<Void, Never>? in
            guard !state.closed else { return task }
            if state.subscriptions[uri] == nil, state.subscriptions.count >= Self.maximumSubscriptions {
                task.cancel()
                throw MCPError.invalidParams("Invalid params: at most \(Self.maximumSubscriptions) subscriptions per session")
            }
            defer { state.subscriptions[uri] = task }
            return state.subscriptions[uri]
        }
        replaced?.cancel()
    }

    /// Ends the subscription to `uri`; returns whether there was one.
    @discardableResult
    func unsubscribe(uri: String) -> Bool {
        let task = state.withLock { $0.subscriptions.removeValue(forKey: uri) }
        task?.cancel()
        return task != nil
    }

    // MARK: - Requests to the client

    /// Sends a request to the client (`elicitation/create`) the way notifications go, and waits for
    /// its response, at most `timeout`.
    /// - Returns: the response's `result`.
    /// - Throws: the client's error as an ``MCPError``, or a timeout error (-32001).
    public func request(_ method: String, params: JSONValue, timeout: Duration) async throws -> JSONValue {
        let id = state.withLock { state -> String in
            state.nextRequest += 1
            return "s-\(state.nextRequest)"
        }
        let outcome: JSONValue = try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { continuation in
                    let closed = self.state.withLock { state -> Bool in
                        if state.closed { return true }
                        state.pending[id] = continuation
                        return false
                    }
                    if closed { continuation.resume(throwing: MCPError.internalError) }
                    let message: JSONValue = ["jsonrpc": "2.0", "id": .string(id), "method": .string(method), "params": params]
                    self.send(message.serializedBytes(sortedKeys: false))
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            let first = try await group.next() ?? nil
            if let first { return first }
            // Timed out (or cancelled): drop the pending entry, wake its waiter, and tell the client
            // to close its dialog, so that a late answer is not mistaken for a confirmation.
            self.state.withLock { $0.pending.removeValue(forKey: id) }?.resume(throwing: MCPError(code: JSONRPCErrorCode.requestTimeout, message: "Request timed out"))
            self.notify("notifications/cancelled", params: ["requestId": .string(id), "reason": "The server stopped waiting for the answer"])
            _ = try? await group.next()
            throw MCPError(code: JSONRPCErrorCode.requestTimeout, message: "The client did not answer \(method) in time")
        }
        if let error = outcome["error"] {
            throw MCPError(code: error["code"]?.intValue ?? JSONRPCErrorCode.internalError, message: error["message"]?.stringValue ?? "The client refused", data: error["data"])
        }
        return outcome["result"] ?? .null
    }

    /// Fails every request to the client still waiting for its response (the client has gone).
    public func failPendingRequests() {
        let waiting = state.withLock { state in
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for continuation in waiting { continuation.resume(throwing: MCPError(code: JSONRPCErrorCode.requestTimeout, message: "The client is gone")) }
    }

    /// Hands a client's response to the request waiting for it (unknown ids are ignored).
    func resolve(id: MCPRequestID, response: JSONValue) {
        guard case .string(let key) = id.value else { return }
        state.withLock { $0.pending.removeValue(forKey: key) }?.resume(returning: response)
    }

    /// Sends one message through the outbound sink, or into the outbox.
    private func send(_ bytes: [UInt8]) {
        let sink = state.withLock { state -> (@Sendable ([UInt8]) -> Void)? in
            if let sink = state.outbound { return sink }
            guard !state.closed else { return nil }
            let message = OutboundMessage(id: state.nextOutboundID, bytes: bytes)
            state.nextOutboundID += 1
            state.outbox.append(message)
            if state.outbox.count > Self.outboxCapacity { state.outbox.removeFirst(state.outbox.count - Self.outboxCapacity) }
            if let reader = state.reader {
                reader.continuation.yield(message)
                state.delivered = message.id
            }
            return nil
        }
        sink?(bytes)
    }
}
