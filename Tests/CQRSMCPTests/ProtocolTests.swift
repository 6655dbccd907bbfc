import CQRSMCP
import MCPEchoProvider
import CQRSSchema
import Foundation
import Testing

let modernMeta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}"#

struct Harness {
    let provider: EchoProvider
    let server: MCPServer
    let session = MCPSession()

    init(fillerCount: Int = 0, options: MCPServer.Options = MCPServer.Options()) {
        provider = EchoProvider(fillerCount: fillerCount)
        server = MCPServer(
            info: .init(name: "echo", version: "1.0.0", title: "Echo Server", instructions: "Use echo."), provider: provider,
            options: options)
    }

    /// Sends raw text; returns the raw reply text, or nil when there is none.
    func raw(_ text: String, session: MCPSession?? = nil) async -> String? {
        let reply = await server.handle(Array(text.utf8), session: session ?? self.session)
        return reply.map { String(decoding: $0, as: UTF8.self) }
    }

    func send(_ text: String, session: MCPSession?? = nil) async throws -> JSONValue {
        let reply = try #require(await raw(text, session: session))
        return try JSONValue.parse(reply)
    }

    @discardableResult
    func initialize(version: String = "2025-11-25") async throws -> JSONValue {
        let reply = try await send(
            #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"\#(version)","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
        )
        #expect(await raw(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) == nil)
        return reply
    }
}

func errorCode(_ reply: JSONValue) -> Int? { reply["error"]?["code"]?.intValue }

@Suite("JSON-RPC framing")
struct JSONRPCTests {
    @Test func parseErrorHasNullID() async throws {
        let harness = Harness()
        let reply = try #require(await harness.raw(#"{"jsonrpc":"2.0","id":1,"method":"#))
        let value = try JSONValue.parse(reply)
        #expect(errorCode(value) == -32700)
        #expect(value["id"] == .null)
        #expect(reply.contains(#""id":null"#))
    }

    @Test(arguments: [
        #"{"jsonrpc":"1.0","id":1,"method":"ping"}"#,
        #"{"id":1,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        #"{"jsonrpc":"2.0","id":1}"#,
        #"{"jsonrpc":"2.0","id":1,"method":7}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}"#,
        #"5"#,
        #""ping""#,
        #"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
        #"[]"#,
    ])
    func invalidRequests(_ text: String) async throws {
        let harness = Harness()
        let reply = try await harness.send(text)
        #expect(errorCode(reply) == -32600, "\(text)")
        #expect(reply["jsonrpc"] == "2.0")
    }

    @Test func nullIDAndBadIDTypesAnswerWithNullID() async throws {
        let harness = Harness()
        for text in [#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, #"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#] {
            let reply = try await harness.send(text)
            #expect(reply["id"] == .null)
        }
    }

