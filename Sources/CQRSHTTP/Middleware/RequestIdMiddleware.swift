import CQRS
import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request an id (the client's valid `X-Request-Id`, else a new UUID), sends it back
/// on every response, and turns any error a handler throws into a problem document.
public struct RequestIdMiddleware<Context: GuardedRequestContext>: RouterMiddleware {
    /// The `X-Request-Id` header.
    public static var header: HTTPField.Name { HTTPField.Name("X-Request-Id")! }

    /// Creates the middleware.
    public init() {}

    /// Runs the request with its id, and answers any thrown error with a problem document.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[Self.header].flatMap(Self.valid) ?? UUID().uuidString.lowercased()
        context.requestId = id
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Problem.response(for: Problem.error(from: error), requestId: id)
        }
        response.headers[Self.header] = id
        return response
    }

    /// A client's request id when it is 1–200 visible ASCII characters (anything else is replaced,
    /// so that no header or log line can be forged through it).
    static func valid(_ value: String) -> String? {
        guard (1...200).contains(value.utf8.count), value.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        return value
    }
}
