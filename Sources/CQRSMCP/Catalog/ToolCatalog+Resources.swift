import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation

/// Resources (states, events and published schemas), their updates, and completion.
extension ToolCatalog {
    public func readResource(uri: String, context: MCPCallContext) async throws -> [MCPResourceContent] {
        guard uri.hasPrefix("cqrs://") else { throw MCPError.resourceNotFound(uri) }
        if let schema = catalog.publishedSchemas.first(where: { $0.id == uri }) {
            return [MCPResourceContent(uri: uri, mimeType: "application/schema+json", text: schema.text)]
        }
        let parts = uri.dropFirst("cqrs://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "events"), aggregateTypes.contains(parts[0]),
            let operation = catalog.operation(named: parts[0] + (parts.count == 2 ? "_get" : "_events")),
            let id = parts[1].removingPercentEncoding, !id.isEmpty
        else { throw MCPError.resourceNotFound(uri) }
        var arguments: [String: JSONValue] = ["id": .string(id)]
        if parts.count == 3 { arguments["limit"] = .int(ReadQuery.maximumLimit) }
        let json: JSONValue
        do {
            json = try await catalog.call(
                operation, arguments: .object(arguments),
                context: Self.commandContext(context, defaultUser: catalog.options.defaultUser))
        } catch {
            throw Self.protocolError(error, uri: uri)
        }
        return [MCPResourceContent(uri: uri, mimeType: "application/json", text: json.serialized())]
    }

    public var supportsSubscriptions: Bool { catalog.changes != nil }

    /// `cqrs://{type}/{id}` and `cqrs://{type}/{id}/events` change with every commit to the aggregate,
    /// in any process sharing the store.
    public func watchResource(uri: String) throws -> AsyncStream<Void> {
        guard uri.hasPrefix("cqrs://"), let changes = catalog.changes else { throw MCPError.resourceNotFound(uri) }
        let parts = uri.dropFirst("cqrs://".count).split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "events"), aggregateTypes.contains(parts[0]),
            catalog.operation(named: parts[0] + (parts.count == 2 ? "_get" : "_events")) != nil,
            let id = parts[1].removingPercentEncoding
        else { throw MCPError.resourceNotFound(uri) }
        do {
            try Identifier.check(id, as: "id")
        } catch {
            throw MCPError.invalidParams("Invalid params: \(CqrsError.wrapping(error).message)", data: ["uri": .string(uri)])
        }
        return changes.changes(aggregateType: parts[0], id: id)
    }

    public func complete(reference: MCPCompletionReference, argument: String, value: String, context: MCPCallContext)
        async throws -> MCPCompletion
    {
        guard case .resourceTemplate(let template) = reference, argument == "id", template.hasPrefix("cqrs://") else {
            return MCPCompletion(values: [])
        }
        let type = String(template.dropFirst("cqrs://".count).prefix { $0 != "/" })
        guard aggregateTypes.contains(type), let list = catalog.operation(named: "\(type)_list")?.list else {
            return MCPCompletion(values: [])
        }
        do {
            let filter: Filter? = value.isEmpty ? nil : .compare(field: "id", op: .startsWith, value: .string(value))
            let page = try await list.query(ReadQuery(filter: filter, limit: 100), parentId: nil)
            let ids = page["items"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            return MCPCompletion(values: ids, total: page["total"]?.intValue)
        } catch {
            throw Self.protocolError(error, uri: nil)
        }
    }
}