    @Test func duplicateKeysAndDeepNestingAreRejected() async throws {
        let harness = Harness()
        let duplicate = try await harness.send(#"{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}"#)
        #expect(errorCode(duplicate) == -32700)
        #expect(duplicate["id"] == .null)
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        let nested = try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":\#(deep)}}"#)
        #expect(errorCode(nested) == -32700)
    }

    @Test func idsAreEchoedByteForByte() async throws {
        let harness = Harness()
        for id in [#""abc""#, #""a\"b\u00e9\n""#, "0", "-7", "123456789012345678901234567890", #""""#, "9007199254740993"] {
            let reply = try #require(await harness.raw(#"{"jsonrpc":"2.0","id":\#(id),"method":"ping"}"#))
            #expect(reply == #"{"jsonrpc":"2.0","id":\#(id),"result":{}}"#)
        }
    }

    @Test func notificationsAndResponsesGetNoReply() async throws {
        let harness = Harness()
        try await harness.initialize()
        #expect(await harness.raw(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#) == nil)
        #expect(await harness.raw(#"{"jsonrpc":"2.0","method":"notifications/unknown","params":{}}"#) == nil)
        #expect(await harness.raw(#"{"jsonrpc":"2.0","method":"tools/list"}"#) == nil)
        #expect(await harness.raw(#"{"jsonrpc":"2.0","id":5,"result":{}}"#) == nil)
        #expect(await harness.raw(#"{"jsonrpc":"2.0","id":5,"error":{"code":1,"message":"x"}}"#) == nil)
    }

    @Test func unknownMethod() async throws {
        let harness = Harness()
        try await harness.initialize()
        let reply = try await harness.send(#"{"jsonrpc":"2.0","id":"u","method":"prompts/list"}"#)
        #expect(errorCode(reply) == -32601)
        #expect(reply["id"] == "u")
    }

    @Test(arguments: [
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":7}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":[1]}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":"x"}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope","arguments":{}}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[1]}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"not-a-cursor"}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":7}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"resources/list","params":{"cursor":"abc"}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/x"},"argument":{"name":"a","value":""}}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"loud"}}"#,
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
    ])
    func invalidParams(_ text: String) async throws {
        let harness = Harness()
        if !text.contains("initialize") { try await harness.initialize() }
        let reply = try await harness.send(text)
        #expect(errorCode(reply) == -32602, "\(text)")
        #expect(reply["id"] == 1)
    }

    @Test func internalErrorsHideDetails() async throws {
        let harness = Harness()
        try await harness.initialize()
        let reply = try #require(await harness.raw(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fail"}}"#))
        let value = try JSONValue.parse(reply)
        #expect(errorCode(value) == -32603)
        #expect(value["error"]?["message"] == "Internal error")
        #expect(!reply.contains("secret"))
        #expect(!reply.contains("SecretFault"))
    }

    @Test func toolResults() async throws {
        let harness = Harness()
        try await harness.initialize()
        let ok = try await harness.send(
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#)
        #expect(ok["result"]?["content"] == [["type": "text", "text": "hi"]])
        #expect(ok["result"]?["structuredContent"] == ["text": "hi"])
        #expect(ok["result"]?["isError"] == false)
        #expect(ok["result"]?["resultType"] == nil)
        let failed = try await harness.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"domain_error"}}"#)
        #expect(failed["result"]?["isError"] == true)
        #expect(failed["result"]?["content"]?.arrayValue?.first?["text"] == "Account not found")
    }

    @Test func dataURLAndOneMebibyteStringRoundTripByteForByte() async throws {
        let harness = Harness()
        try await harness.initialize()
        var big = ""
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzé€😀\\\"\n\t")
        var generator = SystemRandomNumberGenerator()
        while big.utf8.count < 1 << 20 { big.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
        for text in ["data:text/plain;base64,SGk=", "data:,Hello%2C%20World", big] {
            let literal = JSONValue.string(text).serialized()
            let reply = try #require(
                await harness.raw(
                    #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":\#(literal)}}}"#))
            let value = try JSONValue.parse(reply)
            #expect(value["result"]?["structuredContent"]?["text"]?.stringValue == text)
            #expect(value["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue == text)
            #expect(reply.contains(literal))
        }
    }
}

@Suite("Lifecycle and eras")
struct LifecycleTests {
    @Test func legacyNegotiation() async throws {
        for (requested, answered) in [
            ("2025-06-18", "2025-06-18"), ("2025-03-26", "2025-03-26"), ("2025-11-25", "2025-11-25"), ("2030-01-01", "2025-11-25"),
            ("2026-07-28", "2025-11-25"), ("2024-11-05", "2025-11-25"),
        ] {
            let harness = Harness()
            let reply = try await harness.initialize(version: requested)
            #expect(reply["result"]?["protocolVersion"]?.stringValue == answered)
            #expect(reply["result"]?["serverInfo"]?["name"] == "echo")
            #expect(reply["result"]?["instructions"] == "Use echo.")
            let capabilities = try #require(reply["result"]?["capabilities"]?.objectValue)
            #expect(capabilities["tools"] != nil && capabilities["resources"] != nil && capabilities["completions"] != nil)
            #expect(harness.session.negotiatedVersion == answered)
        }
    }

