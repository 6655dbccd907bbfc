import CQRS
import CQRSSchema
import Foundation

/// Schemas, argument handling and result shapes shared by the catalog's operations.
extension OperationCatalog {
    static let limitSchema: JSONValue = [
        "type": "integer", "minimum": 1, "maximum": .int(ReadQuery.maximumLimit), "default": .int(ReadQuery.defaultLimit),
        "description": .string("Page size (default \(ReadQuery.defaultLimit), at most \(ReadQuery.maximumLimit))."),
    ]

    static let cursorSchema: JSONValue = [
        "type": "string", "minLength": 1, "description": "The nextCursor of the previous page.",
    ]

    /// The schema of an id argument: the ``Identifier`` rule.
    static func idSchema(_ description: String) -> JSONValue {
        [
            "type": "string", "minLength": 1, "maxLength": .int(Identifier.maximumLength),
            "pattern": .string(Identifier.pattern), "description": .string(description),
        ]
    }

    /// An optional integer argument; a number that is not an `Int` (2⁶³, 1.5) is a 400, never
    /// taken for an absent argument.
    static func integer(_ value: JSONValue?, _ name: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        guard let number = value.intValue else {
            throw CqrsError.validation(
                "\(name) must be an integer between \(Int.min) and \(Int.max), got \(value.serialized())",
                details: ["field": .string(name)])
        }
        return number
    }

    static func commandResult<E>(_ result: CommandResult<E>) -> JSONValue {
        var json: [String: JSONValue] = ["id": .string(result.aggregateId), "version": .int(result.version)]
        if let position = result.globalPosition { json["globalPosition"] = .int(Int(position)) }
        if result.replayed { json["replayed"] = true }
        return .object(json)
    }

    static let idempotencyProperty: JSONValue = [
        "type": "string", "minLength": 1, "maxLength": 200, "pattern": .string(Identifier.pattern),
        "description": "Optional key that makes retries safe: a repeated call with the same key and arguments returns the first result and changes nothing.",
    ]

    static let dryRunProperty: JSONValue = [
        "type": "boolean", "default": false,
        "description": "When true, nothing is written: the command is decided on the current state exactly as for real (domain errors, expectedVersion and idempotency-key rules included) and the result lists the events it would commit, the version it would reach and the resulting state.",
    ]

    /// A command's result: `{id, version, globalPosition?, replayed?}`, or for a dry run
    /// `{id, version, dryRun: true, events, state, replayed?}`.
    static func commandResultSchema(state: JSONValue, event: JSONValue) -> JSONValue {
        objectSchema(
            [
                ("id", ["type": "string", "description": "The aggregate's id."]),
                ("version", ["type": "integer", "minimum": 0, "description": "The version after the command (a dry run: the version it would reach)."]),
                ("globalPosition", ["type": "integer", "minimum": 1, "description": "The global log position of the last event written."]),
                ("replayed", ["type": "boolean", "description": "True when this repeats the stored result of an earlier call with the same idempotency key."]),
                ("dryRun", ["type": "boolean", "const": true, "description": "Present on a dry run: nothing was written."]),
                ("events", [
                    "type": "array", "description": "A dry run: the events the command would commit.",
                    "items": objectSchema(
                        [("eventType", ["type": "string"]), ("payload", event)], required: ["eventType", "payload"], additional: false),
                ]),
                ("state", described(state, "A dry run: the state after those events.")),
            ], required: ["id", "version"], additional: false)
    }

    private static func described(_ schema: JSONValue, _ description: String) -> JSONValue {
        var members = schema.objectValue ?? [:]
        members["description"] = .string(description)
        return .object(members)
    }

    static func previewResult<A: Aggregate>(_ preview: CommandPreview<A>) throws -> JSONValue {
        var json: [String: JSONValue] = [
            "id": .string(preview.aggregateId), "version": .int(preview.version), "dryRun": true,
            "events": .array(try preview.events.map { ["eventType": .string($0.eventType), "payload": try CQRSJSON.value(of: $0)] }),
            "state": try CQRSJSON.value(of: preview.state),
        ]
        if preview.replayed { json["replayed"] = true }
        return .object(json)
    }

