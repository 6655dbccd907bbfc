import CQRSSchema

/// The one error type every layer of the library returns.
///
/// Its JSON form is the contract with clients:
/// `{"domain","code","internalCode","status","message","details"?,"hint"?,"requestId"?}`.
/// `code` is `DOMAIN_NAME` in upper case and `internalCode` is `prefix * 1000 + index`.
@Schema
public struct CqrsError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The domain that owns the code, e.g. `"account"` or `"infrastructure"`.
    public var domain: String
    /// The machine-readable code, e.g. `"ACCOUNT_INSUFFICIENT_FUNDS"`.
    public var code: String
    /// A number unique across all domains: `prefix * 1000 + index`.
    public var internalCode: Int
    /// The HTTP status this error maps to.
    public var status: Int
    /// A human-readable explanation of this occurrence.
    public var message: String
    /// Structured facts about this occurrence (e.g. the current version on a conflict).
    public var details: JSONValue?
    /// What the caller can do about it, e.g. "Withdraw at most 200." (shown to agents after the message).
    public var hint: String?
    /// The id of the request that failed, when known.
    public var requestId: String?

    /// Creates an error from its parts; prefer ``DomainErrorCode/error(_:details:hint:)``.
    public init(
        domain: String, code: String, internalCode: Int, status: Int, message: String,
        details: JSONValue? = nil, hint: String? = nil, requestId: String? = nil
    ) {
        self.hint = hint
        self.domain = domain
        self.code = code
        self.internalCode = internalCode
        self.status = status
        self.message = message
        self.details = details
        self.requestId = requestId
    }

    public var description: String { "[\(internalCode)] \(code): \(message)" }

    /// A copy carrying `details`.
    public func with(details: JSONValue) -> CqrsError {
        var copy = self
        copy.details = details
        return copy
    }

    /// A copy carrying `requestId`, unless one is already set or the id is empty.
    public func with(requestId: String) -> CqrsError {
        guard self.requestId == nil, !requestId.isEmpty else { return self }
        var copy = self
        copy.requestId = requestId
        return copy
    }
}

/// A set of error codes owned by one domain.
///
/// Declare one as an enum in a few lines:
/// ```swift
/// enum AccountError: DomainErrorCode {
///     case insufficientFunds, invalidAmount, accountClosed
///     static let domain = "account"
///     static let prefix = 10
///     var spec: ErrorSpec {
///         switch self {
///         case .insufficientFunds: ErrorSpec(1, status: 400, "INSUFFICIENT_FUNDS")
///         case .invalidAmount: ErrorSpec(2, status: 400, "INVALID_AMOUNT")
///         case .accountClosed: ErrorSpec(3, status: 410, "ACCOUNT_CLOSED")
///         }
///     }
/// }
/// ```
/// Prefix 0 is the infrastructure, 1 the generic HTTP codes, 2–9 are reserved, 10 and up are yours.
public protocol DomainErrorCode: Sendable, CaseIterable {
    /// The domain name, e.g. `"account"`.
    static var domain: String { get }
    /// The thousands of every internal code in this set.
    static var prefix: Int { get }
    /// Index, HTTP status and name of one code.
    var spec: ErrorSpec { get }
}

/// Index, HTTP status and name of one ``DomainErrorCode``.
public struct ErrorSpec: Sendable, Hashable {
    /// The code's index inside its domain (0–999).
    public var index: Int
    /// The HTTP status.
    public var status: Int
    /// The name without the domain, e.g. `"INSUFFICIENT_FUNDS"`.
    public var name: String
    /// What a caller can do about every error of this code, unless the error carries its own.
    public var hint: String?

    /// Creates a spec.
    public init(_ index: Int, status: Int, _ name: String, hint: String? = nil) {
        self.index = index
        self.status = status
        self.name = name
        self.hint = hint
    }
}

extension DomainErrorCode {
    /// `prefix * 1000 + index`.
    public var internalCode: Int { Self.prefix * 1000 + spec.index }
    /// `DOMAIN_NAME`, e.g. `ACCOUNT_INSUFFICIENT_FUNDS`.
    public var code: String { "\(Self.domain.uppercased())_\(spec.name)" }

    /// An error of this code with a message, optional details and a hint (the spec's by default).
    public func error(_ message: String, details: JSONValue? = nil, hint: String? = nil) -> CqrsError {
        CqrsError(
            domain: Self.domain, code: code, internalCode: internalCode, status: spec.status,
            message: message, details: details, hint: hint ?? spec.hint)
    }
}

