import CQRSSchema

/// An RFC 9457 problem document (`application/problem+json`) for a ``CqrsError``.
@Schema
public struct ProblemDetails: Sendable, Hashable, Codable {
    /// The media type of a problem document.
    public static let mediaType = "application/problem+json"

    /// A URI naming the problem type.
    public var type: String
    /// A short human-readable summary of the problem type.
    public var title: String
    /// The HTTP status.
    public var status: Int
    /// A human-readable explanation of this occurrence.
    public var detail: String
    /// A URI naming this occurrence (`urn:cqrs-request:{requestId}`), when the request id is known.
    public var instance: String?
    /// Extension: the error's domain.
    public var domain: String
    /// Extension: the machine-readable code.
    public var code: String
    /// Extension: the internal code.
    public var internalCode: Int
    /// Extension: structured details.
    public var details: JSONValue?
    /// Extension: what the caller can do about it.
    public var hint: String?
    /// Extension: the request id.
    public var requestId: String?
}

extension CqrsError {
    /// The RFC 9457 form of this error.
    ///
    /// - Parameter typeBaseURI: when set, `type` is `{base}/{code}`; otherwise `urn:cqrs-error:{domain}:{code}`.
    public func problemDetails(typeBaseURI: String? = nil) -> ProblemDetails {
        let type: String
        if let base = typeBaseURI {
            var trimmed = Substring(base)
            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            type = "\(trimmed)/\(code)"
        } else {
            type = "urn:cqrs-error:\(domain):\(code)"
        }
        let instance = requestId.flatMap { $0.isEmpty ? nil : "urn:cqrs-request:\($0)" }
        return ProblemDetails(
            type: type, title: title, status: status, detail: message, instance: instance, domain: domain,
            code: code, internalCode: internalCode, details: details, hint: hint, requestId: requestId)
    }

    /// A human title derived from the code: `ACCOUNT_INSUFFICIENT_FUNDS` gives "Insufficient funds".
    public var title: String {
        let prefix = domain.uppercased() + "_"
        let name = code.hasPrefix(prefix) ? String(code.dropFirst(prefix.count)) : code
        let words = name.lowercased().split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}
