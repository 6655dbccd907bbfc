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
    /// otherwise. A thrown error is recorded on the span, which then has an error status.
    package static func span<T>(
        _ name: String, kind: SpanKind = .internal, attributes: @autoclosure () -> SpanAttributes,
        isolation: isolated (any Actor)? = #isolation, _ body: (any Span) async throws -> T
    ) async throws -> T {
        guard isEnabled else { return try await body(NoOpTracer.NoOpSpan(context: .topLevel)) }
        return try await withSpan(name, ofKind: kind, isolation: isolation) { span in
            span.attributes.merge(attributes())
            do {
                return try await body(span)
            } catch {
                span.setStatus(SpanStatus(code: .error))
                throw error
            }
        }
    }
}