/// The library's own codes (domain `infrastructure`, prefix 0).
public enum InfrastructureError: DomainErrorCode {
    case internalError, validationFailed, notFound, conflict, unauthorized, forbidden, gone
    case databaseError, serializationError, aggregateNotFound, concurrencyError, domainError
    case cqrsInternalError, configurationError, aggregateAlreadyExists, idempotencyKeyReused
    case serviceUnavailable, unknown

    public static let domain = "infrastructure"
    public static let prefix = 0
    public var spec: ErrorSpec {
        switch self {
        case .internalError: ErrorSpec(0, status: 500, "INTERNAL_ERROR")
        case .validationFailed: ErrorSpec(1, status: 400, "VALIDATION_FAILED")
        case .notFound: ErrorSpec(2, status: 404, "NOT_FOUND")
        case .conflict: ErrorSpec(3, status: 409, "CONFLICT")
        case .unauthorized: ErrorSpec(4, status: 401, "UNAUTHORIZED")
        case .forbidden: ErrorSpec(5, status: 403, "FORBIDDEN")
        case .gone: ErrorSpec(6, status: 410, "GONE")
        case .databaseError: ErrorSpec(10, status: 500, "DATABASE_ERROR")
        case .serializationError: ErrorSpec(11, status: 500, "SERIALIZATION_ERROR")
        case .aggregateNotFound: ErrorSpec(12, status: 404, "AGGREGATE_NOT_FOUND")
        case .concurrencyError: ErrorSpec(13, status: 409, "CONCURRENCY_ERROR")
        case .domainError: ErrorSpec(14, status: 400, "DOMAIN_ERROR")
        case .cqrsInternalError: ErrorSpec(15, status: 500, "CQRS_ERROR")
        case .configurationError: ErrorSpec(16, status: 500, "CONFIGURATION_ERROR")
        case .aggregateAlreadyExists: ErrorSpec(17, status: 409, "AGGREGATE_ALREADY_EXISTS")
        case .idempotencyKeyReused: ErrorSpec(18, status: 422, "IDEMPOTENCY_KEY_REUSED")
        case .serviceUnavailable: ErrorSpec(19, status: 503, "SERVICE_UNAVAILABLE")
        case .unknown: ErrorSpec(99, status: 500, "UNKNOWN")
        }
    }
}

/// Generic HTTP-level codes (domain `generic`, prefix 1); later codes use the HTTP status as index.
public enum GenericError: DomainErrorCode {
    case internalError, validationFailed, notFound, conflict, unauthorized, forbidden, gone
    case paymentRequired, methodNotAllowed, notAcceptable, requestTimeout, preconditionFailed
    case payloadTooLarge, unsupportedMediaType, unprocessableEntity, locked, preconditionRequired
    case tooManyRequests, notImplemented, serviceUnavailable, gatewayTimeout

    public static let domain = "generic"
    public static let prefix = 1
    public var spec: ErrorSpec {
        switch self {
        case .internalError: ErrorSpec(0, status: 500, "INTERNAL_ERROR")
        case .validationFailed: ErrorSpec(1, status: 400, "VALIDATION_FAILED")
        case .notFound: ErrorSpec(2, status: 404, "NOT_FOUND")
        case .conflict: ErrorSpec(3, status: 409, "CONFLICT")
        case .unauthorized: ErrorSpec(4, status: 401, "UNAUTHORIZED")
        case .forbidden: ErrorSpec(5, status: 403, "FORBIDDEN")
        case .gone: ErrorSpec(6, status: 410, "GONE")
        case .paymentRequired: ErrorSpec(402, status: 402, "PAYMENT_REQUIRED")
        case .methodNotAllowed: ErrorSpec(405, status: 405, "METHOD_NOT_ALLOWED")
        case .notAcceptable: ErrorSpec(406, status: 406, "NOT_ACCEPTABLE")
        case .requestTimeout: ErrorSpec(408, status: 408, "REQUEST_TIMEOUT")
        case .preconditionFailed: ErrorSpec(412, status: 412, "PRECONDITION_FAILED")
        case .payloadTooLarge: ErrorSpec(413, status: 413, "PAYLOAD_TOO_LARGE")
        case .unsupportedMediaType: ErrorSpec(415, status: 415, "UNSUPPORTED_MEDIA_TYPE")
        case .unprocessableEntity: ErrorSpec(422, status: 422, "UNPROCESSABLE_ENTITY")
        case .locked: ErrorSpec(423, status: 423, "LOCKED")
        case .preconditionRequired: ErrorSpec(428, status: 428, "PRECONDITION_REQUIRED")
        case .tooManyRequests: ErrorSpec(429, status: 429, "TOO_MANY_REQUESTS")
        case .notImplemented: ErrorSpec(501, status: 501, "NOT_IMPLEMENTED")
        case .serviceUnavailable: ErrorSpec(503, status: 503, "SERVICE_UNAVAILABLE")
        case .gatewayTimeout: ErrorSpec(504, status: 504, "GATEWAY_TIMEOUT")
        }
    }
}

