import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

#if OpenTelemetry
    import OTel
#endif

/// `--otlp-endpoint`: traces exported over OTLP/HTTP with swift-otel (the package trait
/// `OpenTelemetry`, on by default). Without an endpoint (the flag or the standard
/// `OTEL_EXPORTER_OTLP_ENDPOINT`/`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) no tracer is bootstrapped and
/// the library starts no span at all.
struct TracingOptions: ParsableArguments {
    @Option(help: "Export traces over OTLP/HTTP to this collector (e.g. http://localhost:4318), or set OTEL_EXPORTER_OTLP_ENDPOINT.")
    var otlpEndpoint: String?

    /// The endpoint from the flag or the environment, if any.
    var endpoint: String? {
        let environment = ProcessInfo.processInfo.environment
        return otlpEndpoint ?? environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] ?? environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
    }

    /// Bootstraps the tracer when an endpoint is configured and returns the exporter's service (to run
    /// first in the server's group, so that it flushes after everything else has stopped).
    func bootstrap(serviceName: String, logger: Logger) throws -> (any Service)? {
        guard let endpoint, !endpoint.isEmpty else { return nil }
        #if OpenTelemetry
            var configuration = OTel.Configuration.default
            configuration.serviceName = serviceName
            configuration.logs.enabled = false
            configuration.metrics.enabled = false
            configuration.traces.exporter = .otlp
            // The flag's value is a base URL as the environment variable's is; OTLP/HTTP posts to /v1/traces.
            if otlpEndpoint != nil {
                configuration.traces.otlpExporter.endpoint = endpoint.hasSuffix("/v1/traces") ? endpoint : endpoint + "/v1/traces"
            }
            // Its own messages go to our logger (standard error), never to standard output (stdio MCP).
            configuration.diagnosticLogger = .custom(logger)
            // The environment may tune the traces, not turn on OTel's logging or metrics (the program
            // bootstraps those itself, and a second bootstrap traps), nor override the flag's endpoint.
            var environment = ProcessInfo.processInfo.environment
            if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return nil }
            environment = environment.filter { key, _ in
                key != "OTEL_SDK_DISABLED" && !key.hasPrefix("OTEL_LOGS_") && !key.hasPrefix("OTEL_METRICS_")
            }
            if otlpEndpoint != nil {
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = nil
                environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = nil
            }
            logger.info("Exporting traces over OTLP", metadata: ["endpoint": .string(endpoint)])
            return try OTel.bootstrap(configuration: configuration, environment: environment)
        #else
            throw ValidationError("This build has no OTLP exporter (the package trait OpenTelemetry is off)")
        #endif
    }
}
