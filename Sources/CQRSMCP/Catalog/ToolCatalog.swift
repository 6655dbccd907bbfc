import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation

/// An `OperationCatalog` rendered as MCP: one tool per operation (its name, input and output
/// schemas, and its semantics as annotations), `cqrs://{type}/{id}` and `cqrs://{type}/{id}/events`
/// resources read through the `_get` and `_events` operations, and `{id}` completion through `_list`.
///
/// Invalid arguments, domain errors and conflicts are tool results with `isError: true` whose
/// `structuredContent` is the `CqrsError` JSON.
public struct ToolCatalog: MCPToolProvider {
    /// The operations rendered.
    public let catalog: OperationCatalog
    public let tools: [MCPTool]
    /// The aggregate types with a `_get` or `_events` operation (the resource templates).
    let aggregateTypes: [String]

    /// The longest text mirror of a result; a longer one is a summary (the result is in structuredContent).
    public static let textMirrorLimit = 64 << 10

    /// Renders a catalog.
    public init(_ catalog: OperationCatalog) {
        self.catalog = catalog
        tools = catalog.operations.map { operation in
            MCPTool(
                name: operation.name, title: operation.title, description: operation.description,
                inputSchema: operation.input.schema, outputSchema: operation.output.schema,
                annotations: MCPToolAnnotations(
                    readOnlyHint: operation.semantics.readOnly,
                    destructiveHint: operation.semantics.readOnly ? false : operation.semantics.destructive,
                    idempotentHint: operation.semantics.idempotent, openWorldHint: false))
        }
        aggregateTypes = catalog.aggregateTypes.filter {
            catalog.operation(named: "\($0)_get") != nil || catalog.operation(named: "\($0)_events") != nil
        }
    }

    /// The catalog's published schemas, each at its `$id` (`cqrs://schemas/…`).
    public var resources: [MCPResource] {
        catalog.publishedSchemas.map { schema in
            MCPResource(
                uri: schema.id, name: schema.path.replacingOccurrences(of: ".schema.json", with: ""), title: schema.title,
                description: schema.describes, mimeType: "application/schema+json")
        }
    }

    public var resourceTemplates: [MCPResourceTemplate] {
        aggregateTypes.flatMap { type -> [MCPResourceTemplate] in
            [
                catalog.operation(named: "\(type)_get") == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}", name: "\(type)_state", title: "\(Naming.title(type)) state",
                    description: "The latest state of one \(type): {\"id\",\"version\",\"state\"}.",
                    mimeType: "application/json"),
                catalog.operation(named: "\(type)_events") == nil ? nil : MCPResourceTemplate(
                    uriTemplate: "cqrs://\(type)/{id}/events", name: "\(type)_events",
                    title: "\(Naming.title(type)) events",
                    description: "The first page of one \(type)'s events (at most 1000, within the page byte budget): {\"events\",\"total\",\"nextCursor\"?}; pass nextCursor as cursor to \(type)_events for the rest.",
                    mimeType: "application/json"),
            ].compactMap { $0 }
        }
    }
}
