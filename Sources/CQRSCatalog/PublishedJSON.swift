import CQRSSchema
import Foundation

/// The text of published JSON documents (`schemas/`, `openapi`): pretty-printed with sorted keys,
/// unescaped slashes and a final newline, so that regenerated files diff cleanly.
public enum PublishedJSON {
    /// The document's text.
    public static func text(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self) + "\n"
    }

    /// A schema as a document of its own: with `$schema` (2020-12) and a `title`.
    public static func standalone(_ schema: JSONValue, title: String) -> JSONValue {
        var json = schema.objectValue ?? [:]
        json["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        if json["title"] == nil { json["title"] = .string(title) }
        return .object(json)
    }
}
