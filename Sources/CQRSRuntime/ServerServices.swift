import CQRS
import CQRSCatalog
import Logging
import ServiceLifecycle

/// The pieces of a running server as swift-service-lifecycle services. A server runs them in one
/// `ServiceGroup` in this order, so that SIGTERM/SIGINT shut them down in reverse: the front end
/// first (it stops accepting and drains the requests in flight), then the projector (it hands its
/// leases back), then the store (its connections close last).
enum ServerServices {
    /// Runs `frontEnd` after the backend and its projector (and `observability`, the trace
    /// exporter, before them all); returns once all have stopped. The group also shuts down when
    /// the front end ends on its own (end of input over stdio).
    static func run(
        frontEnd: any Service, backend: Backend, catalog: OperationCatalog, observability: (any Service)?, logger: Logger
    ) async throws {
        var configuration = ServiceGroupConfiguration(
            services: (observability.map { [ServiceGroupConfiguration.ServiceConfiguration(service: $0)] } ?? []) + [
                .init(service: BackendService(backend: backend)),
                .init(service: ProjectorService(projector: catalog.projector)),
                .init(service: frontEnd, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // A shutdown that does not finish (a request stuck on an unreachable store) becomes a cancellation.
        configuration.maximumGracefulShutdownDuration = .seconds(30)
        configuration.maximumCancellationDuration = .seconds(10)
        try await ServiceGroup(configuration: configuration).run()
    }
}

/// Keeps the backend open until the group shuts down, then closes it.
struct BackendService: Service {
    let backend: Backend

    func run() async throws {
        try? await gracefulShutdown()
        await backend.close()
    }
}

/// Runs the catalog's projector (which catches up from its checkpoints) until the group shuts
/// down, then stops it and hands its leases back.
struct ProjectorService: Service {
    let projector: Projector?

    func run() async throws {
        projector?.start()
        try? await gracefulShutdown()
        await projector?.shutdown()
    }
}
