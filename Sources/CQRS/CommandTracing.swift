import Tracing

/// The spans the library records with swift-distributed-tracing:
///
/// | span | where | attributes |
/// | --- | --- | --- |
/// | `OPERATION` (e.g. `account_deposit`) | a catalog call (MCP tool, REST route) | `cqrs.operation`, `cqrs.request_id` |
/// | `create TYPE`, `update TYPE` | ``CommandEngine`` | `cqrs.aggregate.type`, `cqrs.aggregate.id`, `cqrs.version`, `cqrs.error.code` |
/// | `load TYPE` | replaying an aggregate | `cqrs.events` (replayed), `cqrs.snapshot` |
/// | `commit TYPE` | the event store's commit | `cqrs.events`, `cqrs.store` |
///
/// Until the program bootstraps a tracer (e.g. swift-otel) no span is started at all, not even a
/// no-op one, so an untraced command pays one check.
package enum CommandTracing {
    /// Whether a tracer other than the no-op one is bootstrapped.
    package static var isEnabled: Bool { !(InstrumentationSystem.tracer is NoOpTracer) }

    /// Runs `body` in a span named `name` when tracing is on (with `attributes`), and plainly
    /// otherwise. A thrown error is recorded on the span; a server-side one (status 500 and above)
    /// also gives it an error status (a refusal or a conflict is the command working as designed).
    package static func span<T>(
        _ name: String, kind: SpanKind = .internal, attributes: @autoclosure () -> SpanAttributes,
        isolation: isolated (any Actor)? = #isolation, _ body: (any Span) async throws -> T
    ) async throws -> T {
        guard isEnabled else { return try await body(NoOpTracer.NoOpSpan(context: .topLevel)) }
        // The body's error comes out as a value: `withSpan` would mark every thrown error as a failure.
        let outcome: Result<T, any Error> = await withSpan(name, ofKind: kind, isolation: isolation) { span in
            span.attributes.merge(attributes())
            do {
                return .success(try await body(span))
            } catch {
                span.recordError(error)
                if CqrsError.wrapping(error).status >= 500 { span.setStatus(SpanStatus(code: .error)) }
                return .failure(error)
            }
        }
        return try outcome.get()
    }
}
