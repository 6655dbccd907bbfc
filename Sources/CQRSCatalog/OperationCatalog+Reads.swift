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
                case (.some, .some):
                    throw CqrsError.validation("Pass asOfVersion or asOfTime, not both", details: ["parameter": "asOfTime"])
                case (.some(let version), nil): loaded = try await engine.load(id: id, asOfVersion: version)
                case (nil, .some(let time)):
                    loaded = try await engine.load(id: id, asOf: time)
                    if loaded == nil, let first = try await engine.events(id: id, versions: 1...1, types: nil, limit: 1).events.first {
                        let formatter = ISO8601DateFormatter()
                        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                        let created = formatter.string(from: first.occurredAt)
                        throw InfrastructureError.notFound.error(
                            "\(type) '\(id)' did not exist yet at \(arguments["asOfTime"]?.stringValue ?? ""); it was created at \(created)",
                            details: ["id": .string(id), "parameter": "asOfTime", "createdAt": .string(created)],
                            hint: "Use an asOfTime at or after \(created).")
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
                "type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": true,
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
                // A cursor (or REST offset) may stand for Int.max events seen: saturate, never trap.
                let seen = try Cursor.offset(arguments["cursor"])
                let start = max(try integer(arguments["fromVersion"], "fromVersion") ?? 1, seen == Int.max ? Int.max : seen + 1)
                let end = try integer(arguments["toVersion"], "toVersion") ?? Int.max
                guard start <= end else {
                    throw CqrsError.validation("fromVersion is after toVersion", details: ["parameter": "fromVersion"])
                }
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

    /// An RFC 3339 time (`2026-12-01T10:00:00Z`, fractional seconds and `±hh:mm` offsets allowed),
    /// checked field by field: February 30th or an offset of +25:00 is a 400, not a guess.
    static func timestamp(_ text: String) throws -> Date {
        let refused = CqrsError.validation(
            "asOfTime must be an RFC 3339 time such as 2026-12-01T10:00:00Z (over REST, write + as %2B)",
            details: ["parameter": "asOfTime", "asOfTime": .string(text)])
        let pattern = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):(\d{2}))$/
        guard let match = text.wholeMatch(of: pattern) else { throw refused }
        func number(_ part: Substring?) -> Int { part.flatMap { Int($0) } ?? 0 }
        var offset = 0
        if match.output.9 != nil {
            let hours = number(match.output.10)
            let minutes = number(match.output.11)
            guard hours <= 23, minutes <= 59 else { throw refused }
            offset = (hours * 3600 + minutes * 60) * (match.output.9 == "-" ? -1 : 1)
        }
        var calendar = Calendar(identifier: .gregorian)
        guard let zone = TimeZone(secondsFromGMT: offset) else { throw refused }
        calendar.timeZone = zone
        let components = DateComponents(
            calendar: calendar, timeZone: zone, year: number(match.output.1), month: number(match.output.2),
            day: number(match.output.3), hour: number(match.output.4), minute: number(match.output.5),
            second: number(match.output.6))
        guard components.isValidDate, let date = calendar.date(from: components) else { throw refused }
        let fraction = match.output.7.flatMap { Double("0" + $0) } ?? 0
        return date.addingTimeInterval(fraction)
    }
}
