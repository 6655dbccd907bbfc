import CQRSSchema

/// A JSON-RPC request id, kept as the exact JSON text the client sent.
///
/// The id is echoed byte for byte, so integers beyond the range of `Int` (or of a double) and
/// strings with unusual escapes come back exactly as they went out.
public struct MCPRequestID: Sendable, Hashable, CustomStringConvertible {
    /// Two ids are equal when they are the same string, or the same number spelled the same way.
    public static func == (lhs: MCPRequestID, rhs: MCPRequestID) -> Bool { lhs.key == rhs.key }

    /// Hashes the id's identity (see ``==(_:_:)``).
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    private var key: String {
        if case .string(let text) = value { return "s" + text }
        return "n" + String(decoding: raw, as: UTF8.self)
    }

    /// The id's JSON text, e.g. `7` or `"abc"`.
    public let raw: [UInt8]
    /// The decoded value (a string, an integer, or a double for an integer too large for `Int`).
    public let value: JSONValue

    /// Creates an id from its JSON text and decoded value.
    public init(raw: [UInt8], value: JSONValue) {
        self.raw = raw
        self.value = value
    }

    /// Creates a string id.
    public init(_ text: String) {
        self.value = .string(text)
        self.raw = JSONValue.string(text).serializedBytes()
    }

    /// Creates an integer id.
    public init(_ number: Int) {
        self.value = .int(number)
        self.raw = Array(String(number).utf8)
    }

    /// Whether the id is a JSON string.
    public var isString: Bool { raw.first == UInt8(ascii: "\"") }

    /// The id as text: a string id's value, or a numeric id's digits.
    public var description: String {
        if case .string(let text) = value { return text }
        return String(decoding: raw, as: UTF8.self)
    }
}

/// A JSON-RPC message received by the server, decoded and classified but not yet served.
///
/// Transports use it to decide how to answer before the server runs anything (for example the
/// HTTP transport answers `202 Accepted` for notifications and checks headers against the body).
public struct MCPInboundMessage: Sendable {
    /// What the message is.
    public enum Kind: Sendable {
        /// A request that expects a response.
        case request(id: MCPRequestID, method: String)
        /// A notification (no id, no response).
        case notification(method: String)
        /// A response to a request the server sent (`elicitation/create`); `params` holds its
        /// `result` or `error` member.
        case response(id: MCPRequestID?)
        /// A message that cannot be served; `reply` is the JSON-RPC error response to send back.
        case invalid(reply: MCPReply)
    }

    /// What the message is.
    public let kind: Kind
    /// The `params` member, when present.
    public let params: JSONValue?

    /// Creates a message (normally done by ``MCPServer/decode(_:)``).
    public init(kind: Kind, params: JSONValue?) {
        self.init(kind: kind, params: params, cancelledRequestRaw: nil)
    }

    init(kind: Kind, params: JSONValue?, cancelledRequestRaw: [UInt8]?) {
        self.kind = kind
        self.params = params
        self.cancelledRequestRaw = cancelledRequestRaw
    }

    /// For `notifications/cancelled`: the raw text of `params.requestId`.
    let cancelledRequestRaw: [UInt8]?

    /// The method, for requests and notifications.
    public var method: String? {
        switch kind {
        case .request(_, let method), .notification(let method): return method
        case .response, .invalid: return nil
        }
    }

    /// The id, for requests.
    public var id: MCPRequestID? {
        if case .request(let id, _) = kind { return id }
        return nil
    }

    /// Whether this is an `initialize` request.
    public var isInitialize: Bool {
        if case .request(_, "initialize") = kind { return true }
        return false
    }

    /// Whether this is a request.
    public var isRequest: Bool {
        if case .request = kind { return true }
        return false
    }

    /// `params._meta`, when it is an object.
    public var meta: [String: JSONValue]? { params?["_meta"]?.objectValue }

    /// The per-request protocol version of the 2026-07-28 revision
    /// (`params._meta["io.modelcontextprotocol/protocolVersion"]`), when present.
    public var metaProtocolVersion: JSONValue? { meta?[MCPProtocol.protocolVersionMetaKey] }

    /// `params.name` or `params.uri`: the value the 2026-07-28 HTTP `Mcp-Name` header mirrors.
    public var nameParameter: String? {
        switch method {
        case "tools/call", "prompts/get": return params?["name"]?.stringValue
        case "resources/read": return params?["uri"]?.stringValue
        default: return nil
        }
    }
}

/// A JSON-RPC response ready to send, with the error code when it is an error response.
public struct MCPReply: Sendable, Hashable {
    /// The serialized response (compact JSON, no trailing newline).
    public var bytes: [UInt8]
    /// The JSON-RPC error code, or `nil` for a result.
    public var errorCode: Int?

    /// Creates a reply.
    public init(bytes: [UInt8], errorCode: Int?) {
        self.bytes = bytes
        self.errorCode = errorCode
    }

