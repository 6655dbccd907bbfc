import Hummingbird

/// A request context that carries what the server's middleware established: the request id and
/// the authenticated principal.
public protocol GuardedRequestContext: RequestContext {
    /// The request's id (the client's `X-Request-Id` or a new one), set by ``RequestIdMiddleware``.
    var requestId: String { get set }
    /// The principal the bearer token stands for, set by ``GuardMiddleware`` (nil when anonymous).
    var principal: String? { get set }
    /// Set by ``GuardMiddleware`` once the request passed it; handlers refuse a request without it,
    /// so a router that forgot the guard fails closed.
    var isGuarded: Bool { get set }
}

/// The request context of the server's application.
public struct ServerRequestContext: GuardedRequestContext {
    /// Hummingbird's per-request storage (logger, parameters, allocator).
    public var coreContext: CoreRequestContextStorage
    /// The request's id (see ``RequestIdMiddleware``).
    public var requestId = ""
    /// The authenticated principal (see ``GuardMiddleware``).
    public var principal: String?
    /// Whether ``GuardMiddleware`` passed the request.
    public var isGuarded = false

    /// A context for a new request.
    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