    @Test func requestsBeforeInitializeAreRejectedExceptPing() async throws {
        let harness = Harness()
        let list = try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(errorCode(list) == -32600)
        let ping = try await harness.send(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        #expect(ping["result"] == [:])
        try await harness.initialize()
        let again = try await harness.send(
            #"{"jsonrpc":"2.0","id":3,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{}}}"#)
        #expect(errorCode(again) == -32600)
        let listed = try await harness.send(#"{"jsonrpc":"2.0","id":4,"method":"tools/list"}"#)
        #expect(listed["result"]?["tools"]?.arrayValue?.count == 4)
    }

    @Test func revision20250326OmitsNewerFields() async throws {
        let harness = Harness()
        try await harness.initialize(version: "2025-03-26")
        let listed = try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        let echo = try #require(listed["result"]?["tools"]?.arrayValue?.first)
        #expect(echo["outputSchema"] == nil && echo["title"] == nil)
        #expect(echo["annotations"]?["readOnlyHint"] == true)
        let newer = Harness()
        try await newer.initialize(version: "2025-06-18")
        let listed2 = try await newer.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(listed2["result"]?["tools"]?.arrayValue?.first?["outputSchema"] != nil)
    }

    @Test func modernDiscoverAndStatelessRequests() async throws {
        let harness = Harness()
        let discover = try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(modernMeta)}}"#)
        let result = try #require(discover["result"])
        #expect(result["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
        #expect(result["resultType"] == "complete")
        #expect(result["ttlMs"]?.intValue != nil && result["cacheScope"] != nil)
        #expect(result["capabilities"]?["tools"] != nil && result["capabilities"]?["logging"] == nil)
        #expect(result["instructions"] == "Use echo.")
        #expect(result["_meta"]?["io.modelcontextprotocol/serverInfo"]?["name"] == "echo")
        // No initialize needed, and no session state is created.
        let listed = try await harness.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{\#(modernMeta)}}"#)
        #expect(listed["result"]?["tools"]?.arrayValue?.count == 4)
        #expect(listed["result"]?["resultType"] == "complete")
        let called = try await harness.send(
            #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"whoami","arguments":{},\#(modernMeta)}}"#, session: .some(nil))
        #expect(called["result"]?["structuredContent"]?["version"] == "2026-07-28")
        #expect(called["result"]?["resultType"] == "complete")
        #expect(!harness.session.isInitialized)
        // Removed in 2026-07-28.
        let ping = try await harness.send(#"{"jsonrpc":"2.0","id":4,"method":"ping","params":{\#(modernMeta)}}"#)
        #expect(errorCode(ping) == -32601)
        // Resource not found is -32602 in 2026-07-28, -32002 before.
        let missing = try await harness.send(
            #"{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"nope://x",\#(modernMeta)}}"#)
        #expect(errorCode(missing) == -32602)
        try await harness.initialize()
        let legacyMissing = try await harness.send(#"{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"nope://x"}}"#)
        #expect(errorCode(legacyMissing) == -32002)
    }

    @Test func unsupportedModernVersion() async throws {
        let harness = Harness()
        let reply = try await harness.send(
            #"{"jsonrpc":"2.0","id":9,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"1999-01-01"}}}"#)
        #expect(errorCode(reply) == -32022)
        #expect(reply["error"]?["data"]?["requested"] == "1999-01-01")
        #expect(reply["error"]?["data"]?["supported"]?.arrayValue?.contains("2026-07-28") == true)
        #expect(reply["id"] == 9)
    }

    @Test func discoverThenFallbackToInitialize() async throws {
        // A dual-era client probing a legacy-only server: discover fails, initialize works.
        let legacyOnly = Harness(options: MCPServer.Options(modernEnabled: false))
        let probe = try await legacyOnly.send(#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(modernMeta)}}"#)
        #expect(errorCode(probe) == -32601)
        let initialized = try await legacyOnly.initialize()
        #expect(initialized["result"]?["protocolVersion"] == "2025-11-25")
        // Against this dual-era server the same client may also discover, then still initialize.
        let dual = Harness()
        let discovered = try await dual.send(#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(modernMeta)}}"#)
        #expect(discovered["result"] != nil)
        let legacy = try await dual.initialize()
        #expect(legacy["result"]?["protocolVersion"] == "2025-11-25")
        let listed = try await dual.send(#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        #expect(listed["result"]?["resultType"] == nil)
    }

    @Test func pingLoggingAndCompletion() async throws {
        let harness = Harness()
        try await harness.initialize()
        #expect(try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"logging/setLevel","params":{"level":"debug"}}"#)["result"] == [:])
        let completion = try await harness.send(
            #"{"jsonrpc":"2.0","id":2,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"echo://{id}"},"argument":{"name":"id","value":"b"}}}"#
        )
        #expect(completion["result"]?["completion"]?["values"] == ["beta"])
        let many = try await harness.send(
            #"{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"id","value":"many"}}}"#
        )
        #expect(many["result"]?["completion"]?["values"]?.arrayValue?.count == 100)
        #expect(many["result"]?["completion"]?["hasMore"] == true)
        #expect(many["result"]?["completion"]?["total"] == 150)
        let templates = try await harness.send(#"{"jsonrpc":"2.0","id":4,"method":"resources/templates/list"}"#)
        #expect(templates["result"]?["resourceTemplates"]?.arrayValue?.first?["uriTemplate"] == "echo://{id}")
        let resources = try await harness.send(#"{"jsonrpc":"2.0","id":5,"method":"resources/list"}"#)
        #expect(resources["result"]?["resources"] == [])
        let read = try await harness.send(#"{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"echo://42"}}"#)
        #expect(read["result"]?["contents"] == [["uri": "echo://42", "mimeType": "text/plain", "text": "42"]])
    }
}

@Suite("Pagination and cancellation")
struct PaginationTests {
    @Test func defaultPageHoldsAFewDozenTools() async throws {
        let harness = Harness(fillerCount: 40)
        try await harness.initialize()
        let reply = try await harness.send(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        #expect(reply["result"]?["tools"]?.arrayValue?.count == 44)
        #expect(reply["result"]?["nextCursor"] == nil)
    }

    @Test func cursorsWalkEveryToolInStableOrder() async throws {
        let harness = Harness(fillerCount: 246, options: MCPServer.Options(pageSize: 100))
        try await harness.initialize()
        var names: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let params = cursor.map { #","params":{"cursor":"\#($0)"}"# } ?? ""
            let reply = try await harness.send(#"{"jsonrpc":"2.0","id":\#(pages),"method":"tools/list"\#(params)}"#)
            names += try #require(reply["result"]?["tools"]?.arrayValue).compactMap { $0["name"]?.stringValue }
            cursor = reply["result"]?["nextCursor"]?.stringValue
            pages += 1
        } while cursor != nil
        #expect(pages == 3)
        #expect(names == harness.provider.tools.map(\.name))
        // Opaque cursors of one list are not valid for another, nor past the end.
        let templatesCursor = try await harness.send(
            #"{"jsonrpc":"2.0","id":9,"method":"resources/templates/list","params":{"cursor":"bWNwMTp0b29sczoxMDA="}}"#)
        #expect(errorCode(templatesCursor) == -32602)
        let pastEnd = try await harness.send(
            #"{"jsonrpc":"2.0","id":10,"method":"tools/list","params":{"cursor":"bWNwMTp0b29sczo5OTk="}}"#)
        #expect(errorCode(pastEnd) == -32602)
    }

    @Test func cancelledRequestsStopAndGetNoReply() async throws {
        let harness = Harness()
        try await harness.initialize()
        async let reply = harness.raw(
            #"{"jsonrpc":"2.0","id":"slow-1","method":"tools/call","params":{"name":"slow","arguments":{"ms":10000}}}"#)
        try await waitUntil { harness.provider.recorded.contains("slow-start:slow-1") }
        // A slow call does not block others.
        #expect(try await harness.send(#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)["result"] == [:])
        #expect(
            await harness.raw(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow-1","reason":"t"}}"#)
                == nil)
        #expect(await reply == nil)
        #expect(harness.provider.recorded.contains("slow-cancelled:slow-1"))
        #expect(harness.session.inFlightCount == 0)
        // The session stays usable.
        #expect(try await harness.send(#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#)["result"] == [:])
    }

    @Test func duplicateInFlightIDIsRejected() async throws {
        let harness = Harness()
        try await harness.initialize()
        async let first = harness.raw(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"slow","arguments":{"ms":300}}}"#)
        try await waitUntil { harness.provider.recorded.contains("slow-start:7") }
        let second = try await harness.send(#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
        #expect(errorCode(second) == -32600)
        #expect(await first?.contains(#""slept":300"#) == true)
    }
}

func waitUntil(timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw CancellationError() }
        try await Task.sleep(for: .milliseconds(5))
    }
}
