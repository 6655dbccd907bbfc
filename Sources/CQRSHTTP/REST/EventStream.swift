import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// `GET /accounts/{id}/events/stream`: the aggregate's new events as server-sent events, one per
/// event (`id` = its version, `event` = its type, `data` = its ``AuditEntry`` JSON), as they commit
/// in any process. `Last-Event-ID` (or `?fromVersion=`) resumes after a version without a gap;
/// without either the stream starts after the current version. A comment every 15 s keeps idle
/// connections open; the stream ends when the client goes away or the server shuts down.
enum EventStream {
    static func addRoutes<Context: GuardedRequestContext>(catalog: OperationCatalog, to router: some RouterMethods<Context>) {
        guard let changes = catalog.changes else { return }
        for (type, log) in catalog.eventLogs.sorted(by: { $0.key < $1.key }) {
            let path = path(of: type)
            router.get(RouterPath(path)) { request, context in
                guard context.isGuarded else { return GuardMiddleware<Context>.unguarded(isMCP: false) }
                do {
                    let (id, after) = try arguments(request, context)
                    // Reading first reports a missing aggregate as a 404 before the stream starts.
                    let first = try await log.entries(of: id, after: after ?? Int.max)
                    return response(id: id, type: type, after: after ?? first.version, log: log, changes: changes)
                } catch {
                    return Problem.response(for: Problem.error(from: error), requestId: context.requestId)
                }
            }
            RESTAPI.refuseOtherMethods(at: path, allowing: [.get], on: router)
        }
    }

    /// The stream's path for an aggregate type.
    static func path(of type: String) -> String { "/\(Naming.plural(type))/{id}/events/stream" }

    private static func arguments(_ request: Request, _ context: some GuardedRequestContext) throws -> (String, Int?) {
        guard let id = (context.parameters.get("id") ?? "").removingPercentEncoding else {
            throw RESTInput.badParameter("id", "is not valid percent-encoded UTF-8")
        }
        try Identifier.check(id, as: "id")
        var after: Int?
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "fromVersion", after == nil else {
                throw RESTInput.badParameter(String(parts[0]), "is not a parameter of this route (known: fromVersion)")
            }
            guard parts.count == 2, let version = Int(parts[1]), version >= 1 else {
                throw RESTInput.badParameter("fromVersion", "must be an integer of 1 or more")
            }
            after = version - 1
        }
        if let last = request.headers[HTTPField.Name("Last-Event-ID")!] {
            guard let version = Int(last.trimmingCharacters(in: .whitespaces)), version >= 0 else {
                throw RESTInput.badParameter("Last-Event-ID", "must be the id (a version) of an event of this stream")
            }
            after = version
        }
        return (id, after)
    }

    private static func response(id: String, type: String, after: Int, log: EventLogReader, changes: ChangeFeed) -> Response {
        let body = ResponseBody { writer in
            // Wake-ups: the aggregate's commits (true) and a keep-alive tick (false), in one stream.
            let (ticks, tick) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingNewest(1))
            // Watch before the first read, so that no commit falls between the two.
            let changed = changes.changes(aggregateType: type, id: id)
            tick.yield(true)
            let watcher = Task {
                for await _ in changed { tick.yield(true) }
            }
            let ticker = ServerSentEvents.ticker { tick.yield(false) }
            defer {
                watcher.cancel()
                ticker.cancel()
            }
            var version = after
            do {
                try await withGracefulShutdownHandler {
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    for await changed in ticks {
                        // A keep-alive tick may have replaced a pending change: read on every tick.
                        var sent = false
                        while true {
                            let page = try await log.entries(of: id, after: version)
                            for entry in page.entries {
                                version = entry["version"]?.intValue ?? version
                                let event = entry["eventType"]?.stringValue ?? "event"
                                try await writer.write(ByteBuffer(string: "id: \(version)\nevent: \(event)\ndata: \(entry.serialized())\n\n"))
                                sent = true
                            }
                            if page.entries.count < EventLogReader.pageSize { break }
                        }
                        if !changed, !sent { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                    }
                } onGracefulShutdown: {
                    tick.finish()
                }
                try await writer.finish(nil)
            } catch {
                // The client went away (or the store failed): nothing more to send.
            }
        }
        return Response(status: .ok, headers: ServerSentEvents.headers, body: body)
    }
}
