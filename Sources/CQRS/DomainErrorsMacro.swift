import HTTPTypes

/// Derives a ``DomainErrorCode`` conformance from an enum's cases:
/// ```swift
/// @DomainErrors(domain: "account", prefix: 10)
/// enum AccountError {
///     @ErrorCode(1, .badRequest)
///     case insufficientFunds                      // ACCOUNT_INSUFFICIENT_FUNDS, internal code 10001
///     @ErrorCode(3, .gone, name: "CLOSED", hint: "Open a new account.")
///     case accountClosed                          // ACCOUNT_CLOSED
/// }
/// ```
/// The code name defaults to the case name in SCREAMING_SNAKE_CASE. Two cases with one index or one
/// name, an index outside 0…999, a status that is not 4xx or 5xx, or a case without ``ErrorCode(_:_:name:hint:)``
/// do not compile. Prefix 0 is the infrastructure, 1 the generic HTTP codes, 2–9 are reserved, 10
/// and up are yours (two domains with one prefix are refused when a catalog registers them).
@attached(extension, conformances: DomainErrorCode, names: named(domain), named(prefix), named(spec))
public macro DomainErrors(domain: String, prefix: Int) = #externalMacro(module: "CQRSSchemaMacros", type: "DomainErrorsMacro")

/// One code of a ``DomainErrors(domain:prefix:)`` enum: its index in the domain, its HTTP status,
/// and optionally its name (instead of the case name) and a hint on what a caller can do.
@attached(peer)
public macro ErrorCode(_ index: Int, _ status: HTTPResponse.Status, name: String? = nil, hint: String? = nil) =
    #externalMacro(module: "CQRSSchemaMacros", type: "ErrorCodeMacro")
