import CQRSSchema
import Dispatch
import Foundation
import Logging
import ServiceLifecycle

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
/// never blocked; it waits for a free slot before reading further (backpressure, bounded memory).
/// Writing uses a serial dispatch queue for the same reason.
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
        let (lines, continuation) = AsyncStream<LineEvent>.makeStream(bufferingPolicy: .unbounded)
        let reader = LineReader(fd: input, maxLine: options.maxMessageBytes, slots: slots, sink: continuation)
        let thread = Thread { reader.run() }
        thread.name = "mcp-stdio-reader"
        thread.start()
        let writer = LineWriter(fd: output)
        let session = self.session
        // Notifications (resource updates) go out between replies, one line each.
        session.setOutbound { bytes in writer.enqueue(bytes + [0x0A]) {} }
        // The request's slot is freed once its reply is written, so a client that stops reading
        // stops the reader too (bounded memory); a task does not wait for its write (one thread
        // hand-off less per request).
        @Sendable func send(_ reply: [UInt8]?) {
            if var reply {
                reply.append(0x0A)
                writer.enqueue(reply) { slots.signal() }
            } else {
                slots.signal()
            }
        }
        await withGracefulShutdownHandler {
            await serve(lines, session: session, send: send)
        } onGracefulShutdown: {
            // The reader thread stays blocked in read(2); what it reads later is dropped.
            continuation.finish()
        }
        session.close()
        // Every reply is on stdout before run() returns.
        await writer.drain()
    }

    private func serve(_ lines: AsyncStream<LineEvent>, session: MCPSession, send: @escaping @Sendable ([UInt8]?) -> Void) async {
        let server = self.server
        await withTaskGroup(of: Void.self) { group in
            for await event in lines {
                switch event {
                case .line(let bytes):
                    let message = server.decode(bytes)
                    if case .invalid(let reply) = message.kind {
                        // Nothing to serve: answer at once, in input order.
                        send(reply.bytes)
                    } else if case .request(_, "initialize") = message.kind {
                        // What follows may need the session it sets up (a client piping a script
                        // does not wait for the reply): serve it before reading further.
                        send(await server.handle(message, session: session)?.bytes)
                    } else {
                        group.addTask { send(await server.handle(message, session: session)?.bytes) }
                    }
                case .response(let bytes):
                    _ = await server.handle(server.decode(bytes), session: session)
                case .tooLong:
                    send(MCPReply.error(id: nil, .invalidRequest("Invalid Request: message too large")).bytes)
                }
            }
            // End of input: nobody will answer the server's own requests any more.
            session.failPendingRequests()
            await group.waitForAll()
        }
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
    private let sink: AsyncStream<LineEvent>.Continuation

    init(fd: Int32, maxLine: Int, slots: DispatchSemaphore, sink: AsyncStream<LineEvent>.Continuation) {
        self.fd = fd
        self.maxLine = maxLine
        self.slots = slots
        self.sink = sink
    }

    func run() {
        defer { sink.finish() }
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
            sink.yield(.response(line))
            return
        }
        emit(.line(line))
    }

    private func emit(_ event: LineEvent) {
        slots.wait()
        sink.yield(event)
    }
}

/// Writes whole lines in order on a serial queue with blocking writes.
private final class LineWriter: Sendable {
    private let fd: Int32
    private let queue = DispatchQueue(label: "mcp-stdio-writer")

    init(fd: Int32) {
        self.fd = fd
    }

    /// Writes `bytes` after every line enqueued before, then calls `written`.
    func enqueue(_ bytes: [UInt8], written: @escaping @Sendable () -> Void) {
        let fd = self.fd
        queue.async {
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
            written()
        }
    }

    /// Returns once every enqueued line is written.
    func drain() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            queue.async { done.resume() }
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