extension CqrsError {
    /// 404 `INFRASTRUCTURE_AGGREGATE_NOT_FOUND`.
    public static func aggregateNotFound(_ type: String, id: String) -> CqrsError {
        InfrastructureError.aggregateNotFound.error(
            "Aggregate \(type) '\(id)' not found", details: ["aggregateType": .string(type), "id": .string(id)])
    }
    /// 409 `INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS`.
    public static func aggregateAlreadyExists(_ type: String, id: String) -> CqrsError {
        InfrastructureError.aggregateAlreadyExists.error(
            "Aggregate \(type) '\(id)' already exists", details: ["aggregateType": .string(type), "id": .string(id)])
    }
    /// 409 `INFRASTRUCTURE_CONCURRENCY_ERROR`, with the versions in `details`.
    public static func concurrency(id: String, expectedVersion: Int, currentVersion: Int) -> CqrsError {
        InfrastructureError.concurrencyError.error(
            "Version conflict on '\(id)': expected version \(expectedVersion), current version is \(currentVersion)",
            details: [
                "id": .string(id), "expectedVersion": .int(expectedVersion), "currentVersion": .int(currentVersion),
            ])
    }
    /// 409 `INFRASTRUCTURE_CONCURRENCY_ERROR` for a command without an expected version whose every
    /// attempt was overtaken by another writer's commit.
    public static func overtaken(_ type: String, id: String, attempts: Int, currentVersion: Int?) -> CqrsError {
        var details: [String: JSONValue] = ["id": .string(id), "attempts": .int(attempts)]
        if let currentVersion { details["currentVersion"] = .int(currentVersion) }
        return InfrastructureError.concurrencyError.error(
            "\(type) '\(id)' kept changing: each of \(attempts) attempts was overtaken by another writer's commit, and nothing was written. Retry the command.",
            details: .object(details))
    }
    /// 400 `INFRASTRUCTURE_VALIDATION_FAILED`.
    public static func validation(_ message: String, details: JSONValue? = nil) -> CqrsError {
        InfrastructureError.validationFailed.error(message, details: details)
    }
    /// 500 `INFRASTRUCTURE_DATABASE_ERROR`.
    public static func database(_ message: String, details: JSONValue? = nil) -> CqrsError {
        InfrastructureError.databaseError.error(message, details: details)
    }
    /// 500 `INFRASTRUCTURE_SERIALIZATION_ERROR`.
    public static func serialization(_ message: String) -> CqrsError {
        InfrastructureError.serializationError.error(message)
    }
    /// 500 `INFRASTRUCTURE_INTERNAL_ERROR` with a message safe to show to clients.
    public static func internalError(_ message: String = "Internal error") -> CqrsError {
        InfrastructureError.internalError.error(message)
    }

    /// Any error as a `CqrsError`: a `CqrsError` passes through, anything else becomes a 500 whose
    /// message hides the internal details (they belong in logs, not in client responses).
    public static func wrapping(_ error: any Error) -> CqrsError {
        if let cqrs = error as? CqrsError { return cqrs }
        if let convertible = error as? any CqrsErrorConvertible { return convertible.cqrsError }
        return .internalError()
    }
}

/// An error type that knows its `CqrsError` form (throw it from handlers like a `CqrsError`).
public protocol CqrsErrorConvertible: Error {
    /// The structured form of this error.
    var cqrsError: CqrsError { get }
}

/// Checks that no two codes of the given sets share an internal code; use it in a test.
///
/// - Returns: one line per collision, empty when every code is unique.
public func internalCodeCollisions(_ sets: [any DomainErrorCode.Type]) -> [String] {
    var seen: [Int: String] = [:]
    var collisions: [String] = []
    for set in sets {
        for code in set.allCodes {
            if let other = seen[code.internalCode] {
                collisions.append("\(code.code) and \(other) share internal code \(code.internalCode)")
            } else {
                seen[code.internalCode] = code.code
            }
        }
    }
    return collisions
}

extension DomainErrorCode {
    fileprivate static var allCodes: [any DomainErrorCode] { allCases.map { $0 } }
}
