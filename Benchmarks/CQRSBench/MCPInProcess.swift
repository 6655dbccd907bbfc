import Bank
import CQRS
import CQRSMCP
import CQRSSchema
import Foundation

/// `cqrs-bench profile-mcp-handle [CALLS]`: the bank's `account_deposit` through `MCPServer.handle`
/// in this process (no transport), one call at a time: what a call costs the server itself.
func mcpHandleBenchmark(calls: Int) async throws {
    let app = try BankApp(store: InMemoryEventStore(), storages: .inMemory())
    let server = MCPServer(info: .init(name: "bank", version: "1"), provider: ToolCatalog(app.catalog))
    let session = MCPSession()
    _ = await server.handle(Array(request(1, "initialize", initializeParams).utf8), session: session)
    _ = await server.handle(Array(initializedNotification.utf8), session: session)
    let opened = await server.handle(
        Array(request(2, "tools/call", #"{"name":"account_open","arguments":{"owner":"bench"}}"#).utf8), session: session)
    let deposit = Array(request(3, "tools/call", depositParams(try accountId(in: opened ?? []))).utf8)
    for _ in 0..<1000 { _ = await server.handle(deposit, session: session) }
    let cpu = processCPUSeconds()
    let seconds = try await elapsed {
        for index in 0..<calls {
            let reply = await server.handle(deposit, session: session)
            if index % 997 == 0 { try checkReply(reply ?? []) }
        }
    }
    let used = processCPUSeconds() - cpu
    print(String(format: "%.0f calls/s, %.1f µs CPU per call", Double(calls) / seconds, used / Double(calls) * 1e6))
}

/// User and system CPU time of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
