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

/// A set of error codes owned by one domain. Declare one with ``DomainErrors(domain:prefix:)``
/// (or conform by hand: `domain`, `prefix` and a `spec` per case).
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
@DomainErrors(domain: "infrastructure", prefix: 0)
public enum InfrastructureError {
    @ErrorCode(0, .internalServerError)
    case internalError
    @ErrorCode(1, .badRequest)
    case validationFailed
    @ErrorCode(2, .notFound)
    case notFound
    @ErrorCode(3, .conflict)
    case conflict
    @ErrorCode(4, .unauthorized)
    case unauthorized
    @ErrorCode(5, .forbidden)
    case forbidden
    @ErrorCode(6, .gone)
    case gone
    @ErrorCode(10, .internalServerError)
    case databaseError
    @ErrorCode(11, .internalServerError)
    case serializationError
    @ErrorCode(12, .notFound)
    case aggregateNotFound
    @ErrorCode(13, .conflict)
    case concurrencyError
    @ErrorCode(14, .badRequest)
    case domainError
    @ErrorCode(15, .internalServerError, name: "CQRS_ERROR")
    case cqrsInternalError
    @ErrorCode(16, .internalServerError)
    case configurationError
    @ErrorCode(17, .conflict)
    case aggregateAlreadyExists
    @ErrorCode(18, .unprocessableContent)
    case idempotencyKeyReused
    @ErrorCode(19, .serviceUnavailable)
    case serviceUnavailable
    @ErrorCode(99, .internalServerError)
    case unknown
}

/// Generic HTTP-level codes (domain `generic`, prefix 1); later codes use the HTTP status as index.
@DomainErrors(domain: "generic", prefix: 1)
public enum GenericError {
    @ErrorCode(0, .internalServerError)
    case internalError
    @ErrorCode(1, .badRequest)
    case validationFailed
    @ErrorCode(2, .notFound)
    case notFound
    @ErrorCode(3, .conflict)
    case conflict
    @ErrorCode(4, .unauthorized)
    case unauthorized
    @ErrorCode(5, .forbidden)
    case forbidden
    @ErrorCode(6, .gone)
    case gone
    @ErrorCode(402, 402)
    case paymentRequired
    @ErrorCode(405, .methodNotAllowed)
    case methodNotAllowed
    @ErrorCode(406, .notAcceptable)
    case notAcceptable
    @ErrorCode(408, .requestTimeout)
    case requestTimeout
    @ErrorCode(412, .preconditionFailed)
    case preconditionFailed
    @ErrorCode(413, .contentTooLarge)
    case payloadTooLarge
    @ErrorCode(415, .unsupportedMediaType)
    case unsupportedMediaType
    @ErrorCode(422, .unprocessableContent)
    case unprocessableEntity
    @ErrorCode(423, 423)
    case locked
    @ErrorCode(428, .preconditionRequired)
    case preconditionRequired
    @ErrorCode(429, .tooManyRequests)
    case tooManyRequests
    @ErrorCode(501, .notImplemented)
    case notImplemented
    @ErrorCode(503, .serviceUnavailable)
    case serviceUnavailable
    @ErrorCode(504, .gatewayTimeout)
    case gatewayTimeout
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
