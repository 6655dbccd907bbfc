import CQRSHTTP
import CQRSMCP
import MCPEchoProvider
import CQRSSchema
import Foundation
import Hummingbird
import Logging
import Testing

let jsonAndSSE = ("Accept", "application/json, text/event-stream")
let jsonType = ("Content-Type", "application/json")
let initializeBody =
    #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

/// A live server on 127.0.0.1 and a random port, for one test.
struct LiveServer {
    let port: Int
    let transport: MCPHTTPTransport
    let provider: EchoProvider

    static func with(
        options: MCPHTTPOptions = MCPHTTPOptions(), serverOptions: MCPServer.Options = MCPServer.Options(),
        _ body: @Sendable (LiveServer) async throws -> Void
    ) async throws {
        let provider = EchoProvider()
        let server = MCPServer(info: .init(name: "echo", version: "1"), provider: provider, options: serverOptions)
        var quiet = Logger(label: "test.http")
        quiet.logLevel = .critical  // cancelling the server at the end of a test logs at error level
        let transport = MCPHTTPTransport(server: server, options: options, logger: quiet)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = transport.makeApplication(host: "127.0.0.1", port: 0) { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A server that fails to start ends the port stream, so the test fails instead of waiting.
                defer { continuation.finish() }
                try await app.run()
            }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            try await body(LiveServer(port: port, transport: transport, provider: provider))
            group.cancelAll()
        }
    }

    func post(_ body: String, session: String? = nil, headers: [(String, String)] = [jsonAndSSE, jsonType]) async throws
        -> RawHTTPResponse
    {
        var all = headers
        if let session { all.append(("Mcp-Session-Id", session)) }
        return try await RawHTTP.send(port: port, method: "POST", headers: all, body: Array(body.utf8))
    }

    /// initialize + notifications/initialized; returns the session id.
    func openSession() async throws -> String {
        let reply = try await post(initializeBody)
        #expect(reply.status == 200)
        let session = try #require(reply.header("Mcp-Session-Id"))
        let notified = try await post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, session: session)
        #expect(notified.status == 202)
        #expect(notified.body.isEmpty)
        return session
    }
}

func json(_ response: RawHTTPResponse) throws -> JSONValue { try JSONValue.parse(response.body) }

