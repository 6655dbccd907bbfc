import ArgumentParser
import CQRS
import CQRSCatalog
import CQRSHTTP
import CQRSMCP
import CQRSSchema
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `serve`: MCP at /mcp, the REST API, /openapi.json, /docs, /health and /ready on one HTTP server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve MCP (/mcp), the REST API, /openapi.json and /docs over HTTP.")

    @OptionGroup var store: StoreOptions

    @Option(help: "The address to bind (loopback by default).")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "A bearer token every request must carry (or CQRS_MCP_TOKEN).")
    var token: String?

    @Option(help: "Seconds an idle MCP session lives.")
    var sessionIdleTimeout: Int = 600

    @Option(help: "The most MCP sessions kept (the least recently used idle one makes room).")
    var maxSessions: Int = 1000

    @Option(help: "Seconds a TCP connection may stay idle before it is closed.")
    var connectionIdleTimeout: Int = 30

    @Option(help: "The most TCP connections served at once.")
    var maxConnections: Int = 512

    @Flag(help: "Serve metrics (commands, conflicts, latencies, HTTP requests) at /metrics in Prometheus format.")
    var metrics = false

    @OptionGroup var tracing: TracingOptions

    func run() async throws {
        let description = ServerProgram.program.description
        try await reportingFailure(description.name) {
            let (backend, catalog, server, logger) = try await store.open()
            let (app, observability) = try await StoreOptions.closing(backend, catalog) {
                try makeServer(mcp: server, backend: backend, catalog: catalog, logger: logger)
            }
            try await ServerServices.run(frontEnd: app, backend: backend, catalog: catalog, observability: observability, logger: logger)
        }
    }

    /// The HTTP application and the trace exporter, if any.
    private func makeServer(mcp server: MCPServer, backend: Backend, catalog: OperationCatalog, logger: Logger) throws
        -> (any Service, (any Service)?)
    {
        let description = ServerProgram.program.description
        let token = token ?? ProcessInfo.processInfo.environment["CQRS_MCP_TOKEN"]
        // Bound to loopback, only loopback host names are served (DNS-rebinding defence).
        let loopback = MCPHTTPOptions.loopbackHosts.contains(host.lowercased()) || host == "::1"
        let options = MCPHTTPOptions(
            allowedHosts: loopback ? MCPHTTPOptions.loopbackHosts : nil, bearerToken: token,
            sessionIdleTimeout: .seconds(max(1, sessionIdleTimeout)), maxSessions: maxSessions,
            connectionIdleTimeout: .seconds(max(1, connectionIdleTimeout)), maxConnections: maxConnections)
        let eventStore = backend.eventStore
        var http = try CQRSHTTPServer(
            mcp: server, catalog: catalog, info: description.openAPIInfo, options: options,
            readiness: { _ = try await eventStore.streamVersion(aggregateType: "readiness", id: "probe") }, logger: logger)
        if metrics { http.metrics = Self.bootstrapPrometheus() }
        let observability = try tracing.bootstrap(serviceName: description.name, logger: logger)
        http.tracing = observability != nil
        logger.info(
            "Serving http://\(host):\(port) (/mcp, REST, /openapi.json, /docs)",
            metadata: ["store": .string(backend.description), "auth": .string(token == nil ? "none" : "bearer")])
        return (http.makeApplication(host: host, port: port), observability)
    }
}

/// `mcp`: MCP over standard input and output (what editors launch).
struct StdioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mcp", abstract: "Serve MCP over standard input and output.")

    @OptionGroup var store: StoreOptions

    @OptionGroup var tracing: TracingOptions

    func run() async throws {
        try await reportingFailure(ServerProgram.program.description.name) {
            let (backend, catalog, server, logger) = try await store.open()
            let observability = try await StoreOptions.closing(backend, catalog) {
                try tracing.bootstrap(serviceName: ServerProgram.program.description.name, logger: logger)
            }
            logger.info("Serving MCP over stdio", metadata: ["store": .string(backend.description)])
            // End of input or SIGTERM/SIGINT (a host closing the server) ends the group.
            try await ServerServices.run(
                frontEnd: MCPStdioTransport(server: server), backend: backend, catalog: catalog, observability: observability,
                logger: logger)
        }
    }
}

/// `openapi`: prints the OpenAPI 3.1 document (the one `serve` publishes at /openapi.json).
struct OpenAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "openapi", abstract: "Print the OpenAPI 3.1 document.")

    @Option(help: "Only these aggregates, views or operations, as `serve --tools` would serve them.")
    var tools: String?

    func run() async throws {
        let program = ServerProgram.program
        try await reportingFailure(program.description.name) {
            let include = tools.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            let catalog = try await program.makeCatalog(try await Backend.open("memory:"), OperationCatalog.Options(include: include))
            try StoreOptions.checkIncluded(include, in: catalog)
            let document = OpenAPIDocument.make(catalog: catalog, info: program.description.openAPIInfo)
            print(PublishedJSON.text(document), terminator: "")
        }
    }
}

/// `schemas`: the catalog's named schemas (commands, states, views, pages), printed as one JSON
/// object or written one file per schema.
struct SchemasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schemas", abstract: "Print the named JSON Schemas, or write them to a folder.")

    @Option(help: "Write NAME.schema.json files into this folder instead of printing.")
    var output: String?

    @Flag(help: "The published schemas instead (stable $id, as under schemas/): index.json, or every file with --output.")
    var published = false

    func run() async throws {
        let program = ServerProgram.program
        try await reportingFailure(program.description.name) {
            let catalog = try await program.makeCatalog(try await Backend.open("memory:"), OperationCatalog.Options())
            if published {
                try Self.writePublished(catalog.publishedSchemas, to: output)
                return
            }
            let schemas = catalog.schemas
            guard let output else {
                print(PublishedJSON.text(.object(schemas)), terminator: "")
                return
            }
            let folder = URL(fileURLWithPath: output)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, schema) in schemas.sorted(by: { $0.key < $1.key }) {
                try PublishedJSON.text(PublishedJSON.standalone(schema, title: name))
                    .write(to: folder.appendingPathComponent("\(name).schema.json"), atomically: true, encoding: .utf8)
            }
            print("Wrote \(schemas.count) schemas to \(output)")
        }
    }
}

extension SchemasCommand {
    /// Prints `index.json`, or writes it and every published file (in their folders) under `output`.
    static func writePublished(_ schemas: [PublishedSchema], to output: String?) throws {
        guard let output else {
            print(PublishedSchema.index(schemas), terminator: "")
            return
        }
        let root = URL(fileURLWithPath: output)
        for (path, text) in schemas.map({ ($0.path, $0.text) }) + [("index.json", PublishedSchema.index(schemas))] {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        print("Wrote \(schemas.count) schemas and index.json to \(output)")
    }
}

extension ServeCommand {
    /// Routes swift-metrics to a Prometheus registry (once per process) and returns its exporter.
    static func bootstrapPrometheus() -> @Sendable () -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return { registry.emitToBuffer() }
    }
}
