import ArgumentParser
import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation
import Synchronization

/// `projections status` and `projections rebuild NAME`.
struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Show how far the views are behind the log, or rebuild one.",
        subcommands: [Status.self, Rebuild.self])

    /// `projections status`: one line per projection, or JSON.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each view's checkpoint, the log's head, the lag and the last error.")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() async throws {
            try await reportingFailure(ServerProgram.program.description.name) {
                try ProjectionsCommand.checkExisting(store)
                let (backend, catalog, _, _) = try await store.open()
                let statuses: [ProjectionStatus]
                do {
                    statuses = try await ProjectionsCommand.projector(of: catalog).status()
                } catch {
                    await backend.close()
                    throw error
                }
                if json {
                    print(PublishedJSON.text(["projections": try CQRSJSON.value(of: statuses)]), terminator: "")
                } else {
                    print("projection            checkpoint        head       lag  state")
                    for status in statuses {
                        let state = status.lastError.map { "failing: \($0)" } ?? (status.stalled ? "stalled" : status.owner.map { "running (\($0))" } ?? "idle")
                        print(
                            status.name.padding(toLength: 20, withPad: " ", startingAt: 0),
                            String(status.checkpoint).leftPadded(11), String(status.head).leftPadded(11),
                            String(status.lag).leftPadded(9), "", state)
                    }
                }
                await backend.close()
            }
        }
    }

    /// `projections rebuild NAME`: deletes the view and replays the log into it, with progress.
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a view's documents and replay the whole log into it (resumable with --resume).")

        @Argument(help: "The projection (a view or aggregate type, as `projections status` lists them).")
        var name: String

        @Flag(help: "Continue an interrupted rebuild instead of starting again.")
        var resume = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingFailure(ServerProgram.program.description.name) {
                try ProjectionsCommand.checkExisting(store)
                let (backend, catalog, _, logger) = try await store.open()
                let projector = try ProjectionsCommand.projector(of: catalog)
                guard projector.names.contains(name) else {
                    await backend.close()
                    throw ValidationError("Unknown projection '\(name)': known are \(projector.names.joined(separator: ", "))")
                }
                let terminal = isatty(STDERR_FILENO) == 1
                let lastLog = Mutex(ContinuousClock.now - .seconds(60))
                do {
                    try await projector.rebuild(name, resume: resume) { progress in
                        let line = ProjectionsCommand.describe(progress)
                        if terminal {
                            FileHandle.standardError.write(Data("\r\u{1B}[K\(ProjectionsCommand.bar(progress)) \(line)".utf8))
                        } else if lastLog.withLock({ last in
                            guard ContinuousClock.now - last >= .seconds(5) || progress.done == progress.total else { return false }
                            last = ContinuousClock.now
                            return true
                        }) {
                            logger.info("Rebuilding \(name): \(line)")
                        }
                    }
                    if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
                    logger.info("Rebuilt \(name)")
                } catch {
                    await StoreOptions.close(backend, catalog)
                    throw error
                }
                await StoreOptions.close(backend, catalog)
            }
        }
    }

    /// Refuses a store these commands cannot mean: `memory:` (nothing to inspect) or a SQLite file
    /// that does not exist (a typo would create an empty store).
    static func checkExisting(_ store: StoreOptions) throws {
        let url = store.store ?? ServerProgram.program.description.defaultStore
        if url.hasPrefix("memory:") { throw ValidationError("A memory: store has no projections to inspect or rebuild") }
        if let path = Backend.sqlitePath(url), !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("No SQLite store at \(path)")
        }
    }

    static func projector(of catalog: OperationCatalog) throws -> Projector {
        guard let projector = catalog.projector else {
            throw InfrastructureError.configurationError.error("This server registers no projector")
        }
        return projector
    }

    static func describe(_ progress: ProjectionProgress) -> String {
        var line = "\(progress.done)/\(progress.total) events, \(Int(progress.rate)) events/s"
        if let remaining = progress.remaining, progress.done < progress.total { line += ", ETA \(Int(remaining.rounded(.up))) s" }
        if let error = progress.lastError { line += " (retrying: \(error))" }
        return line
    }

    static func bar(_ progress: ProjectionProgress) -> String {
        let width = 30
        let filled = progress.total == 0 ? width : min(width, width * progress.done / max(progress.total, 1))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
