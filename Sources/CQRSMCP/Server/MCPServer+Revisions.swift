import CQRSSchema
import Foundation
import Logging

/// Which revision serves a request: the session's negotiated one (legacy) or the one the request names (2026-07-28).
extension MCPServer {
    enum Era {
        case legacy(String)
        case modern(String)

        var version: String {
            switch self {
            case .legacy(let version), .modern(let version): return version
            }
        }
        var isModern: Bool {
            if case .modern = self { return true }
            return false
        }
    }

    func resolveEra(method: String, params: JSONValue?, session: MCPSession?) -> Result<Era, MCPError> {
        let requested = params?["_meta"]?[MCPProtocol.protocolVersionMetaKey]
        if options.modernEnabled, let requested {
            guard case .string(let version) = requested else {
                return .failure(.invalidParams("Invalid params: \(MCPProtocol.protocolVersionMetaKey) must be a string"))
            }
            if version == MCPProtocol.modernVersion { return .success(.modern(version)) }
            if let negotiated = session?.negotiatedVersion, MCPProtocol.legacyVersions.contains(version) {
                return .success(.legacy(negotiated))
            }
            return .failure(unsupportedVersion(version))
        }
        if options.modernEnabled, method == "server/discover" {
            return .success(.modern(MCPProtocol.modernVersion))
        }
        if method == "initialize" { return .success(.legacy(MCPProtocol.legacyVersions[0])) }
        if let negotiated = session?.negotiatedVersion { return .success(.legacy(negotiated)) }
        if method == "ping" { return .success(.legacy(MCPProtocol.legacyVersions[0])) }
        if !Self.legacyMethods.contains(method) { return .failure(.methodNotFound(method)) }
        return .failure(.invalidRequest("Invalid Request: the session is not initialized (send initialize first)"))
    }

    static let legacyMethods: Set<String> = [
        "initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list", "resources/read",
        "completion/complete", "logging/setLevel",
    ]

    func unsupportedVersion(_ requested: String) -> MCPError {
        MCPError(
            code: MCPProtocol.unsupportedProtocolVersionCode, message: "Unsupported protocol version",
            data: ["supported": .array(supportedVersions.map { .string($0) }), "requested": .string(requested)]
        )
    }

    func initialize(id: MCPRequestID, params: JSONValue?, session: MCPSession?) -> MCPReply {
        guard case .object(let members)? = params, case .string(let requested)? = members["protocolVersion"] else {
            return .error(id: id, .invalidParams("Invalid params: initialize needs a protocolVersion string"))
        }
        if let capabilities = members["capabilities"], capabilities.objectValue == nil {
            return .error(id: id, .invalidParams("Invalid params: capabilities must be an object"))
        }
        let version = MCPProtocol.legacyVersions.contains(requested) ? requested : MCPProtocol.legacyVersions[0]
        if let session,
            !session.markInitialized(version: version, clientInfo: members["clientInfo"], capabilities: members["capabilities"])
        {
            return .error(id: id, .invalidRequest("Invalid Request: the session is already initialized"))
        }
        var result: [String: JSONValue] = [
            "protocolVersion": .string(version),
            "capabilities": capabilities(modern: false),
            "serverInfo": implementation(version: version),
        ]
        if let instructions = info.instructions { result["instructions"] = .string(instructions) }
        logger.debug("initialized", metadata: ["version": "\(version)", "session": "\(session?.id ?? "-")"])
        return .result(id: id, .object(result))
    }
}
