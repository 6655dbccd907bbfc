import CQRS
import CQRSSchema
import Foundation

/// The reads of one aggregate: its state (now or in the past) and its audit log.
extension OperationCatalog {
    static func getOperation<A: CommandHandler>(_ engine: CommandEngine<A>, state: NamedSchema) -> CatalogOperation
    where A: JSONSchemaProviding {
        let type = A.aggregateType
        let noun = Naming.title(type).lowercased()
        let properties: [(String, JSONValue)] = [
            ("id", idSchema("The \(noun)'s id.")),
            ("asOfVersion", [
                "type": "integer", "minimum": 1, "maximum": .int(Int.max),
                "description": "Optional: the state as it was at this version, replayed from the journal.",
            ]),
            ("asOfTime", [
                "type": "string", "format": "date-time", "maxLength": 64,
                "description": "Optional (RFC 3339): the state after the last event at or before this time.",
            ]),
        ]
        return CatalogOperation(
            name: "\(type)_get", group: type, kind: .get, title: "\(Naming.title(type)): get",
            description: "The latest state of one \(noun), read from its events: {\"id\",\"version\",\"state\"}; with asOfVersion or asOfTime, the state it had then.",
            input: NamedSchema(name: Naming.pascal(type) + "GetInput", schema: objectSchema(properties, required: ["id"], additional: false)),
            output: state, semantics: .read, errors: [.invalid, .notFound, .unavailable],
            run: { arguments, _ in
                let id = arguments["id"]?.stringValue ?? ""
                let version = try integer(arguments["asOfVersion"], "asOfVersion")
                let time = try arguments["asOfTime"]?.stringValue.map(timestamp)
                let loaded: LoadedAggregate<A>?
                switch (version, time) {
                case (.some, .some): throw CqrsError.validation("Pass asOfVersion or asOfTime, not both")
                case (.some(let version), nil): loaded = try await engine.load(id: id, asOfVersion: version)
                case (nil, .some(let time)):
                    loaded = try await engine.load(id: id, asOf: time)
                    if loaded == nil, try await engine.load(id: id) != nil {
                        throw InfrastructureError.notFound.error(
                            "\(type) '\(id)' did not exist yet at \(arguments["asOfTime"]?.stringValue ?? "")",
                            details: ["id": .string(id)])
                    }
                case (nil, nil): loaded = try await engine.load(id: id)
                }
                guard let loaded else { throw CqrsError.aggregateNotFound(type, id: id) }
                return try CQRSJSON.value(of: AggregateState(id: id, version: loaded.version, state: loaded.state))
            })
    }

    static func eventsOperation<A: CommandHandler>(_ engine: CommandEngine<A>, budget: Int) -> CatalogOperation
    where A: JSONSchemaProviding {
        let type = A.aggregateType
        let noun = Naming.title(type).lowercased()
        let version: JSONValue = ["type": "integer", "minimum": 1, "maximum": .int(Int.max)]
        var from = version.objectValue ?? [:]
        from["description"] = "Optional: the first version to list (default 1)."
        var to = version.objectValue ?? [:]
        to["description"] = "Optional: the last version to list (default: the current one)."
        let properties: [(String, JSONValue)] = [
            ("id", idSchema("The \(noun)'s id.")), ("fromVersion", .object(from)), ("toVersion", .object(to)),
            ("eventTypes", [
                "type": "array", "maxItems": 50, "uniqueItems": true,
                "items": ["type": "string", "minLength": 1, "maxLength": 200],
                "description": "Optional: only events of these types.",
            ]),
            ("limit", limitSchema), ("cursor", cursorSchema),
        ]
        let entry = AuditEntry.jsonSchema.json
        return CatalogOperation(
            name: "\(type)_events", group: type, kind: .events, title: "\(Naming.title(type)): events",
            description: "The audit log of one \(noun): its events in order, paged; optionally a range of versions and only some event types.",
            input: NamedSchema(name: Naming.pascal(type) + "EventsInput", schema: objectSchema(properties, required: ["id"], additional: false)),
            output: NamedSchema(name: "AuditPage", schema: pageSchema(key: "events", item: entry, what: "events of the aggregate")),
            semantics: .read, errors: [.invalid, .notFound, .unavailable],
            run: { arguments, _ in
                let id = arguments["id"]?.stringValue ?? ""
                let limit = try integer(arguments["limit"], "limit") ?? ReadQuery.defaultLimit
                let start = max(try integer(arguments["fromVersion"], "fromVersion") ?? 1, try Cursor.offset(arguments["cursor"]) + 1)
                let end = try integer(arguments["toVersion"], "toVersion") ?? Int.max
                guard start <= end else { throw CqrsError.validation("fromVersion is after toVersion") }
                let types = arguments["eventTypes"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
                let found = try await engine.events(id: id, versions: start...end, types: types, limit: limit)
                var kept: [JSONValue] = []
                var used = 0
                var through = start - 1
                for event in found.events {
                    let json = try CQRSJSON.value(of: AuditEntry(event))
                    used += json.estimatedSize
                    if !kept.isEmpty, used > budget { break }
                    kept.append(json)
                    through = event.version
                }
                if kept.count == found.events.count { through = found.scannedThrough }
                var page: [String: JSONValue] = ["events": .array(kept), "total": .int(found.total)]
                if through < min(end, found.total) { page["nextCursor"] = .string(Cursor.encode(through)) }
                return .object(page)
            })
    }

    /// An RFC 3339 time (with or without fractional seconds).
    static func timestamp(_ text: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        throw CqrsError.validation("asOfTime must be an RFC 3339 time such as 2026-12-01T10:00:00Z", details: ["asOfTime": .string(text)])
    }
}
