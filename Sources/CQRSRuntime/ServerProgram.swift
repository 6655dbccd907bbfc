import ArgumentParser
import CQRS
import CQRSHTTP
import CQRSMCP
import Foundation
import Logging

/// The command line shared by the example servers:
///
///     NAME mcp   [--store URL] [--tools LIST]                      # MCP over stdio
///     NAME serve [--store URL] [--host H] [--port P] [--token T]   # Streamable HTTP at /mcp
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
        /// Instructions for the model, sent in the MCP handshake.
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
    }

    /// The options of both subcommands.
    struct Options: ParsableArguments {
        @Option(help: "The store: memory:, sqlite:PATH or postgres://user:pass@host:port/db[?schema=NAME].")
        var store: String?

        @Option(help: "Only expose these aggregates, views or tools (comma-separated).")
        var tools: String?

        @Option(help: "The address `serve` binds (loopback by default).")
        var host: String = "127.0.0.1"

        @Option(help: "The port `serve` listens on.")
        var port: Int = 8080

        @Option(help: "A bearer token `serve` requires (or CQRS_MCP_TOKEN).")
        var token: String?

        @Option(help: "Log level on standard error: trace, debug, info, notice, warning, error, critical.")
        var logLevel: String = "info"

        @Option(help: "Seconds an idle MCP session of `serve` lives.")
        var sessionIdleTimeout: Int = 600

        @Option(help: "The most MCP sessions `serve` keeps (the least recently used idle one makes room).")
        var maxSessions: Int = 1000

        @Option(help: "Seconds a TCP connection of `serve` may stay idle before it is closed.")
        var connectionIdleTimeout: Int = 30

        @Option(help: "The most TCP connections `serve` serves at once.")
        var maxConnections: Int = 512

        @Option(help: "About the most bytes of JSON in one list or audit-log page.")
        var pageBytes: Int = 4 << 20
    }

    /// Parses the command line and runs the chosen server until EOF (stdio) or SIGINT/SIGTERM (HTTP).
    public static func run(
        _ description: Description,
        makeProvider: @escaping @Sendable (Backend, ToolCatalog.Options) async throws -> any MCPToolProvider
    ) async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let usage = "Usage: \(description.name) mcp|serve [options]\n\n" + Options.helpMessage()
        guard let subcommand = arguments.first, ["mcp", "serve"].contains(subcommand) else {
            if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
                print(usage)
                exit(0)
            }
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            exit(64)
        }
        arguments.removeFirst()
        let options: Options
        do {
            options = try Options.parse(arguments)
        } catch {
            Options.exit(withError: error)
        }
        MCPLogging.bootstrapStandardError(level: Logger.Level(rawValue: options.logLevel) ?? .info)
        let logger = Logger(label: description.name)
        do {
            let backend = try await Backend.open(options.store ?? description.defaultStore)
            let include = options.tools.map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
            let provider = try await makeProvider(backend, ToolCatalog.Options(include: include, pageByteBudget: options.pageBytes))
            let server = MCPServer(
                info: .init(
                    name: description.name, version: description.version, title: description.title,
                    instructions: description.instructions),
                provider: provider, logger: logger)
            switch subcommand {
            case "mcp":
                logger.info("Serving MCP over stdio", metadata: ["store": .string(backend.description)])
                await MCPStdioTransport(server: server).run()
                await backend.close()
            default:
                let token = options.token ?? ProcessInfo.processInfo.environment["CQRS_MCP_TOKEN"]
                // Bound to loopback, only loopback host names are served (DNS-rebinding defence).
                let loopback = MCPHTTPOptions.loopbackHosts.contains(options.host.lowercased()) || options.host == "::1"
                let transport = MCPHTTPTransport(
                    server: server,
                    options: MCPHTTPOptions(
                        allowedHosts: loopback ? MCPHTTPOptions.loopbackHosts : nil, bearerToken: token,
                        sessionIdleTimeout: .seconds(max(1, options.sessionIdleTimeout)), maxSessions: options.maxSessions,
                        connectionIdleTimeout: .seconds(max(1, options.connectionIdleTimeout)),
                        maxConnections: options.maxConnections),
                    logger: logger)
                logger.info(
                    "Serving MCP over HTTP at http://\(options.host):\(options.port)/mcp",
                    metadata: ["store": .string(backend.description), "auth": .string(token == nil ? "none" : "bearer")])
                try await transport.run(host: options.host, port: options.port)
                await backend.close()
            }
        } catch {
            logger.critical("\(description.name) failed: \(CqrsError.wrapping(error).message) (\(error))")
            exit(1)
        }
    }
}
