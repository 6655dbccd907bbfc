import Bank
import CQRS
import CQRSMCP
import CQRSSchema
import Foundation
import Testing

@Suite("MCP tool catalog of the bank")
struct CatalogTests {
    let app: BankApp
    /// The bank's catalog rendered as MCP tools.
    let tools: ToolCatalog
    let context = MCPCallContext(requestId: "1", protocolVersion: "2025-11-25")

    init() throws {
        app = try BankApp(store: InMemoryEventStore(), storages: .inMemory())
        tools = ToolCatalog(app.catalog)
    }

    func call(_ name: String, _ arguments: JSONValue) async throws -> MCPToolResult {
        let result = try await tools.callTool(name: name, arguments: arguments, context: context)
        let tool = try #require(tools.tools.first { $0.name == name })
        if !result.isError, let schema = tool.outputSchema {
            let violations = JSONSchema.validate(result.structuredContent ?? .null, against: schema)
            #expect(violations.isEmpty, "\(name) output: \(violations)")
        }
        if !result.isError, let json = result.structuredContent?.serialized() {
            if json.utf8.count <= ToolCatalog.textMirrorLimit {
                #expect(result.text == json, "the text block mirrors structuredContent")
            } else {
                #expect(result.text.hasPrefix("The result is \(json.utf8.count) bytes"), "a large result is summarised")
            }
        } else if result.isError {
            #expect(result.text.contains(result.structuredContent?["code"]?.stringValue ?? "?"), "the text names the code")
        }
        return result
    }

