import CQRSSchema
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// A load generator for MCP servers: raw JSON-RPC over stdio (pipelined) or over HTTP/1.1
// keep-alive connections, one MCP session per connection. The same driver measures our server and
// the FastMCP reference, so client overhead weighs the same on both.

struct LoadResult {
    var requests: Int
    var seconds: Double
    var latencies: [Double]

    var perSecond: Double { Double(requests) / seconds }
    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// One line for the profile modes.
    var summary: String {
        String(format: "%.0f calls/s, p50 %.3f ms, p99 %.3f ms", perSecond, percentile(0.5) * 1000, percentile(0.99) * 1000)
    }
}

/// The bank over stdio, and over HTTP on `port`, on the memory store.
func bankStdioCommand(_ bank: String) -> [String] { [bank, "mcp", "--store", "memory:", "--log-level", "error"] }
func bankHTTPCommand(_ bank: String, port: Int) -> [String] {
    [bank, "serve", "--store", "memory:", "--port", "\(port)", "--log-level", "error"]
}

/// Runs `command` (an HTTP server listening on `port`) for the time of `body`.
func withHTTPServer<T>(_ command: [String], port: Int, _ body: () throws -> T) throws -> T {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
        process.terminate()
        process.waitUntilExit()
    }
    try waitForPort(port)
    return try body()
}

enum LoadError: Error { case io(String) }

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func request(_ id: Int, _ method: String, _ params: String) -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":\#(params)}"#
}

let initializeParams = #"{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"cqrs-bench","version":"1"}}"#
let initializedNotification = #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#

func depositParams(_ account: String) -> String {
    #"{"name":"account_deposit","arguments":{"id":"\#(account)","amount":1}}"#
}

/// The account id in a tools/call reply (structuredContent.id).
func accountId(in reply: [UInt8]) throws -> String {
    let json = try JSONValue.parse(reply)
    guard let id = json["result"]?["structuredContent"]?["id"]?.stringValue else {
        throw LoadError.io("no account id in \(String(decoding: reply, as: UTF8.self).prefix(300))")
    }
    return id
}

func checkReply(_ reply: [UInt8]) throws {
    let json = try JSONValue.parse(reply)
    if json["error"] != nil || json["result"]?["isError"] == true {
        throw LoadError.io("error reply: \(String(decoding: reply, as: UTF8.self).prefix(300))")
    }
}

// MARK: - HTTP

final class HTTPConnection {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var session: String?

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw LoadError.io("connect to \(port) failed") }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Posts one JSON-RPC message to /mcp; returns the status and the JSON body (SSE unwrapped).
    func post(_ body: String) throws -> (Int, [UInt8]) {
        var head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += "Accept: application/json, text/event-stream\r\nContent-Length: \(body.utf8.count)\r\n"
        if let session { head += "Mcp-Session-Id: \(session)\r\nMCP-Protocol-Version: 2025-11-25\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LoadError.io("send failed") }
            sent += n
        }
        let headerEnd = try readUntil([13, 10, 13, 10])
        let headerText = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        let lines = headerText.split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        if let id = headers["mcp-session-id"] { session = id }
        var payload: [UInt8]
        if let length = headers["content-length"].flatMap(Int.init) {
            try fill(length)
            payload = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            payload = []
            while true {
                let lineEnd = try readUntil([13, 10])
                let size = Int(String(decoding: buffer[..<lineEnd], as: UTF8.self), radix: 16) ?? 0
                buffer.removeFirst(lineEnd + 2)
                try fill(size + 2)
                payload += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            payload = []
        }
        if headers["content-type"]?.hasPrefix("text/event-stream") == true {
            let text = String(decoding: payload, as: UTF8.self)
            let data = text.split(separator: "\n").filter { $0.hasPrefix("data:") }.map { $0.dropFirst(5) }
                .last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            payload = Array((data.map(String.init) ?? "").utf8)
        }
        return (status, payload)
    }

    private func readMore() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw LoadError.io("connection closed") }
        buffer += chunk[..<n]
    }

    private func fill(_ count: Int) throws {
        while buffer.count < count { try readMore() }
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                for start in searchFrom...(buffer.count - marker.count) where buffer[start] == marker[0] {
                    if Array(buffer[start..<start + marker.count]) == marker { return start }
                }
                searchFrom = buffer.count - marker.count + 1
            }
            try readMore()
        }
    }
}

