import Bank
import CQRS
import InMemoryTracing
import Testing
import Tracing

/// The engine's spans (swift-distributed-tracing), recorded by the package's in-memory tracer.
@Suite("Tracing")
struct TracingTests {
    @Test func aCommandIsASpanWithItsLoadAndCommitAsChildren() async throws {
        let tracer = InMemoryTracer()
        let engine = CommandEngine<Account>(store: InMemoryEventStore(), services: (), snapshotPolicy: .never, cacheCapacity: 0)
        let (account, version) = try await withTracer(tracer) {
            let account = try await engine.create(.open(owner: "Ada")).aggregateId
            var context = CommandContext(requestId: "req-7")
            context.operation = "account_deposit"
            let version = try await engine.update(id: account, .deposit(amount: 5), context: context).version
            return (account, version)
        }
        let spans = tracer.finishedSpans
        #expect(spans.map(\.operationName) == ["commit account", "create account", "load account", "commit account", "update account"])
        let update = try #require(spans.last)
        #expect(update.attributes["cqrs.aggregate.id"]?.toSpanAttribute() == .string(account))
        #expect(update.attributes["cqrs.version"]?.toSpanAttribute() == .int64(Int64(version)))
        #expect(update.attributes["cqrs.operation"]?.toSpanAttribute() == .string("account_deposit"))
        #expect(update.attributes["cqrs.request_id"]?.toSpanAttribute() == .string("req-7"))
        // The update's load and commit are its children, in its trace.
        for child in spans[2...3] {
            #expect(child.parentSpanID == update.spanID && child.traceID == update.traceID)
        }
        #expect(spans[2].attributes["cqrs.events"]?.toSpanAttribute() == .int64(1))
        #expect(spans[3].attributes["cqrs.events"]?.toSpanAttribute() == .int64(1))
        #expect(spans[3].attributes["cqrs.store"]?.toSpanAttribute() == .string("InMemoryEventStore"))
    }

    @Test func aRefusedCommandIsRecordedOnItsSpan() async throws {
        let tracer = InMemoryTracer()
        let engine = CommandEngine<Account>(store: InMemoryEventStore(), services: ())
        let account = try await engine.create(.open(owner: "Ada")).aggregateId
        _ = await withTracer(tracer) {
            await #expect(throws: CqrsError.self) { _ = try await engine.update(id: account, .withdraw(amount: 5)) }
        }
        let span = try #require(tracer.finishedSpans.last)
        #expect(span.operationName == "update account")
        // A refusal is the domain working as designed: an error recorded, not an error status.
        #expect(span.status == nil)
        #expect(span.errors.count == 1)
        #expect(span.attributes["cqrs.error.code"]?.toSpanAttribute() == .string("ACCOUNT_INSUFFICIENT_FUNDS"))
        // Nothing was committed, so no commit span.
        #expect(!tracer.finishedSpans.contains { $0.operationName == "commit account" })
    }

    @Test func withoutATracerNoSpanIsStarted() async throws {
        // The process-wide tracer is the no-op one in this test binary.
        #expect(!CommandTracing.isEnabled)
        let tracer = InMemoryTracer()
        #expect(withTracer(tracer) { CommandTracing.isEnabled })
    }
}
