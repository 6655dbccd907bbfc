import Bank
import CQRS
import CQRSCatalog
import CQRSMCP
import CQRSSchema
import Foundation
import Testing

/// Dry runs, time travel, audit-log ranges and host-safe schemas, through the catalog every front
/// end renders.
@Suite("Agent-first operations of the bank")
struct AgentFeaturesTests {
    let app: BankApp
    let tools: ToolCatalog
    let context = MCPCallContext(requestId: "1", protocolVersion: "2025-11-25")

    init() throws {
        app = try BankApp(store: InMemoryEventStore(), storages: .inMemory())
        tools = ToolCatalog(app.catalog)
    }

    func call(_ name: String, _ arguments: JSONValue) async throws -> MCPToolResult {
        try await tools.callTool(name: name, arguments: arguments, context: context)
    }

    func open(deposits: [Int]) async throws -> String {
        let id = try #require(try await call("account_open", ["owner": "Ada"]).structuredContent?["id"]?.stringValue)
        for amount in deposits { _ = try await call("account_deposit", ["id": .string(id), "amount": .int(amount)]) }
        return id
    }

    @Test func aDryRunDecidesAndWritesNothing() async throws {
        let id = try await open(deposits: [100])
        let preview = try await call("account_withdraw", ["id": .string(id), "amount": 30, "dryRun": true])
        #expect(preview.structuredContent?["dryRun"] == true && preview.structuredContent?["version"] == 3)
        #expect(preview.structuredContent?["state"]?["balance"] == 70)
        let outputSchema = try #require(tools.tools.first { $0.name == "account_withdraw" }?.outputSchema)
        #expect(JSONSchema.validate(try #require(preview.structuredContent), against: outputSchema).isEmpty)
        #expect(try await app.accounts.load(id: id)?.version == 2)
        let overdraw = try await call("account_withdraw", ["id": .string(id), "amount": 1000, "dryRun": true])
        #expect(overdraw.isError && overdraw.structuredContent?["code"] == "ACCOUNT_INSUFFICIENT_FUNDS")
    }

    @Test func pastStatesAndEventRanges() async throws {
        let id = try await open(deposits: [1, 2, 3])
        let two = try await call("account_get", ["id": .string(id), "asOfVersion": 2])
        #expect(two.structuredContent?["state"]?["balance"] == 1)
        let both = try await call("account_get", ["id": .string(id), "asOfVersion": 2, "asOfTime": "2026-01-01T00:00:00Z"])
        #expect(both.isError)
        let future = try await call("account_get", ["id": .string(id), "asOfTime": "2999-01-01T00:00:00Z"])
        #expect(future.structuredContent?["version"] == 4)
        let badTime = try await call("account_get", ["id": .string(id), "asOfTime": "yesterday"])
        #expect(badTime.isError)
        let range = try await call("account_events", ["id": .string(id), "fromVersion": 3, "toVersion": 3])
        #expect(range.structuredContent?["events"]?.arrayValue?.map { $0["version"] } == [3])
        let backwards = try await call("account_events", ["id": .string(id), "fromVersion": 3, "toVersion": 2])
        #expect(backwards.isError)
    }

    @Test func everyToolIsHostSafe() throws {
        for tool in tools.tools {
            #expect(tool.name.count <= 40, "\(tool.name)")
            for schema in [tool.inputSchema, tool.outputSchema ?? [:]] {
                #expect(schema["type"] == "object", "\(tool.name)")
                let text = schema.serialized()
                #expect(!text.contains("\"$ref\"") && !text.contains("\"$defs\""), "\(tool.name)")
            }
            #expect(tool.inputSchema["oneOf"] == nil && tool.inputSchema["anyOf"] == nil && tool.inputSchema["allOf"] == nil)
        }
    }
}