@Suite("Streamable HTTP")
struct HTTPTests {
    @Test func legacySessionLifecycleJSONAndSSE() async throws {
        try await LiveServer.with { live in
            let initialized = try await live.post(initializeBody)
            #expect(initialized.status == 200)
            #expect(initialized.header("Content-Type") == "application/json")
            let session = try #require(initialized.header("Mcp-Session-Id"))
            #expect(session.count == 64 && session.allSatisfy(\.isHexDigit))
            #expect(try json(initialized)["result"]?["protocolVersion"] == "2025-11-25")
            #expect(try await live.post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, session: session).status == 202)
            // A response from the client is also acknowledged with 202.
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":"s1","result":{}}"#, session: session).status == 202)

            let listed = try await live.post(
                #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#, session: session,
                headers: [jsonAndSSE, jsonType, ("MCP-Protocol-Version", "2025-11-25")])
            #expect(listed.status == 200)
            #expect(try json(listed)["result"]?["tools"]?.arrayValue?.count == 4)

            // SSE when the client accepts only SSE.
            let streamed = try await live.post(
                #"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, session: session, headers: [("Accept", "text/event-stream"), jsonType])
            #expect(streamed.status == 200)
            #expect(streamed.header("Content-Type") == "text/event-stream")
            #expect(streamed.text == "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n\n")

            // DELETE ends the session; afterwards it is unknown (404).
            let deleted = try await RawHTTP.send(port: live.port, method: "DELETE", headers: [("Mcp-Session-Id", session)])
            #expect(deleted.status == 200)
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, session: session).status == 404)
            #expect(try await RawHTTP.send(port: live.port, method: "DELETE", headers: [("Mcp-Session-Id", session)]).status == 404)
            #expect(try await RawHTTP.send(port: live.port, method: "DELETE").status == 400)
            #expect(live.transport.sessionCount == 0)
        }
    }

    @Test func sseByPreference() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(responseMode: .sse)) { live in
            let reply = try await live.post(initializeBody)
            #expect(reply.header("Content-Type") == "text/event-stream")
            #expect(reply.header("Mcp-Session-Id") != nil)
            #expect(reply.text.hasPrefix("event: message\ndata: {"))
            #expect(reply.text.hasSuffix("}\n\n"))
        }
    }

    @Test func sessionErrors() async throws {
        try await LiveServer.with { live in
            let missing = try await live.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
            #expect(missing.status == 400)
            #expect(try json(missing)["id"] == 1)
            let unknown = try await live.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#, session: "nope")
            #expect(unknown.status == 404)
            let session = try await live.openSession()
            let badVersion = try await live.post(
                #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, session: session,
                headers: [jsonAndSSE, jsonType, ("MCP-Protocol-Version", "1999-01-01")])
            #expect(badVersion.status == 400)
            let get = try await RawHTTP.send(port: live.port, method: "GET", headers: [("Accept", "text/event-stream")])
            #expect(get.status == 405)
            #expect(get.header("Allow") == "GET, POST, DELETE")
        }
    }

    @Test func malformedBodies() async throws {
        try await LiveServer.with { live in
            let parse = try await live.post("{nope")
            #expect(parse.status == 400)
            #expect(try json(parse)["error"]?["code"] == -32700)
            #expect(try json(parse)["id"] == .null)
            let batch = try await live.post("[" + initializeBody + "]")
            #expect(batch.status == 400)
            #expect(try json(batch)["error"]?["code"] == -32600)
            let duplicate = try await live.post(#"{"jsonrpc":"2.0","id":1,"id":1,"method":"ping"}"#)
            #expect(duplicate.status == 400)
        }
    }

    @Test func headerChecks() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(maxBodyBytes: 4096)) { live in
            let wrongType = try await live.post(initializeBody, headers: [jsonAndSSE, ("Content-Type", "text/plain")])
            #expect(wrongType.status == 415)
            let noType = try await live.post(initializeBody, headers: [jsonAndSSE])
            #expect(noType.status == 415)
            let charset = try await live.post(initializeBody, headers: [jsonAndSSE, ("Content-Type", "application/json; charset=utf-8")])
            #expect(charset.status == 200)
            let wrongAccept = try await live.post(initializeBody, headers: [("Accept", "text/html"), jsonType])
            #expect(wrongAccept.status == 406)
            let noAccept = try await live.post(initializeBody, headers: [jsonType])
            #expect(noAccept.status == 406)
            let big = Array(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 10_000)
                + Array(#""}}"#.utf8)
            let declared = try await RawHTTP.send(port: live.port, method: "POST", headers: [jsonAndSSE, jsonType], body: big)
            #expect(declared.status == 413)
            let streamed = try await RawHTTP.send(port: live.port, method: "POST", headers: [jsonAndSSE, jsonType], body: big, chunked: true)
            #expect(streamed.status == 413)
        }
    }

    @Test func originValidation() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(allowedOrigins: ["https://app.example.com"])) { live in
            let foreign = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Origin", "https://evil.example")])
            #expect(foreign.status == 403)
            #expect(try json(foreign)["error"] != nil)
            let sneaky = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Origin", "http://localhost.evil.example")])
            #expect(sneaky.status == 403)
            for origin in ["http://localhost:5173", "http://127.0.0.1", "https://APP.example.com", "http://[::1]:8080"] {
                let allowed = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Origin", origin)])
                #expect(allowed.status == 200, "\(origin)")
            }
            let deleteForeign = try await RawHTTP.send(
                port: live.port, method: "DELETE", headers: [("Origin", "https://evil.example"), ("Mcp-Session-Id", "x")])
            #expect(deleteForeign.status == 403)
        }
    }

    /// DNS rebinding: a loopback server restricted to loopback host names refuses any other `Host`,
    /// with or without an `Origin`.
    @Test func hostValidation() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(allowedHosts: MCPHTTPOptions.loopbackHosts)) { live in
            let body = Array(initializeBody.utf8)
            let headers = [jsonAndSSE, jsonType]
            for host in ["evil.example", "evil.example:\(live.port)", "localhost.evil.example", "127.0.0.2"] {
                let refused = try await RawHTTP.send(port: live.port, method: "POST", headers: headers, body: body, host: host)
                #expect(refused.status == 403, "\(host)")
            }
            for host in ["localhost:\(live.port)", "127.0.0.1:\(live.port)", "[::1]:\(live.port)", "LOCALHOST"] {
                let served = try await RawHTTP.send(port: live.port, method: "POST", headers: headers, body: body, host: host)
                #expect(served.status == 200, "\(host)")
            }
        }
    }

    @Test func bearerToken() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(bearerToken: "s3cret-token")) { live in
            let missing = try await live.post(initializeBody)
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            let wrong = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Authorization", "Bearer s3cret-tokex")])
            #expect(wrong.status == 401)
            #expect(wrong.header("WWW-Authenticate")?.contains("invalid_token") == true)
            let short = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Authorization", "Bearer s3cret")])
            #expect(short.status == 401)
            let right = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, ("Authorization", "Bearer s3cret-token")])
            #expect(right.status == 200)
            let session = try #require(right.header("Mcp-Session-Id"))
            let unauthenticatedDelete = try await RawHTTP.send(port: live.port, method: "DELETE", headers: [("Mcp-Session-Id", session)])
            #expect(unauthenticatedDelete.status == 401)
        }
    }

    @Test func principalFromAuthenticator() async throws {
        let options = MCPHTTPOptions(authenticate: { token in token == "alice-token" ? "alice" : nil })
        try await LiveServer.with(options: options) { live in
            let auth = ("Authorization", "Bearer alice-token")
            let opened = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, auth])
            let session = try #require(opened.header("Mcp-Session-Id"))
            let called = try await live.post(
                #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami"}}"#, session: session,
                headers: [jsonAndSSE, jsonType, auth])
            let structured = try json(called)["result"]?["structuredContent"]
            #expect(structured?["user"] == "alice")
            #expect(structured?["session"]?.stringValue == session)
        }
        // Issue 9.1: a session is bound to the principal that opened it.
        let both = MCPHTTPOptions(authenticate: { ["alice-token": "alice", "bob-token": "bob"][$0] })
        try await LiveServer.with(options: both) { live in
            let alice = ("Authorization", "Bearer alice-token"), bob = ("Authorization", "Bearer bob-token")
            let opened = try await live.post(initializeBody, headers: [jsonAndSSE, jsonType, alice])
            let session = try #require(opened.header("Mcp-Session-Id"))
            let ping = #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#
            #expect(try await live.post(ping, session: session, headers: [jsonAndSSE, jsonType, bob]).status == 404)
            let deleted = try await RawHTTP.send(
                port: live.port, method: "DELETE", headers: [("Mcp-Session-Id", session), bob])
            #expect(deleted.status == 404)
            #expect(try await live.post(ping, session: session, headers: [jsonAndSSE, jsonType, alice]).status == 200)
        }
    }

    @Test func sessionsExpireWhenIdle() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(sessionIdleTimeout: .seconds(2))) { live in
            let session = try await live.openSession()
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, session: session).status == 200)
            try await Task.sleep(for: .seconds(4))
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, session: session).status == 404)
            #expect(live.transport.sessionCount == 0)
        }
    }

    /// Issue 9.2: at the cap, the least recently used idle session makes room (abandoned sessions
    /// used to lock every newcomer out with 503).
    @Test func sessionCapacityEvictsTheLeastRecentlyUsed() async throws {
        try await LiveServer.with(options: MCPHTTPOptions(maxSessions: 2)) { live in
            let first = try await live.openSession()
            let second = try await live.openSession()
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#, session: first).status == 200)
            let third = try await live.openSession()
            #expect(live.transport.sessionCount == 2)
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#, session: second).status == 404)
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#, session: first).status == 200)
            #expect(try await live.post(#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#, session: third).status == 200)
        }
    }

    @Test func concurrentCallsWithinAndAcrossSessions() async throws {
        try await LiveServer.with { live in
            let sessions = [try await live.openSession(), try await live.openSession(), try await live.openSession()]
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<24 {
                    let session = sessions[index % sessions.count]
                    group.addTask {
                        let reply = try await live.post(
                            #"{"jsonrpc":"2.0","id":\#(index),"method":"tools/call","params":{"name":"slow","arguments":{"ms":400}}}"#,
                            session: session)
                        let value = try json(reply)
                        return reply.status == 200 && value["id"] == .int(index) && value["result"]?["structuredContent"]?["slept"] == 400
                    }
                }
                for try await ok in group { #expect(ok) }
            }
            // The calls overlapped: more were in flight at once than there are sessions.
            var inFlight = 0
            var most = 0
            for entry in live.provider.recorded {
                if entry.hasPrefix("slow-start:") { inFlight += 1 } else if entry.hasPrefix("slow-end:") { inFlight -= 1 }
                most = max(most, inFlight)
            }
            #expect(most > sessions.count, "at most \(most) calls ran at once")
        }
    }

    @Test func cancellationOverLegacyHTTP() async throws {
        try await LiveServer.with { live in
            let session = try await live.openSession()
            async let slow = live.post(
                #"{"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"slow","arguments":{"ms":20000}}}"#, session: session)
            try await waitFor { live.provider.recorded.contains("slow-start:c1") }
            let cancel = try await live.post(
                #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"c1"}}"#, session: session)
            #expect(cancel.status == 202)
            let reply = try await slow
            #expect(reply.status == 204)
            #expect(live.provider.recorded.contains("slow-cancelled:c1"))
        }
    }
}

@Suite("Streamable HTTP 2026-07-28")
struct ModernHTTPTests {
    static let meta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

    func headers(method: String, name: String? = nil, version: String = "2026-07-28") -> [(String, String)] {
        var all = [jsonAndSSE, jsonType, ("MCP-Protocol-Version", version), ("Mcp-Method", method)]
        if let name { all.append(("Mcp-Name", name)) }
        return all
    }

    @Test func sessionlessRequests() async throws {
        try await LiveServer.with { live in
            let discover = try await live.post(
                #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(Self.meta)}}"#, headers: headers(method: "server/discover"))
            #expect(discover.status == 200)
            #expect(discover.header("Mcp-Session-Id") == nil)
            #expect(try json(discover)["result"]?["supportedVersions"]?.arrayValue?.first == "2026-07-28")
            let call = try await live.post(
                #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hé"},\#(Self.meta)}}"#,
                headers: headers(method: "tools/call", name: "echo"))
            #expect(call.status == 200)
            #expect(try json(call)["result"]?["resultType"] == "complete")
            #expect(try json(call)["result"]?["structuredContent"]?["text"] == "hé")
            // Base64 sentinel form of Mcp-Name.
            let encoded = "=?base64?" + Data("echo".utf8).base64EncodedString() + "?="
            let call2 = try await live.post(
                #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},\#(Self.meta)}}"#,
                headers: headers(method: "tools/call", name: encoded))
            #expect(call2.status == 200)
            // SSE works too.
            let sse = try await live.post(
                #"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{\#(Self.meta)}}"#,
                headers: [("Accept", "text/event-stream"), jsonType, ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/list")])
            #expect(sse.header("Content-Type") == "text/event-stream")
            // A notification from a sessionless client is accepted.
            let note = try await live.post(
                #"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}"#,
                headers: headers(method: "notifications/cancelled"))
            #expect(note.status == 202)
            #expect(live.transport.sessionCount == 0)
        }
    }

    @Test func headerMismatchAndVersionErrors() async throws {
        try await LiveServer.with { live in
            let body = #"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},\#(Self.meta)}}"#
            for bad in [
                [jsonAndSSE, jsonType, ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Name", "echo")],
                headers(method: "tools/list", name: "echo"),
                headers(method: "tools/call"),
                headers(method: "tools/call", name: "other"),
                headers(method: "tools/call", name: "echo", version: "2025-11-25"),
                [jsonAndSSE, jsonType, ("Mcp-Method", "tools/call"), ("Mcp-Name", "echo")],
            ] {
                let reply = try await live.post(body, headers: bad)
                #expect(reply.status == 400)
                #expect(try json(reply)["error"]?["code"] == -32020)
            }
            let noMeta = try await live.post(
                #"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#, headers: headers(method: "tools/list"))
            #expect(noMeta.status == 400)
            #expect(try json(noMeta)["error"]?["code"] == -32020)
            let unsupported = try await live.post(
                #"{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01"}}}"#,
                headers: headers(method: "tools/list", version: "1999-01-01"))
            #expect(unsupported.status == 400)
            #expect(try json(unsupported)["error"]?["code"] == -32022)
            #expect(try json(unsupported)["error"]?["data"]?["supported"]?.arrayValue?.contains("2026-07-28") == true)
            let unknown = try await live.post(
                #"{"jsonrpc":"2.0","id":7,"method":"prompts/list","params":{\#(Self.meta)}}"#, headers: headers(method: "prompts/list"))
            #expect(unknown.status == 404)
            #expect(try json(unknown)["error"]?["code"] == -32601)
        }
    }

    @Test func legacyOnlyServerMakesDualEraClientsFallBack() async throws {
        try await LiveServer.with(serverOptions: MCPServer.Options(modernEnabled: false)) { live in
            let probe = try await live.post(
                #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(Self.meta)}}"#, headers: headers(method: "server/discover"))
            #expect(probe.status == 400)
            let code = try json(probe)["error"]?["code"]?.intValue
            #expect(code != -32020 && code != -32021 && code != -32022)
            _ = try await live.openSession()
        }
    }
}

func waitFor(timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw CancellationError() }
        try await Task.sleep(for: .milliseconds(5))
    }
}