    /// A result response.
    public static func result(id: MCPRequestID, _ result: JSONValue) -> MCPReply {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out += id.raw
        out += Array(#","result":"#.utf8)
        out += result.serializedBytes(sortedKeys: true)
        out.append(UInt8(ascii: "}"))
        return MCPReply(bytes: out, errorCode: nil)
    }

    /// An error response; a `nil` id is written as `"id":null`.
    public static func error(id: MCPRequestID?, _ error: MCPError) -> MCPReply {
        var out = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
        out += id?.raw ?? Array("null".utf8)
        var body: [String: JSONValue] = ["code": .int(error.code), "message": .string(error.message)]
        if let data = error.data { body["data"] = data }
        out += Array(#","error":"#.utf8)
        out += JSONValue.object(body).serializedBytes(sortedKeys: true)
        out.append(UInt8(ascii: "}"))
        return MCPReply(bytes: out, errorCode: error.code)
    }
}

/// Finds the byte range of top-level object members in JSON text already known to be valid.
enum RawJSONScanner {
    /// The exact text of the value of `key` in the top-level object, or nil.
    static func memberValue(_ key: String, in bytes: [UInt8]) -> [UInt8]? {
        var index = 0
        skipWhitespace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        let wanted = Array(key.utf8)
        while index < bytes.count {
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { return nil }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            let keyStart = index
            skipString(bytes, &index)
            let keyText = Array(bytes[keyStart..<index])
            skipWhitespace(bytes, &index)
            index += 1  // ':'
            skipWhitespace(bytes, &index)
            let valueStart = index
            skipValue(bytes, &index)
            if keyMatches(keyText, wanted) { return Array(bytes[valueStart..<index]) }
        }
        return nil
    }

    private static func keyMatches(_ quoted: [UInt8], _ wanted: [UInt8]) -> Bool {
        if !quoted.contains(UInt8(ascii: "\\")) {
            return quoted.count == wanted.count + 2 && quoted[1..<(quoted.count - 1)].elementsEqual(wanted)
        }
        guard let decoded = try? JSONValue.parse(quoted), case .string(let text) = decoded else { return false }
        return Array(text.utf8) == wanted
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D {
            index += 1
        }
    }

    private static func skipString(_ bytes: [UInt8], _ index: inout Int) {
        index += 1  // opening quote
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 2
            } else if byte == UInt8(ascii: "\"") {
                index += 1
                return
            } else {
                index += 1
            }
        }
    }

    private static func skipValue(_ bytes: [UInt8], _ index: inout Int) {
        guard index < bytes.count else { return }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            skipString(bytes, &index)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    skipString(bytes, &index)
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                }
                index += 1
            }
        default:
            // number, true, false, null: up to the next delimiter
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20
                    || byte == 0x09 || byte == 0x0A || byte == 0x0D
                {
                    return
                }
                index += 1
            }
        }
    }
}

/// The JSON-RPC 2.0 error codes (and MCP's own) the servers answer with.
public enum JSONRPCErrorCode {
    /// The message is not JSON.
    public static let parseError = -32700
    /// Not a valid JSON-RPC request (or refused by the transport).
    public static let invalidRequest = -32600
    /// Unknown method.
    public static let methodNotFound = -32601
    /// Invalid parameters (MCP 2026-07-28: also an unknown resource).
    public static let invalidParams = -32602
    /// A server fault; details hidden.
    public static let internalError = -32603
    /// A server-to-client request timed out or the client went away.
    public static let requestTimeout = -32001
    /// An unknown resource (legacy revisions).
    public static let resourceNotFound = -32002
    /// `HeaderMismatch` (2026-07-28).
    public static let headerMismatch = -32020
    /// `UnsupportedProtocolVersion` (2026-07-28).
    public static let unsupportedProtocolVersion = -32022
    /// The 2026-07-28 request-header errors (-32020…-32022): HTTP 400 on Streamable HTTP.
    public static let headerErrors = -32022 ... -32020
}

/// The MCP revisions served, ordered by date, and what each one adds.
public enum MCPRevision: String, CaseIterable, Comparable, Sendable {
    case r2025_03_26 = "2025-03-26"
    case r2025_06_18 = "2025-06-18"
    case r2025_11_25 = "2025-11-25"
    case r2026_07_28 = "2026-07-28"

    /// The revision a negotiated version names (the oldest served for any other text).
    public init(version: String) { self = MCPRevision(rawValue: version) ?? .r2025_03_26 }

    public static func < (a: MCPRevision, b: MCPRevision) -> Bool { a.rawValue < b.rawValue }

    /// Titles, `structuredContent` and `outputSchema` (2025-06-18 on).
    public var hasTitlesAndStructuredContent: Bool { self >= .r2025_06_18 }
    /// Descriptions of implementations, form-mode elicitation (2025-11-25 on).
    public var hasImplementationDescriptions: Bool { self >= .r2025_11_25 }
    /// Elicitation requests carry `mode` (2025-11-25 on).
    public var hasElicitationModes: Bool { self >= .r2025_11_25 }
}

/// Protocol constants shared by the transports.
public enum MCPProtocol {
    /// The 2026-07-28 revision: stateless, per-request `_meta`.
    public static let modernVersion = MCPRevision.r2026_07_28.rawValue
    /// The legacy (initialize-based) revisions served, newest first.
    public static let legacyVersions = [MCPRevision.r2025_11_25, .r2025_06_18, .r2025_03_26].map(\.rawValue)
    /// Every revision served, newest first.
    public static let allVersions = [modernVersion] + legacyVersions
    /// `_meta` key carrying the per-request protocol version (2026-07-28).
    public static let protocolVersionMetaKey = "io.modelcontextprotocol/protocolVersion"
    /// `_meta` key carrying the client's capabilities (2026-07-28).
    public static let clientCapabilitiesMetaKey = "io.modelcontextprotocol/clientCapabilities"
    /// `_meta` key carrying the client's implementation info (2026-07-28).
    public static let clientInfoMetaKey = "io.modelcontextprotocol/clientInfo"
    /// `_meta` key carrying the server's implementation info on results (2026-07-28).
    public static let serverInfoMetaKey = "io.modelcontextprotocol/serverInfo"
    /// `HeaderMismatch` (2026-07-28).
    public static let headerMismatchCode = JSONRPCErrorCode.headerMismatch
    /// `UnsupportedProtocolVersion` (2026-07-28).
    public static let unsupportedProtocolVersionCode = JSONRPCErrorCode.unsupportedProtocolVersion
}
