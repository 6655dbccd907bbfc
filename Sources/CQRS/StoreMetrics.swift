import Metrics

/// The engine's calls to its event store, recorded with swift-metrics (a no-op until the program
/// bootstraps a backend, e.g. `serve --metrics`): `cqrs_store_duration_seconds` with the dimensions
/// `store` (the store's type) and `operation` (`commit`, `load`), one sample per call, failed calls
/// included. Commits that a store groups into one transaction share its round trip; each still
/// counts once, with the time its caller waited.
enum StoreMetrics {
    static func timed<T>(
        _ operation: String, _ store: any EventStore, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        let started = ContinuousClock.now
        defer {
            Timer(
                label: "cqrs_store_duration_seconds", dimensions: [("store", "\(type(of: store))"), ("operation", operation)],
                preferredDisplayUnit: .seconds
            ).record(duration: ContinuousClock.now - started)
        }
        return try await body()
    }
}
