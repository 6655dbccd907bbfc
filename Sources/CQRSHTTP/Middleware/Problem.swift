import CQRS
import CQRSSchema
import HTTPTypes
import Hummingbird
import NIOCore

/// `application/problem+json` (RFC 9457) responses for ``CqrsError``s.
enum Problem {
    /// The response for an error, with the request id recorded in the document.
    static func response(for error: CqrsError, requestId: String, headers extra: HTTPFields = [:]) -> Response {
        // A status outside 400…599 (a misdeclared error) must never crash or read as success.
        var error = error
        if !(400...599).contains(error.status) { error.status = 500 }
        let problem = error.with(requestId: requestId).problemDetails()
        var headers = extra
        headers[.contentType] = ProblemDetails.mediaType
        headers[.cacheControl] = "no-store"
        let bytes = ((try? CQRSJSON.value(of: problem)) ?? .object([:])).serializedBytes(sortedKeys: true)
        return Response(
            status: HTTPResponse.Status(code: error.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A generic error for an HTTP status (`404 NOT_FOUND`, `405 METHOD_NOT_ALLOWED`, …).
    static func generic(_ status: Int, _ message: String, details: JSONValue? = nil) -> CqrsError {
        let code = GenericError.allCases.first { $0.spec.status == status } ?? .internalError
        return code.error(message, details: details)
    }

    /// Any error as a ``CqrsError``: Hummingbird's own (unknown route…) keep their status.
    static func error(from error: any Error) -> CqrsError {
        if let cqrs = error as? CqrsError { return cqrs }
        if let http = error as? any HTTPResponseError {
            let status = http.status.code
            let message = status == 404 ? "No route matches this path" : http.status.reasonPhrase
            return generic(status, message)
        }
        return CqrsError.wrapping(error)
    }
}
