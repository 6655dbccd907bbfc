import HTTPTypes

/// What the two long-lived SSE responses (`GET /mcp`, `…/events/stream`) share.
enum ServerSentEvents {
    /// How often an idle stream sends a comment, so that proxies and the idle timeout keep it open.
    static let keepAlive: Duration = .seconds(15)

    /// The response headers of a stream.
    static var headers: HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return headers
    }

    /// A task calling `tick` every ``keepAlive`` until it is cancelled.
    static func ticker(_ tick: @escaping @Sendable () -> Void) -> Task<Void, Never> {
        Task {
            while (try? await Task.sleep(for: keepAlive)) != nil { tick() }
        }
    }
}
