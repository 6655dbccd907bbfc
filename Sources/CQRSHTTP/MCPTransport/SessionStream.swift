import CQRSMCP
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A legacy session's `GET /mcp` stream: each outbound message as an SSE event whose id is its
/// number in the session, a comment every 15 s (keeping the connection and the session alive), until
/// the session ends, another stream replaces this one, the client leaves or the server shuts down.
enum SessionStream {
    static func response(_ messages: AsyncStream<MCPSession.OutboundMessage>, keepAlive touch: @escaping @Sendable () -> Void) -> Response {
        let body = ResponseBody { writer in
            let (events, event) = AsyncStream<MCPSession.OutboundMessage?>.makeStream(bufferingPolicy: .bufferingNewest(MCPSession.outboxCapacity))
            let forward = Task {
                for await message in messages { event.yield(message) }
                event.finish()
            }
            let ticker = ServerSentEvents.ticker { event.yield(nil) }
            defer {
                forward.cancel()
                ticker.cancel()
            }
            do {
                try await withGracefulShutdownHandler {
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    for await message in events {
                        guard let message else {
                            touch()
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                            continue
                        }
                        var buffer = ByteBuffer(string: "id: \(message.id)\nevent: message\ndata: ")
                        buffer.writeBytes(message.bytes)
                        buffer.writeString("\n\n")
                        try await writer.write(buffer)
                    }
                } onGracefulShutdown: {
                    event.finish()
                }
                try await writer.finish(nil)
            } catch {
                // The client went away.
            }
        }
        return Response(status: .ok, headers: ServerSentEvents.headers, body: body)
    }
}
