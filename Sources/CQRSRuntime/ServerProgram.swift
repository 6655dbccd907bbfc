import ArgumentParser
import CQRS
import CQRSCatalog
import CQRSHTTP
import CQRSMCP
import Foundation
import Logging
import Synchronization

/// The command line shared by the example servers (swift-argument-parser subcommands):
///
///     NAME serve    [--store URL] [--host H] [--port P] [--token T] …  # HTTP: /mcp, REST, /openapi.json, /docs
///     NAME mcp      [--store URL] [--tools LIST]                       # MCP over stdio
///     NAME projections status | rebuild NAME [--resume]                 # the views' checkpoints, rebuilds
///     NAME openapi                                                      # prints the OpenAPI document
///     NAME schemas  [--output DIR]                                      # prints or writes the named schemas
///     NAME --version
///
/// Logs go to standard error (stdout carries only protocol over stdio). The bearer token may also
/// come from the `CQRS_MCP_TOKEN` environment variable.
public enum ServerProgram {
    /// What the program serves.
    public struct Description: Sendable {
        /// The executable's name (`bank`).
        public var name: String
        /// The server's version.
        public var version: String
        /// A human title.
        public var title: String
        /// Instructions for the model, sent in the MCP handshake (and the OpenAPI description).
        public var instructions: String
        /// The store used when `--store` is absent.
        public var defaultStore: String

        /// Creates a description.
        public init(name: String, version: String, title: String, instructions: String, defaultStore: String) {
            self.name = name
            self.version = version
            self.title = title
            self.instructions = instructions
            self.defaultStore = defaultStore
        }

        /// The OpenAPI document's info.
        public var openAPIInfo: OpenAPIDocument.Info {
            OpenAPIDocument.Info(title: title, version: version, description: instructions)
        }
    }

    /// Builds the catalog over an opened backend.
    public typealias MakeCatalog = @Sendable (Backend, OperationCatalog.Options) async throws -> OperationCatalog

    struct Program: Sendable {
        var description: Description
        var makeCatalog: MakeCatalog
    }

    private static let current = Mutex<Program?>(nil)

    static var program: Program {
        guard let program = current.withLock({ $0 }) else { fatalError("ServerProgram.run was not called") }
        return program
    }

    /// Parses the command line and runs the chosen subcommand.
    public static func run(_ description: Description, makeCatalog: @escaping MakeCatalog) async {
        current.withLock { $0 = Program(description: description, makeCatalog: makeCatalog) }
        await RootCommand.main()
    }
}

struct RootCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        let description = ServerProgram.program.description
        return CommandConfiguration(
            commandName: description.name, abstract: "\(description.title): event-sourced aggregates over MCP and REST.",
            version: description.version,
            subcommands: [ServeCommand.self, StdioCommand.self, ProjectionsCommand.self, OpenAPICommand.self, SchemasCommand.self])
    }
}

/// The options every subcommand that opens a store takes.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store: memory:, sqlite:PATH, postgres://user:pass@host:port/db[?schema=NAME] or mongodb://host:port/db[?replicaSet=NAME].")
    var store: String?

    @Option(help: "Only expose these aggregates, views or operations (comma-separated).")
    var tools: String?

    @Option(help: "About the most bytes of JSON in one list or audit-log page.")
    var pageBytes: Int = 4 << 20

    @Flag(help: "Destructive commands (e.g. account_close) run only with confirm: true (REST: ?confirm=true).")
    var confirmDestructive = false

    @Option(help: "The most events a projection applies per transaction.")
    var projectionBatchSize: Int = 1000

    @Option(help: "Seconds a command waits for its views, and a minPosition read at most (0: do not wait).")
    var consistencyWait: Double = 2

    @Option(
        help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.",
        transform: { text in
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw ValidationError("Unknown log level '\(text)': use trace, debug, info, notice, warning, error or critical")
            }
            return level
        })
    var logLevel: Logger.Level = .info

    var catalogOptions: OperationCatalog.Options {
        let include = tools.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        return OperationCatalog.Options(include: include, pageByteBudget: pageBytes, confirmDestructive: confirmDestructive)
    }

    /// Opens the store and builds the catalog, the MCP server over it and a logger. The catalog's
    /// projector is not started (a server runs it as a service, see `ServerServices`).
    func open() async throws -> (Backend, OperationCatalog, MCPServer, Logger) {
        let program = ServerProgram.program
        MCPLogging.bootstrapStandardError(level: logLevel)
        let logger = Logger(label: program.description.name)
        guard projectionBatchSize >= 1, consistencyWait >= 0, consistencyWait <= 60 else {
            throw ValidationError("--projection-batch-size must be 1 or more and --consistency-wait between 0 and 60")
        }
        let projector = Projector.Options(batchSize: projectionBatchSize, consistencyTimeout: .milliseconds(Int(consistencyWait * 1000)))
        let backend = try await Backend.open(store ?? program.description.defaultStore, projectorOptions: projector)
        do {
            let catalog = try await program.makeCatalog(backend, catalogOptions)
            try Self.checkIncluded(catalogOptions.include, in: catalog)
            let server = MCPServer(
                info: .init(
                    name: program.description.name, version: program.description.version, title: program.description.title,
                    instructions: program.description.instructions),
                provider: ToolCatalog(catalog), logger: logger)
            return (backend, catalog, server, logger)
        } catch {
            await backend.close()
            throw error
        }
    }
}

extension StoreOptions {
    /// Runs `setup`, closing the backend when it throws (before the server's group owns the backend).
    static func closing<T>(_ backend: Backend, _ catalog: OperationCatalog, _ setup: () async throws -> T) async throws -> T {
        do {
            return try await setup()
        } catch {
            await close(backend, catalog)
            throw error
        }
    }

    /// Stops the projector (handing its leases back) and closes the backend.
    static func close(_ backend: Backend, _ catalog: OperationCatalog) async {
        await catalog.projector?.shutdown()
        await backend.close()
    }

    /// Refuses `--tools` entries that name no registered aggregate, view or operation (a typo would
    /// otherwise serve nothing, silently).
    static func checkIncluded(_ include: Set<String>?, in catalog: OperationCatalog) throws {
        guard let include else { return }
        let known = Set(catalog.operations.flatMap { [$0.name, $0.group] })
        let unknown = include.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw InfrastructureError.configurationError.error(
                "--tools names nothing registered: \(unknown.joined(separator: ", "))")
        }
    }
}

/// Runs a subcommand's body, logging a failure as one line and exiting 1.
func reportingFailure(_ name: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        FileHandle.standardError.write(Data("\(name) failed: \(CqrsError.wrapping(error).message) (\(error))\n".utf8))
        throw ExitCode.failure
    }
}