    /// The schema of a page: `key` holds the items, `total` counts them all, `nextCursor` follows.
    static func pageSchema(key: String, item: JSONValue, what: String, consistency: Bool = false) -> JSONValue {
        var properties: [(String, JSONValue)] = [
            (key, ["type": "array", "items": item]),
            ("total", ["type": "integer", "minimum": 0, "description": .string("How many \(what) there are in all.")]),
            ("nextCursor", ["type": "string", "description": "Pass it as `cursor` to get the next page."]),
        ]
        if consistency {
            properties += [
                ("checkpoint", ["type": "integer", "minimum": 0, "description": "With minPosition: the global position the view had applied when it answered."]),
                ("stale", ["type": "boolean", "description": "With minPosition: true when the view had not reached it in time (the page is older)."]),
            ]
        }
        return objectSchema(properties, required: [key, "total"], additional: false)
    }

    /// The `minPosition` argument of reads fed by a projector.
    static let minPositionSchema: JSONValue = [
        "type": "integer", "minimum": 0, "maximum": .int(Int.max),
        "description": "Read your writes: wait (boundedly, 2 s by default) until the view has applied the global log up to this position (a command result's globalPosition), then answer; stale says whether it got there.",
    ]

    /// Waits for the projection of `model` to reach `position` (nothing to wait for without one).
    static func waitFor(_ position: Int64?, in model: String, projector: Projector?) async throws -> (reached: Bool, checkpoint: Int64)? {
        guard let position, let projector else { return nil }
        return try await projector.waitFor(model, position: position)
    }

    /// An object schema with properties in the given order.
    static func objectSchema(_ properties: [(String, JSONValue)], required: [String], additional: Bool) -> JSONValue {
        var json: [String: JSONValue] = [
            "type": "object",
            "properties": .object(Dictionary(properties, uniquingKeysWith: { _, last in last })),
            "additionalProperties": .bool(additional),
        ]
        if !required.isEmpty { json["required"] = .array(required.map { .string($0) }) }
        return .object(json)
    }

    /// One command case: its coding key, fields and doc comment.
    struct CommandCase: Sendable {
        var name: String
        var properties: [(String, JSONValue)]
        var required: [String]
        var description: String?
        /// Whether the command type is a keyed enum (`{"name":{fields}}`) rather than a plain struct.
        var keyed: Bool

        /// The case's fields alone, as an object schema.
        var bodySchema: JSONValue {
            var schema = OperationCatalog.objectSchema(properties, required: required, additional: false).objectValue ?? [:]
            if let description { schema["description"] = .string(description) }
            return .object(schema)
        }
    }

    /// The cases of a command type's derived schema: a keyed enum gives one per case, anything else
    /// one case named `defaultName`.
    static func cases(of schema: JSONSchema, defaultName: String, group: String) throws -> [CommandCase] {
        let json = schema.json
        if let branches = json["oneOf"]?.arrayValue {
            return try branches.map { branch in
                guard let name = branch["required"]?.arrayValue?.first?.stringValue,
                    let inner = branch["properties"]?[name]
                else {
                    throw CqrsError.validation("\(group): a command case is not a keyed object: \(branch.serialized())")
                }
                return CommandCase(
                    name: name, properties: orderedProperties(inner), required: stringArray(inner["required"]),
                    description: branch["description"]?.stringValue ?? json["description"]?.stringValue, keyed: true)
            }
        }
        return [
            CommandCase(
                name: defaultName, properties: orderedProperties(json), required: stringArray(json["required"]),
                description: json["description"]?.stringValue, keyed: false)
        ]
    }

