import CQRSMCP
import MCPEchoProvider
import CQRSSchema
import Dispatch
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Drives an ``MCPStdioTransport`` over two pipes, as a client process would.
final class PipeClient: Sendable {
    let toServer: Int32
    let fromServer: Int32
    let serverInput: Int32
    let serverOutput: Int32
    let lines: AsyncStream<String>
    private let writeQueue = DispatchQueue(label: "pipe-client-writer")

    /// - Parameter slowReads: read 4 KiB at a time with a pause after each (a client that lags).
    init(slowReads: Bool = false) {
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        _ = pipe(&input)
        _ = pipe(&output)
        serverInput = input[0]
        toServer = input[1]
        fromServer = output[0]
        serverOutput = output[1]
        let (stream, continuation) = AsyncStream<String>.makeStream()
        lines = stream
        let fd = fromServer
        let thread = Thread {
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: slowReads ? 4096 : 65536)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                if slowReads { usleep(200) }
                for byte in buffer[0..<count] {
                    if byte == 0x0A {
                        continuation.yield(String(decoding: pending, as: UTF8.self))
                        pending.removeAll(keepingCapacity: true)
                    } else {
                        pending.append(byte)
                    }
                }
            }
            continuation.finish()
        }
        thread.start()
    }

    func send(_ text: String) async {
        let bytes = Array(text.utf8)
        let fd = toServer
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writeQueue.async {
                bytes.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if written <= 0 { break }
                        offset += written
                    }
                }
                done.resume()
            }
        }
    }

    func closeInput() async {
        let fd = toServer
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writeQueue.async {
                close(fd)
                done.resume()
            }
        }
    }
}

@Suite("stdio transport")
struct StdioTests {
    let provider = EchoProvider()

    func start(slowReads: Bool = false) -> (PipeClient, MCPStdioTransport, Task<Void, Never>) {
        let client = PipeClient(slowReads: slowReads)
        let server = MCPServer(info: .init(name: "echo", version: "1"), provider: provider)
        let transport = MCPStdioTransport(server: server, input: client.serverInput, output: client.serverOutput)
        let output = client.serverOutput
        let input = client.serverInput
        let task = Task {
            await transport.run()
            close(output)
            close(input)
        }
        return (client, transport, task)
    }

    @Test func servesMalformedLinesConcurrencyAndEOF() async throws {
        let (client, _, task) = start()
        var replies = client.lines.makeAsyncIterator()
        await client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
                + "\n")
        let initialized = try JSONValue.parse(try #require(await replies.next()))
        #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
        await client.send(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"# + "\n")
        // A malformed line gets -32700 and serving continues.
        await client.send("this is not json\n\n   \n")
        let parseError = try JSONValue.parse(try #require(await replies.next()))
        #expect(parseError["error"]?["code"] == -32700)
        #expect(parseError["id"] == .null)
        // A slow call does not block a later ping; CRLF framing is accepted.
        await client.send(#"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"slow","arguments":{"ms":400}}}"# + "\r\n")
        try await waitUntil { provider.recorded.contains("slow-start:slow") }
        await client.send(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"# + "\n")
        let first = try #require(await replies.next())
        #expect(first == #"{"jsonrpc":"2.0","id":2,"result":{}}"#)
        // End of input while the slow call runs: run() waits for it, and its reply is written.
        await client.send(#"{"jsonrpc":"2.0","id":"slow2","method":"tools/call","params":{"name":"slow","arguments":{"ms":300}}}"# + "\n")
        await client.closeInput()
        var rest: [String] = []
        while let line = await replies.next() { rest.append(line) }
        await task.value
        #expect(rest.count == 2)
        #expect(rest.contains { $0.contains(#""id":"slow""#) && $0.contains(#""slept":400"#) })
        #expect(rest.contains { $0.contains(#""id":"slow2""#) && $0.contains(#""slept":300"#) })
    }

    /// A client that pipes a whole script (initialize, then calls, without waiting for replies) gets
    /// every call served in the initialized session.
    @Test func scriptedClientDoesNotWaitForInitialize() async throws {
        for _ in 0..<20 {
            let (client, _, task) = start()
            var script = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"# + "\n"
            script += #"{"jsonrpc":"2.0","method":"notifications/initialized"}"# + "\n"
            for n in 1...40 {
                script += #"{"jsonrpc":"2.0","id":\#(n),"method":"tools/call","params":{"name":"echo","arguments":{"text":"\#(n)"}}}"# + "\n"
            }
            await client.send(script)
            await client.closeInput()
            var replies: [JSONValue] = []
            for await line in client.lines { replies.append(try JSONValue.parse(line)) }
            await task.value
            #expect(replies.count == 41)
            #expect(replies.allSatisfy { $0["result"] != nil }, "\(replies.filter { $0["result"] == nil })")
        }
    }

    /// Small replies go straight to the pipe when it has room, large ones and those behind them
    /// through the writer's queue: with a client that reads slowly (the pipe fills up, a large
    /// reply is written in pieces as it drains), every line still arrives whole.
    @Test func concurrentRepliesOfMixedSizesArriveWhole() async throws {
        let (client, _, task) = start(slowReads: true)
        var script = #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"# + "\n"
        var expected: [Int: String] = [:]
        for n in 1...600 {
            let text = String(repeating: "abcdefgh".randomElement()!, count: n % 3 == 0 ? 6000 : n % 3 == 1 ? 3900 : 10)
            expected[n] = text
            script += #"{"jsonrpc":"2.0","id":\#(n),"method":"tools/call","params":{"name":"echo","arguments":{"text":"\#(text)"}}}"# + "\n"
        }
        await client.send(script)
        await client.closeInput()
        var texts: [Int: String] = [:]
        for await line in client.lines {
            let reply = try JSONValue.parse(line)
            if let id = reply["id"]?.intValue, id > 0 { texts[id] = reply["result"]?["structuredContent"]?["text"]?.stringValue }
        }
        await task.value
        #expect(texts == expected)
    }

    @Test func oneMebibyteArgumentRoundTrips() async throws {
        let (client, _, task) = start()
        var replies = client.lines.makeAsyncIterator()
        await client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{}}}"# + "\n")
        _ = await replies.next()
        var big = "data:text/plain;base64,"
        let alphabet = Array("ABCxyz0189+/=é😀\\\"\u{2028}")
        var generator = SystemRandomNumberGenerator()
        while big.utf8.count < (1 << 20) + 17 { big.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
        let literal = JSONValue.string(big).serialized()
        await client.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":\#(literal)}}}"# + "\n")
        let reply = try #require(await replies.next())
        let value = try JSONValue.parse(reply)
        #expect(value["result"]?["structuredContent"]?["text"]?.stringValue == big)
        #expect(reply.contains(literal))
        await client.closeInput()
        await task.value
    }

    @Test func cancellationOverStdio() async throws {
        let (client, transport, task) = start()
        var replies = client.lines.makeAsyncIterator()
        await client.send(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"# + "\n")
        _ = await replies.next()
        await client.send(#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"slow","arguments":{"ms":20000}}}"# + "\n")
        try await waitUntil { provider.recorded.contains("slow-start:5") }
        await client.send(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}"# + "\n")
        try await waitUntil { provider.recorded.contains("slow-cancelled:5") }
        await client.send(#"{"jsonrpc":"2.0","id":6,"method":"ping"}"# + "\n")
        #expect(await replies.next() == #"{"jsonrpc":"2.0","id":6,"result":{}}"#)
        #expect(transport.session.inFlightCount == 0)
        await client.closeInput()
        #expect(await replies.next() == nil)
        await task.value
    }
}
