import CQRSSchema
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The stdio transport: newline-delimited JSON-RPC on a pair of file descriptors (by default
/// standard input and standard output).
///
/// - Only protocol messages are written to the output; log to standard error
///   (see ``MCPLogging/bootstrapStandardError(level:)``).
/// - Requests are served concurrently (up to ``Options/maxConcurrentRequests``); replies are
///   written one whole line at a time, in completion order. An `initialize` request is served
///   before any later message is read, so a client may pipe a whole script without waiting.
/// - A malformed line gets a -32700 reply (written before anything read after it) and serving
///   continues; a line longer than ``Options/maxMessageBytes`` is discarded with a -32600 reply.
/// - End of input ends ``run()`` after every request in flight has been answered; so does a
///   graceful shutdown when the transport runs in a swift-service-lifecycle `ServiceGroup` (SIGTERM):
///   it stops reading and answers what it has read.
///
/// Reading uses one dedicated thread doing blocking `read(2)`, so Swift's cooperative pool is
/// never blocked; it waits for a free slot before reading further (backpressure, bounded memory)
/// and starts each request's task itself. Writing uses a serial dispatch queue for the same
/// reason, except for a reply that a pipe with room takes without blocking.
public final class MCPStdioTransport: Service {
    /// Tunables.
    public struct Options: Sendable, Hashable {
        /// The longest message (line) accepted, in bytes.
        public var maxMessageBytes: Int
        /// How many messages may be served at once.
        public var maxConcurrentRequests: Int

        /// Creates options.
        public init(maxMessageBytes: Int = 16 << 20, maxConcurrentRequests: Int = 32) {
            self.maxMessageBytes = max(1024, maxMessageBytes)
            self.maxConcurrentRequests = max(1, maxConcurrentRequests)
        }
    }

    /// The server being served.
    public let server: MCPServer
    /// The session of this connection (stdio is one legacy session for the life of the process).
    public let session: MCPSession
    /// Tunables.
    public let options: Options
    private let input: Int32
    private let output: Int32

    /// Creates a transport.
    /// - Parameters:
    ///   - server: The server.
    ///   - input: The file descriptor to read messages from (standard input by default).
    ///   - output: The file descriptor to write replies to (standard output by default).
    ///   - options: Tunables.
    public init(server: MCPServer, input: Int32 = 0, output: Int32 = 1, options: Options = Options()) {
        self.server = server
        self.input = input
        self.output = output
        self.options = options
        self.session = MCPSession()
    }

    /// Serves until the input reaches end of file (or a graceful shutdown), then waits for the
    /// requests in flight.
    ///
    /// Ignores `SIGPIPE` for the process, so a client that goes away makes writes fail instead of
    /// killing the server.
    public func run() async {
        signal(SIGPIPE, SIG_IGN)
        let slots = DispatchSemaphore(value: options.maxConcurrentRequests)
        let writer = LineWriter(fd: output)
        let inFlight = InFlightMessages()
        let server = self.server
        let session = self.session
        // Notifications (resource updates) go out between replies, one line each.
        session.setOutbound { bytes in writer.enqueue(bytes + [0x0A]) {} }
        // A message's slot is freed once its reply is written, so a client that stops reading
        // stops the reader too (bounded memory).
        @Sendable func send(_ reply: [UInt8]?, freeing slot: Bool = true) {
            let done: @Sendable () -> Void = {
                if slot { slots.signal() }
                inFlight.leave()
            }
            if var reply {
                reply.append(0x0A)
                writer.enqueue(reply, written: done)
            } else {
                done()
            }
        }
        // On the reader thread, in input order: each request starts on a task of its own, which
        // writes its reply itself (no hand-off through another task on the way in or out).
        @Sendable func dispatch(_ event: LineEvent) {
            guard inFlight.enter() else {
                // Shut down: what is read now is dropped.
                if case .response = event {} else { slots.signal() }
                return
            }
            switch event {
            case .line(let bytes):
                let message = server.decode(bytes)
                if case .invalid(let reply) = message.kind {
                    // Nothing to serve: answer at once, in input order.
                    send(reply.bytes)
                } else if case .request(_, "initialize") = message.kind {
                    // What follows may need the session it sets up (a client piping a script does
                    // not wait for the reply): serve it before reading further.
                    let answered = DispatchSemaphore(value: 0)
                    server.handle(message, session: session) { reply in
                        send(reply?.bytes)
                        answered.signal()
                    }
                    answered.wait()
                } else {
                    server.handle(message, session: session) { send($0?.bytes) }
                }
            case .response(let bytes):
                server.handle(server.decode(bytes), session: session) { _ in send(nil, freeing: false) }
            case .tooLong:
                send(MCPReply.error(id: nil, .invalidRequest("Invalid Request: message too large")).bytes)
            }
        }
        let reader = LineReader(fd: input, maxLine: options.maxMessageBytes, slots: slots, dispatch: dispatch) {
            // End of input: nobody will answer the server's own requests any more.
            session.failPendingRequests()
            inFlight.end()
        }
        let thread = Thread { reader.run() }
        thread.name = "mcp-stdio-reader"
        thread.start()
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await inFlight.waitUntilDone()
            } onCancel: {
                // Cancelled (not a graceful shutdown): stop the requests too.
                inFlight.end()
                session.close()
            }
        } onGracefulShutdown: {
            // The reader thread stays blocked in read(2); what it reads later is dropped, answers to
            // the server's own requests included: those fail now instead of at their timeout.
            inFlight.end()
            session.failPendingRequests()
        }
        session.close()
        // Every reply is on stdout before run() returns.
        await writer.drain()
    }
}