/// `clients` threads, each with its own connection and session, calling account_deposit in a loop.
func httpLoad(port: Int, clients: Int, seconds: Double) throws -> LoadResult {
    let shared = Mutex<(total: Int, latencies: [Double], failure: String?)>((0, [], nil))
    let group = DispatchGroup()
    let start = now() + 0.5
    let end = start + seconds
    for _ in 0..<clients {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            do {
                let connection = try HTTPConnection(port: port)
                _ = try connection.post(request(1, "initialize", initializeParams))
                _ = try connection.post(initializedNotification)
                let (_, opened) = try connection.post(request(2, "tools/call", #"{"name":"account_open","arguments":{"owner":"bench"}}"#))
                let body = request(3, "tools/call", depositParams(try accountId(in: opened)))
                var mine: [Double] = []
                var count = 0
                while now() < start { _ = try connection.post(body) }
                while true {
                    let t0 = now()
                    if t0 >= end { break }
                    let (status, reply) = try connection.post(body)
                    mine.append(now() - t0)
                    if status != 200 || count % 997 == 0 { try checkReply(reply) }
                    count += 1
                }
                shared.withLock {
                    $0.total += count
                    $0.latencies += mine
                }
            } catch {
                shared.withLock { $0.failure = "\(error)" }
            }
        }
    }
    group.wait()
    let outcome = shared.withLock { $0 }
    if let failure = outcome.failure { throw LoadError.io(failure) }
    return LoadResult(requests: outcome.total, seconds: seconds, latencies: outcome.latencies)
}

// MARK: - stdio

/// Drives a stdio server with `window` requests in flight.
func stdioLoad(command: [String], window: Int, seconds: Double) throws -> LoadResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    defer {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
    let writer = input.fileHandleForWriting.fileDescriptor
    let reader = output.fileHandleForReading.fileDescriptor
    var buffer: [UInt8] = []

    func write(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
            guard n > 0 else { throw LoadError.io("write failed") }
            sent += n
        }
    }
    func readLine() throws -> [UInt8] {
        while true {
            if let newline = buffer.firstIndex(of: 10) {
                let line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                return line
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { Glibc.read(reader, $0.baseAddress, $0.count) }
            guard n > 0 else { throw LoadError.io("server closed stdout") }
            buffer += chunk[..<n]
        }
    }
    func idOf(_ line: [UInt8]) -> Int? { (try? JSONValue.parse(line))?["id"]?.intValue }

    try write(request(1, "initialize", initializeParams))
    _ = try readLine()
    try write(initializedNotification)
    // One account per in-flight slot, so concurrent calls never conflict on a version.
    var slotParams: [String] = []
    for slot in 0..<window {
        try write(request(2 + slot, "tools/call", #"{"name":"account_open","arguments":{"owner":"bench"}}"#))
        var opened = try readLine()
        while idOf(opened) != 2 + slot { opened = try readLine() }
        slotParams.append(depositParams(try accountId(in: opened)))
    }

    var nextId = 1000
    var started: [Int: (slot: Int, at: Double)] = [:]
    var latencies: [Double] = []
    let begin = now()
    let measureFrom = begin + 0.5
    let end = measureFrom + seconds
    var measured = 0
    for slot in 0..<window {
        started[nextId] = (slot, now())
        try write(request(nextId, "tools/call", slotParams[slot]))
        nextId += 1
    }
    while !started.isEmpty {
        let line = try readLine()
        guard let id = idOf(line), let (slot, t0) = started.removeValue(forKey: id) else { continue }
        let t1 = now()
        if t0 >= measureFrom && t1 <= end {
            latencies.append(t1 - t0)
            measured += 1
        }
        if id % 997 == 0 { try checkReply(line) }
        if t1 < end {
            started[nextId] = (slot, now())
            try write(request(nextId, "tools/call", slotParams[slot]))
            nextId += 1
        }
    }
    return LoadResult(requests: measured, seconds: seconds, latencies: latencies)
}

func waitForPort(_ port: Int, timeout: Double = 30) throws {
    let deadline = now() + timeout
    while now() < deadline {
        if (try? HTTPConnection(port: port)) != nil { return }
        usleep(50_000)
    }
    throw LoadError.io("nothing listens on \(port)")
}

func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// `cqrs-bench mcp BANK_BINARY PYTHON FASTMCP_SCRIPT [SECONDS]`: both servers, both transports, 1 and 16 clients.
func mcpBenchmark(bank: String, python: String, script: String, seconds: Double) throws {
    print("| server | transport | clients | calls/s | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    func report(_ server: String, _ transport: String, _ clients: Int, _ result: LoadResult) {
        print(String(format: "| %@ | %@ | %d | %.0f | %.3f | %.3f |", server, transport, clients, result.perSecond,
                     result.percentile(0.5) * 1000, result.percentile(0.99) * 1000))
    }
    let servers: [(String, [String], (Int) -> [String])] = [
        ("swift-cqrs bank (memory store)", bankStdioCommand(bank), { bankHTTPCommand(bank, port: $0) }),
        ("Python FastMCP 4.2.3 (dict)", [python, script, "stdio"], { [python, script, "http", "\($0)"] }),
    ]
    for (name, stdioCommand, httpCommand) in servers {
        for clients in [1, 16] {
            report(name, "stdio", clients, try stdioLoad(command: stdioCommand, window: clients, seconds: seconds))
        }
        let port = freePort()
        try withHTTPServer(httpCommand(port), port: port) {
            for clients in [1, 16] {
                report(name, "HTTP", clients, try httpLoad(port: port, clients: clients, seconds: seconds))
            }
        }
    }
}
