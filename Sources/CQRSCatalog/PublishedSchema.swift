import CQRS
import CQRSSchema
import Foundation

/// A JSON Schema a server publishes under a stable id: a file of `schemas/`, an MCP resource
/// (`resources/list`, `resources/read`), and an entry of `schemas/index.json`.
public struct PublishedSchema: Sendable {
    /// The file's path under `schemas/`, e.g. `bank/account.events.schema.json`.
    public var path: String
    /// The schema's title (the Swift type it describes).
    public var title: String
    /// What the schema describes, for people and tools choosing one.
    public var describes: String
    /// The schema.
    public var schema: JSONSchema

    /// Creates a published schema.
    public init(path: String, title: String, describes: String, schema: JSONSchema) {
        self.path = path
        self.title = title
        self.describes = describes
        self.schema = schema
    }

    /// The stable `$id`, which is also the MCP resource URI: `cqrs://schemas/` and the path without
    /// `.schema.json`.
    public var id: String {
        "cqrs://schemas/" + (path.hasSuffix(".schema.json") ? String(path.dropLast(".schema.json".count)) : path)
    }

    /// The schema as published: `$schema` (2020-12), `$id` and `title` added.
    public var document: JSONValue {
        var json = PublishedJSON.standalone(schema.json, title: title).objectValue ?? [:]
        json["$id"] = .string(id)
        return .object(json)
    }

    /// The file's exact text (``PublishedJSON/text(_:)``).
    public var text: String { PublishedJSON.text(document) }

    /// The shared contract every server publishes: event envelopes, errors, problem documents, audit entries.
    public static let contract: [PublishedSchema] = [
        PublishedSchema(
            path: "contract/event-envelope.schema.json", title: "EventEnvelope",
            describes: "A stored event with its aggregate, version, global position and metadata.", schema: EventEnvelope<JSONValue>.jsonSchema),
        PublishedSchema(
            path: "contract/error.schema.json", title: "CqrsError",
            describes: "A structured error: domain, code, internal code, status, message, details.", schema: CqrsError.jsonSchema),
        PublishedSchema(
            path: "contract/problem.schema.json", title: "ProblemDetails",
            describes: "An RFC 9457 problem document, as the REST API answers errors.", schema: ProblemDetails.jsonSchema),
        PublishedSchema(
            path: "contract/audit-entry.schema.json", title: "AuditEntry",
            describes: "One entry of an aggregate's audit log.", schema: AuditEntry.jsonSchema),
    ]

    /// `schemas/index.json`: every published schema's id, path, title and what it describes.
    public static func index(_ schemas: [PublishedSchema]) -> String {
        PublishedJSON.text(.object([
            "schemas": .array(schemas.map { schema in
                .object(["id": .string(schema.id), "path": .string(schema.path), "title": .string(schema.title), "describes": .string(schema.describes)])
            })
        ]))
    }
}
