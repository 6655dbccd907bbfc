import Hummingbird

/// A request context that carries what the server's middleware established: the request id and
/// the authenticated principal.
public protocol GuardedRequestContext: RequestContext {
    /// The request's id (the client's `X-Request-Id` or a new one), set by ``RequestIdMiddleware``.
    var requestId: String { get set }
    /// The principal the bearer token stands for, set by ``GuardMiddleware`` (nil when anonymous).
    var principal: String? { get set }
}

/// The request context of the server's application.
public struct ServerRequestContext: GuardedRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestId = ""
    public var principal: String?

    /// A context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