    private static func orderedProperties(_ object: JSONValue) -> [(String, JSONValue)] {
        (object["properties"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    private static func stringArray(_ value: JSONValue?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func decodeCommand<C: Decodable>(_ type: C.Type, command: CommandCase, members: [String: JSONValue]) throws -> C {
        let json: JSONValue = command.keyed ? .object([command.name: .object(members)]) : .object(members)
        do {
            return try CQRSJSON.decode(C.self, from: json)
        } catch let error as CqrsError {
            throw error
        } catch let error as DecodingError {
            // The schema passed, so the decoder refused a value it cannot hold, such as an integral
            // double of 2⁵³ or more for an Int. Say where, never the decoder's own text.
            let path: [CodingKey] =
                switch error {
                case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
                    .keyNotFound(_, let context):
                    context.codingPath
                @unknown default: []
                }
            let keys = path.map { $0.intValue.map(String.init) ?? $0.stringValue }
            let pointer = (command.keyed ? keys.dropFirst() : keys[...]).map { "/" + $0 }.joined()
            // A double where the decoder wanted an exact Int (2⁵³ or more) is the case the schema
            // cannot see; anything else a custom decoder refused is just invalid.
            var value: JSONValue? = json
            for key in keys {
                let elements = value?.arrayValue ?? []
                value = value?[key] ?? Int(key).flatMap { elements.indices.contains($0) ? elements[$0] : nil }
            }
            let reason: String =
                if case .double? = value {
                    "the number cannot be held exactly (a whole number written as a decimal or exponent must be below 2^53 in magnitude)"
                } else {
                    "the value is not valid here"
                }
            let violation = SchemaViolation(pointer: pointer, message: reason, keyword: "type")
            throw CqrsError.validation(
                "Invalid arguments for \(command.name): \(violation.description)",
                details: ["violations": (try? CQRSJSON.value(of: [violation])) ?? .array([])])
        } catch {
            throw CqrsError.validation("The arguments do not form a valid \(command.name) command")
        }
    }

    static func listOperation<M: ReadModel>(
        name: String, group: String, kind: OperationKind, title: String, description: String, item: NamedSchema,
        storage: any ReadStorage<M>, parentDescription: String?, budget: Int, projector: Projector?
    ) -> CatalogOperation {
        let projector = projector.flatMap { $0.names.contains(M.modelType) ? $0 : nil }
        let sortable = (M.sortableFields.union(["id"])).sorted()
        var properties: [(String, JSONValue)] = []
        if let parentDescription {
            properties.append(("parentId", idSchema(parentDescription)))
        }
        properties += [
            ("filter", QueryArguments.filterSchema),
            ("sort", QueryArguments.sortSchema(sortable)),
            ("limit", limitSchema),
            ("cursor", cursorSchema),
        ]
        if projector != nil { properties.append(("minPosition", minPositionSchema)) }
        let access = ListAccess(
            item: item, sortableFields: sortable, acceptsMinPosition: projector != nil,
            read: { query, parentId, minPosition in
                let wait = try await Self.waitFor(minPosition, in: M.modelType, projector: projector)
                let page = try await storage.query(query, parentId: parentId)
                let items = try page.items.map { try CQRSJSON.value(of: $0) }
                let result = Self.page(items, key: "items", offset: query.offset, total: page.total, budget: budget)
                guard let wait, case .object(var members) = result else { return result }
                members["checkpoint"] = .int(Int(wait.checkpoint))
                members["stale"] = .bool(!wait.reached)
                return .object(members)
            })
        return CatalogOperation(
            name: name, group: group, kind: kind, title: title, description: description,
            input: NamedSchema(
                name: Naming.pascal(name) + "Input",
                schema: objectSchema(properties, required: parentDescription == nil ? [] : ["parentId"], additional: false)),
            output: NamedSchema(
                name: item.name + "Page",
                schema: pageSchema(key: "items", item: item.schema, what: "items match the filter", consistency: projector != nil)),
            semantics: .read, errors: [.invalid, .unavailable], list: access,
            run: { arguments, _ in
                try await access.query(
                    QueryArguments.query(from: arguments), parentId: arguments["parentId"]?.stringValue,
                    minPosition: arguments["minPosition"]?.intValue.map(Int64.init))
            })
    }

    /// A page's JSON: as many items as fit `budget` bytes (at least one), the total, and
    /// `nextCursor` when more items follow.
    static func page(_ items: [JSONValue], key: String, offset: Int, total: Int, budget: Int) -> JSONValue {
        var used = 0
        var kept = 0
        for item in items {
            used += item.estimatedSize
            if kept > 0, used > budget { break }
            kept += 1
        }
        var result: [String: JSONValue] = [key: .array(Array(items.prefix(kept))), "total": .int(total)]
        if kept > 0, offset + kept < total { result["nextCursor"] = .string(Cursor.encode(offset + kept)) }
        return .object(result)
    }
}
