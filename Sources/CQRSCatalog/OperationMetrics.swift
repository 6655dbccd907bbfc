import CQRS
import Metrics

/// What every call through the catalog records with swift-metrics (a no-op until the program
/// bootstraps a metrics backend, e.g. `serve --metrics`):
///
/// | metric | dimensions |
/// | --- | --- |
/// | `cqrs_operations_total` | `operation`, `outcome` (`ok` or the error code) |
/// | `cqrs_commands_total` | `aggregate`, `command`, `outcome` |
/// | `cqrs_command_duration_seconds` (timer) | `aggregate`, `command` |
/// | `cqrs_conflicts_total` | `aggregate` (409s: stale version or existing aggregate) |
enum OperationMetrics {
    static func record(_ operation: CatalogOperation, outcome: String, since started: ContinuousClock.Instant) {
        Counter(label: "cqrs_operations_total", dimensions: [("operation", operation.name), ("outcome", outcome)]).increment()
        let command: String
        switch operation.kind {
        case .create(let name), .update(let name): command = name
        default: return
        }
        let aggregate = operation.group
        Counter(label: "cqrs_commands_total", dimensions: [("aggregate", aggregate), ("command", command), ("outcome", outcome)]).increment()
        Timer(label: "cqrs_command_duration_seconds", dimensions: [("aggregate", aggregate), ("command", command)], preferredDisplayUnit: .seconds)
            .record(duration: ContinuousClock.now - started)
        if outcome == InfrastructureError.concurrencyError.code || outcome == InfrastructureError.aggregateAlreadyExists.code {
            Counter(label: "cqrs_conflicts_total", dimensions: [("aggregate", aggregate)]).increment()
        }
    }
}