/// The messages read and not yet answered, so that ``MCPStdioTransport/run()`` returns once input
/// has ended (or a shutdown began) and every one of them is answered.
private final class InFlightMessages: Sendable {
    private struct State {
        var count = 0
        var ended = false
        var done = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Counts a message in; false once input has ended.
    func enter() -> Bool {
        state.withLock { state in
            guard !state.ended else { return false }
            state.count += 1
            return true
        }
    }

    func leave() { update { $0.count -= 1 } }

    /// No message comes in after this.
    func end() { update { $0.ended = true } }

    func waitUntilDone() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.done { return true }
                state.waiter = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            guard state.ended, state.count == 0, !state.done else { return nil }
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

enum LineEvent: Sendable {
    case line([UInt8])
    /// A response to a request of the server (an elicitation answer): read without a slot, since
    /// the requests holding every slot may be the ones waiting for it.
    case response([UInt8])
    case tooLong
}

/// Reads newline-delimited messages with blocking reads on its own thread.
private final class LineReader: @unchecked Sendable {
    // Only touched by the reader thread after construction.
    private let fd: Int32
    private let maxLine: Int
    private let slots: DispatchSemaphore
    private let dispatch: @Sendable (LineEvent) -> Void
    private let ended: @Sendable () -> Void

    init(
        fd: Int32, maxLine: Int, slots: DispatchSemaphore, dispatch: @escaping @Sendable (LineEvent) -> Void,
        ended: @escaping @Sendable () -> Void
    ) {
        self.fd = fd
        self.maxLine = maxLine
        self.slots = slots
        self.dispatch = dispatch
        self.ended = ended
    }

    func run() {
        defer { ended() }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var line: [UInt8] = []
        var discarding = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            if count == 0 { break }
            var start = 0
            for index in 0..<count where buffer[index] == 0x0A {
                if discarding {
                    discarding = false
                } else {
                    line.append(contentsOf: buffer[start..<index])
                    if line.count > maxLine {
                        emit(.tooLong)
                    } else {
                        emitLine(line)
                    }
                }
                line.removeAll(keepingCapacity: line.count <= 1 << 20)
                start = index + 1
            }
            if !discarding {
                line.append(contentsOf: buffer[start..<count])
                if line.count > maxLine {
                    discarding = true
                    line.removeAll()
                    emit(.tooLong)
                }
            }
        }
        if !discarding { emitLine(line) }
    }

    private func emitLine(_ line: [UInt8]) {
        var line = line
        if line.last == 0x0D { line.removeLast() }
        // Skip blank lines (whitespace only).
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }
        if RawJSONScanner.memberValue("method", in: line) == nil,
            RawJSONScanner.memberValue("result", in: line) != nil || RawJSONScanner.memberValue("error", in: line) != nil
        {
            dispatch(.response(line))
            return
        }
        emit(.line(line))
    }

    private func emit(_ event: LineEvent) {
        slots.wait()
        dispatch(event)
    }
}

/// Writes whole lines in order with blocking writes on a serial queue, or straight from the caller
/// when that cannot block: a pipe with room takes up to `PIPE_BUF` bytes at once (POSIX), so a
/// reply of that size skips the queue's thread hand-off unless lines are queued before it.
private final class LineWriter: Sendable {
    private let fd: Int32
    private let isPipe: Bool
    private let queue = DispatchQueue(label: "mcp-stdio-writer")
    /// Lines handed to the queue and not yet written.
    private let queued = Mutex(0)

    init(fd: Int32) {
        self.fd = fd
        var status = stat()
        isPipe = fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO
    }

    /// Writes `bytes` after every line enqueued before, then calls `written`.
    func enqueue(_ bytes: [UInt8], written: @escaping @Sendable () -> Void) {
        let fd = self.fd
        let small = isPipe && bytes.count <= Int(PIPE_BUF)
        let wrote = queued.withLock { queued -> Bool in
            if small, queued == 0, Self.hasRoom(fd) {
                Self.write(bytes, to: fd)
                return true
            }
            queued += 1
            return false
        }
        if wrote {
            written()
            return
        }
        queue.async {
            Self.write(bytes, to: fd)
            self.queued.withLock { $0 -= 1 }
            written()
        }
    }

    /// Returns once every enqueued line is written.
    func drain() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async { done.resume() }
        }
    }

    /// Whether a write to the pipe `fd` would not block now.
    private static func hasRoom(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&descriptor, 1, 0) == 1 && descriptor.revents & Int16(POLLOUT) != 0
    }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = writeDescriptor(fd, raw.baseAddress! + offset, raw.count - offset)
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    break
                }
                offset += count
            }
        }
    }
}

private func writeDescriptor(_ fd: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}

/// Logging helpers for MCP servers.
public enum MCPLogging {
    /// Bootstraps swift-log to write to standard error, never standard output (which belongs to
    /// the stdio protocol). Call once, at process start, before any logger is created.
    public static func bootstrapStandardError(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