    @Test func toolNamesAnnotationsAndSchemas() throws {
        let names = tools.tools.map(\.name)
        #expect(names == [
            "projections_status", "account_open", "account_deposit", "account_withdraw", "account_close", "account_get", "account_list",
            "account_events", "movement_get", "movement_list", "account_summary_get", "account_summary_list",
            "user_right_grant", "user_right_revoke", "user_right_get", "user_right_list", "user_right_events",
        ])
        let byName = Dictionary(uniqueKeysWithValues: tools.tools.map { ($0.name, $0) })
        #expect(byName["account_deposit"]?.annotations == MCPToolAnnotations(readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false))
        #expect(byName["account_close"]?.annotations.destructiveHint == true)
        #expect(byName["account_get"]?.annotations == MCPToolAnnotations(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false))
        #expect(byName["account_deposit"]?.description == "Pays money in.")
        #expect(byName["account_deposit"]?.inputSchema["properties"]?["amount"]?["description"] == "A positive number of cents.")
        let deposit = try #require(byName["account_deposit"]?.inputSchema)
        #expect(deposit["additionalProperties"] == false)
        #expect(deposit["required"] == ["id", "amount"])
        #expect(deposit["properties"]?["expectedVersion"]?["type"] == "integer")
        for tool in tools.tools {
            #expect(tool.inputSchema["type"] == "object" && tool.inputSchema["additionalProperties"] == false, "\(tool.name)")
            #expect(tool.outputSchema?["type"] == "object", "\(tool.name)")
            #expect(tool.name.wholeMatch(of: /[a-z0-9_]{1,64}/) != nil)
            #expect(!tool.description.isEmpty)
        }
    }

    @Test func openDepositWithdrawCloseAndRead() async throws {
        let opened = try await call("account_open", ["owner": "Ada"])
        #expect(!opened.isError)
        let id = try #require(opened.structuredContent?["id"]?.stringValue)
        #expect(opened.structuredContent?["version"] == 1)
        let deposited = try await call("account_deposit", ["id": .string(id), "amount": 200, "expectedVersion": 1])
        #expect(deposited.structuredContent?["version"] == 2 && deposited.structuredContent?["globalPosition"] == 2)
        let refused = try await call("account_withdraw", ["id": .string(id), "amount": 500])
        #expect(refused.isError)
        #expect(refused.structuredContent?["code"] == "ACCOUNT_INSUFFICIENT_FUNDS")
        #expect(refused.structuredContent?["internalCode"] == 10001)
        #expect(refused.structuredContent?["message"] == "Cannot withdraw 500, balance is 200")
        #expect(refused.text.contains("Cannot withdraw 500, balance is 200"))
        let conflict = try await call("account_deposit", ["id": .string(id), "amount": 1, "expectedVersion": 1])
        #expect(conflict.isError && conflict.structuredContent?["code"] == "INFRASTRUCTURE_CONCURRENCY_ERROR")
        #expect(conflict.structuredContent?["details"]?["currentVersion"] == 2)
        _ = try await call("account_withdraw", ["id": .string(id), "amount": 50, "idempotencyKey": "w-1"])
        let retried = try await call("account_withdraw", ["id": .string(id), "amount": 50, "idempotencyKey": "w-1"])
        #expect(retried.structuredContent?["replayed"] == true && retried.structuredContent?["version"] == 3)
        let state = try await call("account_get", ["id": .string(id)])
        #expect(state.structuredContent?["state"]?["balance"] == 150 && state.structuredContent?["version"] == 3)
        let closed = try await call("account_close", ["id": .string(id)])
        #expect(!closed.isError)
        let gone = try await call("account_deposit", ["id": .string(id), "amount": 1])
        #expect(gone.structuredContent?["code"] == "ACCOUNT_CLOSED" && gone.structuredContent?["status"] == 410)
        let missing = try await call("account_get", ["id": "nope"])
        #expect(missing.isError && missing.structuredContent?["status"] == 404)
    }

    @Test func invalidArgumentsListEveryViolation() async throws {
        let result = try await call("account_deposit", ["amount": "ten", "colour": "red"])
        #expect(result.isError)
        #expect(result.structuredContent?["code"] == "INFRASTRUCTURE_VALIDATION_FAILED")
        let pointers = Set(result.structuredContent?["details"]?["violations"]?.arrayValue?.compactMap { $0["pointer"]?.stringValue } ?? [])
        #expect(pointers == ["", "/amount", "/colour"], "\(pointers)")
        let unknown = await #expect(throws: MCPError.self) {
            try await tools.callTool(name: "account_teleport", arguments: [:], context: context)
        }
        #expect(unknown?.code == -32602)
    }

    @Test func stringsAreCarriedByteForByte() async throws {
        let owners = ["data:text/plain;base64,SGk=", "👩🏽‍💻 Ada", "مرحبا بالعالم", String(repeating: "é", count: 300_000)]
        for owner in owners {
            let opened = try await call("account_open", ["owner": .string(owner)])
            let id = try #require(opened.structuredContent?["id"]?.stringValue)
            let state = try await call("account_get", ["id": .string(id)])
            #expect(state.structuredContent?["state"]?["owner"]?.stringValue == owner)
        }
    }

    @Test func listsFilterSortAndPage() async throws {
        var ids: [String] = []
        for (owner, amount) in [("Ada", 500), ("Bob", 50), ("Cy", 900), ("Di", 10)] {
            let id = try #require(try await call("account_open", ["owner": .string(owner)]).structuredContent?["id"]?.stringValue)
            _ = try await call("account_deposit", ["id": .string(id), "amount": .int(amount)])
            ids.append(id)
        }
        let rich = try await call("account_list", [
            "filter": [["field": "state.balance", "op": "gte", "value": 100]],
            "sort": [["field": "state.balance", "order": "desc"]], "limit": 1,
        ])
        #expect(rich.structuredContent?["total"] == 2)
        #expect(rich.structuredContent?["items"]?.arrayValue?.first?["state"]?["owner"] == "Cy")
        let cursor = try #require(rich.structuredContent?["nextCursor"])
        let next = try await call("account_list", [
            "filter": [["field": "state.balance", "op": "gte", "value": 100]],
            "sort": [["field": "state.balance", "order": "desc"]], "limit": 1, "cursor": cursor,
        ])
        #expect(next.structuredContent?["items"]?.arrayValue?.first?["state"]?["owner"] == "Ada")
        #expect(next.structuredContent?["nextCursor"] == nil)
        let badSort = try await call("account_list", ["sort": [["field": "state.secret"]]])
        #expect(badSort.isError)
        let badCursor = try await call("account_list", ["cursor": "not-a-cursor"])
        #expect(badCursor.isError && badCursor.structuredContent?["code"] == "INFRASTRUCTURE_VALIDATION_FAILED")
        let owners = try await call("account_list", ["filter": [["field": "state.owner", "op": "in", "value": ["Bob", "Di"]]]])
        #expect(owners.structuredContent?["total"] == 2)
        let movements = try await call("movement_list", ["parentId": .string(ids[0])])
        #expect(movements.structuredContent?["total"] == 1)
        #expect(movements.structuredContent?["items"]?.arrayValue?.first?["amount"] == 500)
        let summary = try await call("account_summary_get", ["id": .string(ids[2])])
        #expect(summary.structuredContent?["balance"] == 900)
    }

    @Test func auditLogPages() async throws {
        let id = try #require(try await call("account_open", ["owner": "Ada"]).structuredContent?["id"]?.stringValue)
        for amount in 1...4 { _ = try await call("account_deposit", ["id": .string(id), "amount": .int(amount)]) }
        let first = try await call("account_events", ["id": .string(id), "limit": 3])
        #expect(first.structuredContent?["total"] == 5)
        let events = first.structuredContent?["events"]?.arrayValue ?? []
        #expect(events.map { $0["version"] } == [1, 2, 3])
        #expect(events[1]["eventType"] == "deposited" && events[1]["payload"] == ["deposited": ["amount": 1]])
        #expect(events[0]["metadata"]?["transport"] == "mcp")
        let rest = try await call("account_events", ["id": .string(id), "limit": 3, "cursor": first.structuredContent?["nextCursor"] ?? .null])
        #expect(rest.structuredContent?["events"]?.arrayValue?.map { $0["version"] } == [4, 5])
        #expect(rest.structuredContent?["nextCursor"] == nil)
    }

    @Test func resourcesAndCompletion() async throws {
        let id = try #require(try await call("account_open", ["owner": "Ada"]).structuredContent?["id"]?.stringValue)
        #expect(tools.resourceTemplates.map(\.uriTemplate).prefix(2) == ["cqrs://account/{id}", "cqrs://account/{id}/events"])
        let state = try await tools.readResource(uri: "cqrs://account/\(id)", context: context)
        #expect(try JSONValue.parse(state[0].text)["state"]?["owner"] == "Ada")
        let events = try await tools.readResource(uri: "cqrs://account/\(id)/events", context: context)
        #expect(try JSONValue.parse(events[0].text)["total"] == 1)
        await #expect(throws: MCPError.self) { try await tools.readResource(uri: "cqrs://account/nope", context: context) }
        await #expect(throws: MCPError.self) { try await tools.readResource(uri: "cqrs://planet/x", context: context) }
        let completions = try await tools.complete(
            reference: .resourceTemplate(uri: "cqrs://account/{id}"), argument: "id", value: String(id.prefix(4)), context: context)
        #expect(completions.values.contains(id))
    }

    /// Issue 9.7: 150 matching ids gave `total: 100, hasMore: false`.
    @Test func completionCountsEveryMatch() async throws {
        for _ in 0..<150 { _ = try await call("account_open", ["owner": "Many"]) }
        let all = try await tools.complete(
            reference: .resourceTemplate(uri: "cqrs://account/{id}"), argument: "id", value: "", context: context)
        #expect(all.values.count == 100 && all.total! >= 150 && all.hasMore)
    }

    /// Issue 9.8: `--tools account_deposit` still exposed every state, audit log and id.
    @Test func theAllowlistBoundsResourcesAndCompletion() async throws {
        // One store and one set of storages: what the full catalog can read, the restricted one must not.
        let (store, storages) = (InMemoryEventStore(), BankApp.Storages.inMemory())
        let full = try BankApp(store: store, storages: storages)
        let restricted = try BankApp(store: store, storages: storages, options: .init(include: ["account_deposit"]))
        let opened = try await ToolCatalog(full.catalog).callTool(name: "account_open", arguments: ["owner": "Ada"], context: context)
        let id = try #require(opened.structuredContent?["id"]?.stringValue)
        let everything = try await ToolCatalog(full.catalog).complete(
            reference: .resourceTemplate(uri: "cqrs://account/{id}"), argument: "id", value: "", context: context)
        #expect(everything.values == [id], "the full catalog completes the id")
        #expect(try await ToolCatalog(full.catalog).readResource(uri: "cqrs://account/\(id)/events", context: context).count == 1)
        #expect(ToolCatalog(restricted.catalog).tools.map(\.name) == ["account_deposit"])
        #expect(ToolCatalog(restricted.catalog).resourceTemplates.isEmpty)
        await #expect(throws: MCPError.self) { try await ToolCatalog(restricted.catalog).readResource(uri: "cqrs://account/\(id)", context: context) }
        await #expect(throws: MCPError.self) {
            try await ToolCatalog(restricted.catalog).readResource(uri: "cqrs://account/\(id)/events", context: context)
        }
        let none = try await ToolCatalog(restricted.catalog).complete(
            reference: .resourceTemplate(uri: "cqrs://account/{id}"), argument: "id", value: "", context: context)
        #expect(none.values.isEmpty)
        let reader = try BankApp(store: store, storages: storages, options: .init(include: ["account_get"]))
        #expect(ToolCatalog(reader.catalog).resourceTemplates.map(\.uriTemplate) == ["cqrs://account/{id}"])
        #expect(try await ToolCatalog(reader.catalog).readResource(uri: "cqrs://account/\(id)", context: context).count == 1)
    }

    @Test func catalogCanBeRestricted() throws {
        let restricted = try BankApp(store: InMemoryEventStore(), storages: .inMemory(), options: .init(include: ["account", "movement_list"]))
        #expect(ToolCatalog(restricted.catalog).tools.map(\.name) == [
            "account_open", "account_deposit", "account_withdraw", "account_close", "account_get", "account_list",
            "account_events", "movement_list",
        ])
    }
}
