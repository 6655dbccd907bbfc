import CQRS
import CQRSMCP
import Foundation
import HTTPTypes
import Hummingbird

/// The checks every route passes alike, before any handler runs:
///
/// 1. `Host` must name an allowed host when ``MCPHTTPOptions/allowedHosts`` is set (a loopback-bound
///    server answers only to loopback names: the DNS-rebinding defence), else 403;
/// 2. an `Origin`, when sent, must be allowed (localhost origins and ``MCPHTTPOptions/allowedOrigins``), else 403;
/// 3. with a bearer token or an ``MCPHTTPOptions/authenticate`` check configured, `Authorization:
///    Bearer …` must pass (compared in constant time), else 401 with `WWW-Authenticate`. Liveness
///    (`/health`) and the docs page's static files need no token: they reveal no data.
///
/// Refusals on the MCP endpoint are JSON-RPC error bodies (what MCP clients read); elsewhere
/// problem documents.
public struct GuardMiddleware<Context: GuardedRequestContext>: RouterMiddleware {
    let options: MCPHTTPOptions
    /// Paths served without a token: liveness and the docs page's static files.
    static var openPaths: Set<String> { Set(["/health"]).union(DocsAssets.paths) }

    /// The response for a request that reached a handler without passing the guard (a router
    /// built without ``GuardMiddleware``): a 500, never an unguarded answer.
    static func unguarded(isMCP: Bool) -> Response {
        let message = "Server misconfigured: the route is not behind GuardMiddleware"
        if isMCP { return MCPHTTPTransport.httpError(.internalServerError, code: JSONRPCErrorCode.internalError, message) }
        return Problem.response(for: Problem.generic(500, message), requestId: "")
    }

    /// Guards with the server's options.
    public init(options: MCPHTTPOptions) {
        self.options = options
    }

    /// Refuses the request, or passes it on with ``GuardedRequestContext/principal`` set.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let isMCP = request.uri.path == "/" + options.path
        if let hosts = options.allowedHosts {
            guard let authority = request.head.authority, hosts.contains(Self.hostName(authority)) else {
                return refusal(.forbidden, "Forbidden: host not allowed", isMCP: isMCP, context: context)
            }
        }
        if let origin = request.headers[.origin], !isAllowedOrigin(origin) {
            return refusal(.forbidden, "Forbidden: origin not allowed", isMCP: isMCP, context: context)
        }
        var context = context
        context.isGuarded = true
        if options.authenticate != nil || options.bearerToken != nil, !Self.openPaths.contains(request.uri.path) {
            switch await authenticate(request) {
            case .success(let principal): context.principal = principal
            case .failure(let challenge):
                var response = refusal(.unauthorized, "Unauthorized", isMCP: isMCP, context: context)
                response.headers[.wwwAuthenticate] = challenge.value
                return response
            }
        }
        return try await next(request, context)
    }

    private func refusal(_ status: HTTPResponse.Status, _ message: String, isMCP: Bool, context: Context) -> Response {
        if isMCP { return MCPHTTPTransport.httpError(status, code: JSONRPCErrorCode.invalidRequest, message) }
        return Problem.response(for: Problem.generic(status.code, message), requestId: context.requestId)
    }

    /// The host of a `Host` value, without its port, lowercased (`[::1]:8080` gives `[::1]`).
    static func hostName(_ authority: String) -> String {
        let lowered = authority.lowercased()
        if lowered.hasPrefix("[") {
            guard let close = lowered.firstIndex(of: "]") else { return lowered }
            return String(lowered[...close])
        }
        return String(lowered.prefix { $0 != ":" })
    }

    func isAllowedOrigin(_ origin: String) -> Bool {
        let lowered = origin.lowercased()
        if options.allowedOrigins.contains(lowered) { return true }
        guard options.allowLocalhostOrigins else { return false }
        for scheme in ["http://", "https://"] where lowered.hasPrefix(scheme) {
            let authority = String(lowered.dropFirst(scheme.count))
            let host = Self.hostName(authority)
            guard MCPHTTPOptions.loopbackHosts.contains(host) else { return false }
            let rest = authority.dropFirst(host.count)
            if rest.isEmpty { return true }
            guard rest.first == ":" else { return false }
            let port = rest.dropFirst()
            return !port.isEmpty && port.count <= 5 && port.allSatisfy { $0.isASCII && $0.isNumber }
        }
        return false
    }

    struct Challenge: Error {
        let value: String
    }

    private func authenticate(_ request: Request) async -> Result<String?, Challenge> {
        let header = request.headers[.authorization]
        var token: String?
        if let header, header.count > 7, header.prefix(7).lowercased() == "bearer " {
            token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        if let token, !token.isEmpty {
            if let check = options.authenticate {
                if let principal = await check(token) { return .success(principal) }
            } else if let expected = options.bearerToken, Self.constantTimeEqual(Array(token.utf8), Array(expected.utf8)) {
                return .success(nil)
            }
        }
        var challenge = "Bearer"
        var parameters: [String] = []
        if let url = options.resourceMetadataURL { parameters.append("resource_metadata=\"\(url)\"") }
        if token != nil { parameters.append("error=\"invalid_token\"") }
        if !parameters.isEmpty { challenge += " " + parameters.joined(separator: ", ") }
        return .failure(Challenge(value: challenge))
    }

    /// Compares two byte strings in time that depends only on their lengths.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count)
        if lhs.count != rhs.count { difference |= 1 }
        let count = max(lhs.count, rhs.count)
        for index in 0..<count {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
