import Bank
import CQRS
import Logging
import Synchronization
import Testing

/// Log lines of a refused command carry the request id, the operation and the aggregate as metadata.
@Suite("Log metadata")
struct LogMetadataTests {
    final class Capture: Sendable {
        let lines = Mutex<[(message: String, metadata: Logger.Metadata)]>([])
    }

    struct CapturingHandler: LogHandler {
        let capture: Capture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.lines.withLock { $0.append((event.message.description, metadata.merging(event.metadata ?? [:]) { $1 })) }
        }
    }

    @Test func aRefusedCommandIsLoggedWithItsKeys() async throws {
        let capture = Capture()
        let logger = Logger(label: "test") { _ in CapturingHandler(capture: capture) }
        let engine = CommandEngine<Account>(store: InMemoryEventStore(), services: (), logger: logger)
        let account = try await engine.create(.open(owner: "Ada")).aggregateId
        var context = CommandContext(requestId: "req-1")
        context.operation = "account_withdraw"
        await #expect(throws: CqrsError.self) { _ = try await engine.update(id: account, .withdraw(amount: 5), context: context) }
        let line = try #require(capture.lines.withLock { $0.last })
        #expect(line.metadata["requestId"] == "req-1" && line.metadata["operation"] == "account_withdraw")
        #expect(line.metadata["aggregateType"] == "account" && line.metadata["aggregateId"] == .string(account))
        #expect(line.metadata["code"] == "ACCOUNT_INSUFFICIENT_FUNDS")
    }
}
