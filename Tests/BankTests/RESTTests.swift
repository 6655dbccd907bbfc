import Bank
import CQRS
import CQRSCatalog
import CQRSHTTP
import CQRSMCP
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The bank's REST routes on a live server (real sockets, HummingbirdTesting's client), over the
/// in-memory store: every route and every error of docs/rest.md.
@Suite("REST API of the bank")
struct RESTTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    /// Runs `body` against a live server of a fresh bank (optionally with a bearer token).
    func withServer(
        token: String? = nil, store: any EventStore = InMemoryEventStore(),
        readiness: @escaping @Sendable () async throws -> Void = {},
        _ body: @Sendable (any TestClientProtocol, BankApp) async throws -> Void
    ) async throws {
        let bank = try BankApp(store: store, storages: .inMemory())
        var quiet = Logger(label: "test.rest")
        quiet.logLevel = .critical
        let server = try CQRSHTTPServer(
            catalog: bank.catalog, server: .init(name: "bank", version: BankApp.version, title: BankApp.title),
            options: MCPHTTPOptions(bearerToken: token), readiness: readiness, logger: quiet)
        try await server.makeApplication(port: 0).test(.live) { client in try await body(client, bank) }
    }

    func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, body: String? = nil,
        headers: HTTPFields = json
    ) async throws -> (status: Int, headers: HTTPFields, json: JSONValue?) {
        try await client.execute(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            let text = String(buffer: response.body)
            return (Int(response.status.code), response.headers, text.isEmpty ? nil : try? JSONValue.parse(text))
        }
    }

    /// Expects a problem document with this status and returns it.
    @discardableResult
    func expectProblem(_ reply: (status: Int, headers: HTTPFields, json: JSONValue?), _ status: Int, sourceLocation: SourceLocation = #_sourceLocation)
        -> JSONValue
    {
        #expect(reply.status == status, "\(reply.json?.serialized() ?? "")", sourceLocation: sourceLocation)
        #expect(reply.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(reply.json?["status"]?.intValue == status, sourceLocation: sourceLocation)
        #expect(reply.json?["requestId"]?.stringValue == reply.headers[RequestIdMiddleware<ServerRequestContext>.header], sourceLocation: sourceLocation)
        return reply.json ?? .null
    }

    func open(_ client: any TestClientProtocol, _ owner: String) async throws -> String {
        let reply = try await send(client, .post, "/accounts/commands/open", body: #"{"owner":"\#(owner)"}"#)
        #expect(reply.status == 201)
        return try #require(reply.json?["id"]?.stringValue)
    }

    @Test func commandsCreateUpdateAndCarryVersions() async throws {
        try await withServer { client, _ in
            let created = try await send(client, .post, "/accounts/commands/open", body: #"{"owner":"ada"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.headers[.location] == "/accounts/\(id)")
            #expect(created.headers[.eTag] == "\"1\"")
            let deposited = try await send(
                client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":500}"#,
                headers: [.contentType: "application/json", .ifMatch: "\"1\""])
            #expect(deposited.status == 200 && deposited.json?["version"] == 2 && deposited.headers[.eTag] == "\"2\"")
            let stale = try await send(
                client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":1}"#,
                headers: [.contentType: "application/json", .ifMatch: "\"1\""])
            #expect(expectProblem(stale, 412)["details"]?["currentVersion"] == 2)
            let malformedTag = try await send(
                client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":1}"#,
                headers: [.contentType: "application/json", .ifMatch: "banana"])
            #expect(expectProblem(malformedTag, 400)["details"]?["parameter"] == "If-Match")

            let key: HTTPFields = [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: "k-1"]
            let first = try await send(client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":7}"#, headers: key)
            let again = try await send(client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":7}"#, headers: key)
            #expect(first.json?["version"] == 3 && again.json?["version"] == 3 && again.json?["replayed"] == true)
            expectProblem(try await send(client, .post, "/accounts/\(id)/commands/deposit", body: #"{"amount":8}"#, headers: key), 422)

            let funds = expectProblem(try await send(client, .post, "/accounts/\(id)/commands/withdraw", body: #"{"amount":100000}"#), 400)
            #expect(funds["code"] == "ACCOUNT_INSUFFICIENT_FUNDS")
            expectProblem(try await send(client, .post, "/accounts/nobody/commands/deposit", body: #"{"amount":1}"#), 404)
        }
    }

    @Test func badBodiesAreClearErrors() async throws {
        try await withServer { client, _ in
            let id = try await open(client, "bo")
            let path = "/accounts/\(id)/commands/deposit"
            expectProblem(try await send(client, .post, path, body: #"{"amount": "#), 400)
            expectProblem(try await send(client, .post, path, body: "amount=5", headers: [.contentType: "text/plain"]), 415)
            let wrong = expectProblem(try await send(client, .post, path, body: #"{"amount":"five","colour":1}"#), 422)
            let pointers = Set(wrong["details"]?["violations"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? [])
            #expect(pointers == ["/amount", "/colour"])
            expectProblem(try await send(client, .post, path, body: #"{"amount":1,"id":"x"}"#), 422)
            expectProblem(try await send(client, .post, path, body: #"{"amount":1e30}"#), 422)
            let huge = "{\"owner\":\"" + String(repeating: "x", count: 5 << 20) + "\"}"
            expectProblem(try await send(client, .post, "/accounts/commands/open", body: huge), 413)
            let closed = try await send(client, .post, "/accounts/\(id)/commands/close", body: nil, headers: [:])
            #expect(closed.status == 200, "a case without fields takes no body")
        }
    }

    @Test func readsListsAndAuditLog() async throws {
        try await withServer { client, _ in
            let ada = try await open(client, "ada")
            let bob = try await open(client, "bob")
            _ = try await send(client, .post, "/accounts/\(ada)/commands/deposit", body: #"{"amount":300}"#)
            let state = try await send(client, .get, "/accounts/\(ada)", headers: [:])
            #expect(state.status == 200 && state.json?["state"]?["balance"] == 300 && state.headers[.eTag] == "\"2\"")
            let unchanged = try await send(client, .get, "/accounts/\(ada)", headers: [.ifNoneMatch: "\"2\""])
            #expect(unchanged.status == 304 && unchanged.json == nil)
            expectProblem(try await send(client, .get, "/accounts/nobody", headers: [:]), 404)

            let rich = try await send(client, .get, "/accounts?filter=state.balance=ge=100", headers: [:])
            #expect(rich.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ada])
            let either = try await send(client, .get, "/accounts?filter=(state.owner==ada,state.owner==bob);state.status==open&sort=-state.owner", headers: [:])
            #expect(either.json?["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [bob, ada])
            let notAda = try await send(client, .get, "/accounts?filter=state.owner=out=(ada)", headers: [:])
            #expect(notAda.json?["total"] == 1)
            let page = try await send(client, .get, "/accounts?sort=state.owner&limit=1", headers: [:])
            let cursor = try #require(page.json?["nextCursor"]?.stringValue)
            let next = try await send(client, .get, "/accounts?sort=state.owner&limit=1&cursor=\(cursor)", headers: [:])
            #expect(next.json?["items"]?.arrayValue?.first?["id"]?.stringValue == bob)
            for (query, parameter) in [
                ("colour=red", "colour"), ("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset"),
                ("filter=state.balance=near=1", "filter"), ("filter=state.colour==1", "filter"), ("sort=state.colour", "sort"),
                ("cursor=nope", "cursor"), ("offset=1&cursor=\(cursor)", "offset"),
            ] {
                let refused = expectProblem(try await send(client, .get, "/accounts?\(query)", headers: [:]), 400)
                #expect(refused["details"]?["parameter"]?.stringValue == parameter, "\(query)")
            }

            let events = try await send(client, .get, "/accounts/\(ada)/events?limit=1", headers: [:])
            let second = try await send(client, .get, "/accounts/\(ada)/events?offset=1&limit=1", headers: [:])
            #expect(events.json?["total"] == 2 && events.json?["events"]?.arrayValue?.first?["version"] == 1)
            #expect(second.json?["events"]?.arrayValue?.first?["version"] == 2, "pages 0 and 1 differ (the seed library's bug)")
            expectProblem(try await send(client, .get, "/accounts/nobody/events", headers: [:]), 404)
            let farAway = try await send(client, .get, "/accounts/\(ada)/events?offset=\(Int.max)", headers: [:])
            #expect(farAway.status == 200 && farAway.json?["events"]?.arrayValue?.isEmpty == true, "an offset of Int.max is a page past the end")

            let movements = try await send(client, .get, "/accounts/\(ada)/movements", headers: [:])
            let movement = try #require(movements.json?["items"]?.arrayValue?.first?["id"]?.stringValue)
            let one = try await send(client, .get, "/accounts/\(ada)/movements/\(movement)", headers: [:])
            #expect(one.status == 200 && one.json?["amount"] == 300, "the child-view route works (500 upstream)")
            expectProblem(try await send(client, .get, "/accounts/\(bob)/movements/\(movement)", headers: [:]), 404)
            let summaries = try await send(client, .get, "/account_summaries?sort=-balance", headers: [:])
            #expect(summaries.json?["items"]?.arrayValue?.first?["id"]?.stringValue == ada)
            #expect(try await send(client, .get, "/account_summaries/\(bob)", headers: [:]).json?["owner"] == "bob")
        }
    }

    @Test func routesMethodsAndServerEndpoints() async throws {
        try await withServer { client, _ in
            expectProblem(try await send(client, .get, "/planets", headers: [:]), 404)
            let wrongMethod = expectProblem(try await send(client, .delete, "/accounts", headers: [:]), 405)
            #expect(wrongMethod["code"] == "GENERIC_METHOD_NOT_ALLOWED")
            #expect(try await send(client, .put, "/accounts/x", headers: [:]).headers[.allow] == "GET, HEAD")
            let echoed = try await send(client, .get, "/health", headers: [HTTPField.Name("X-Request-Id")!: "trace-42"])
            #expect(echoed.json?["status"] == "ok" && echoed.headers[HTTPField.Name("X-Request-Id")!] == "trace-42")
            let forged = try await send(client, .get, "/health", headers: [HTTPField.Name("X-Request-Id")!: "a b"])
            #expect(forged.headers[HTTPField.Name("X-Request-Id")!] != "a b", "an invalid request id is replaced")
            #expect(try await send(client, .get, "/ready", headers: [:]).json?["status"] == "ready")
            let document = try await send(client, .get, "/openapi.json", headers: [:])
            #expect(document.json?["openapi"] == "3.1.0")
            let deposit = document.json?["paths"]?["/accounts/{id}/commands/deposit"]?["post"]
            #expect(deposit?["operationId"] == "account_deposit")
            #expect(deposit?["responses"]?["410"]?["description"]?.stringValue?.contains("ACCOUNT_CLOSED") == true, "domain codes are listed")
            let page = try await client.execute(uri: "/docs", method: .get) { $0 }
            #expect(page.status == .ok && page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
        }
    }

    @Test func aDownStoreIsNotReady() async throws {
        try await withServer(readiness: { throw InfrastructureError.serviceUnavailable.error("down") }) { client, _ in
            expectProblem(try await send(client, .get, "/ready", headers: [:]), 503)
            #expect(try await send(client, .get, "/health", headers: [:]).status == 200)
        }
    }

    @Test func oneGuardForEveryRoute() async throws {
        try await withServer(token: "s3cret") { client, _ in
            for path in ["/accounts", "/openapi.json", "/ready"] {
                let refused = expectProblem(try await send(client, .get, path, headers: [:]), 401)
                #expect(refused["code"] == "GENERIC_UNAUTHORIZED")
            }
            let mcp = try await send(client, .post, "/mcp", body: "{}", headers: [.contentType: "application/json"])
            #expect(mcp.status == 401 && mcp.json?["error"]?["code"] == -32600, "MCP clients get a JSON-RPC error")
            #expect(try await send(client, .get, "/accounts", headers: [.authorization: "Bearer s3cret"]).status == 200)
            #expect(try await send(client, .get, "/accounts", headers: [.authorization: "Bearer s3creT"]).status == 401)
            #expect(try await send(client, .get, "/health", headers: [:]).status == 200, "liveness needs no token")
            expectProblem(
                try await send(client, .get, "/accounts", headers: [.authorization: "Bearer s3cret", .origin: "https://evil.example"]), 403)
        }
    }

    @Test func restAndMCPSeeTheSameAggregates() async throws {
        try await withServer { client, bank in
            let tools = ToolCatalog(bank.catalog)
            let context = MCPCallContext(requestId: "1", protocolVersion: "2025-11-25")
            let id = try await open(client, "ada")
            let read = try await tools.callTool(name: "account_get", arguments: ["id": .string(id)], context: context)
            #expect(read.structuredContent?["state"]?["owner"] == "ada")
            _ = try await tools.callTool(name: "account_deposit", arguments: ["id": .string(id), "amount": 40], context: context)
            #expect(try await send(client, .get, "/accounts/\(id)", headers: [:]).json?["state"]?["balance"] == 40)
        }
    }
}
