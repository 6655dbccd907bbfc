import CQRSMCP
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import Synchronization

/// Header parsing and the request deadline.
extension MCPHTTPTransport {
    struct DeadlinePassed: Error {}

    /// `body`'s result, or ``DeadlinePassed`` once `timeout` has passed (`body` is then cancelled).
    static func within<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw DeadlinePassed()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// Decodes an `Mcp-Name`/`Mcp-Param-*` header value, including the `=?base64?…?=` form.
    static func decodeHeaderValue(_ value: String) -> String? {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="), value.count >= 11 else { return value }
        let encoded = value.dropFirst(9).dropLast(2)
        guard let data = Data(base64Encoded: String(encoded)) else { return nil }
        return String(data: data, encoding: .utf8)
    }

    func mediaType(_ value: String) -> String {
        (value.split(separator: ";").first.map(String.init) ?? value).trimmingCharacters(in: .whitespaces).lowercased()
    }

    struct AcceptedTypes {
        var json = false
        var sse = false

        init(_ values: [String]) {
            for value in values {
                for item in value.split(separator: ",") {
                    let type = (item.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces)
                        .lowercased()
                    switch type {
                    case "application/json", "application/*": json = true
                    case "text/event-stream", "text/*": sse = true
                    case "*/*":
                        json = true
                        sse = true
                    default: break
                    }
                }
            }
        }
    }
}
