import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation
import HTTPTypes
import Hummingbird

/// A REST request turned into the catalog operation's arguments: path parameters, query
/// parameters, headers and the JSON body, remembering where each argument came from so that an
/// error names the parameter the client must fix.
struct RESTInput {
    static let idempotencyKeyHeader = HTTPField.Name("Idempotency-Key")!
    /// Operation arguments a REST client sends in the path, headers or query, never in the body.
    static let headerArguments: Set<String> = ["id", "expectedVersion", "idempotencyKey", "dryRun", "confirm"]

    /// The operation's arguments.
    private(set) var arguments: [String: JSONValue] = [:]
    /// For each argument not from the body: the parameter it came from (`id`, `If-Match`, `limit`).
    private var sources: [String: String] = [:]
    private var query: [String: String] = [:]

    /// Reads the path parameters and the query string; a parameter the route does not take, given
    /// twice, or not properly percent-encoded is a 400 naming it.
    init(route: RESTRoute, request: Request, parameters: Parameters) throws {
        for parameter in route.pathParameters {
            let raw = parameters.get(parameter.name) ?? ""
            guard let value = raw.removingPercentEncoding else {
                throw Self.badParameter(parameter.name, "is not valid percent-encoded UTF-8")
            }
            arguments[parameter.argument] = .string(value)
            sources[parameter.argument] = parameter.name
        }
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecoded(parts[0]) else { throw Self.badParameter(String(parts[0]), "is not valid percent-encoded UTF-8") }
            guard let value = Self.formDecoded(parts.count > 1 ? parts[1] : "") else {
                throw Self.badParameter(name, "is not valid percent-encoded UTF-8")
            }
            guard route.queryParameters.contains(name) else {
                let known = route.queryParameters.isEmpty ? "this route takes none" : "known: " + route.queryParameters.joined(separator: ", ")
                throw Self.badParameter(name, "is not a parameter of this route (\(known))")
            }
            guard query[name] == nil else { throw Self.badParameter(name, "is given more than once") }
            query[name] = value
        }
    }

    // MARK: - Commands

    /// `If-Match: "<version>"` as `expectedVersion` and `Idempotency-Key` as `idempotencyKey`;
    /// each at most once, and no `If-Match` on a create (there is no version to match yet).
    mutating func readCommandHeaders(_ headers: HTTPFields, isCreate: Bool) throws {
        let tags = headers[values: .ifMatch]
        if let ifMatch = tags.first {
            guard !isCreate else { throw Self.badParameter("If-Match", "is not accepted when creating: there is no version yet") }
            let value = ifMatch.trimmingCharacters(in: .whitespaces)
            if value != "*" {
                let digits = value.dropFirst().dropLast()
                guard tags.count == 1, value.count >= 3, value.hasPrefix("\""), value.hasSuffix("\""), digits.first != "0",
                    digits.allSatisfy({ $0.isASCII && $0.isNumber }), let version = Int(digits)
                else {
                    throw Self.badParameter("If-Match", "must be one entity tag holding a version, e.g. \"3\"")
                }
                arguments["expectedVersion"] = .int(version)
                sources["expectedVersion"] = "If-Match"
            }
        }
        let keys = headers[values: Self.idempotencyKeyHeader]
        if let key = keys.first {
            guard keys.count == 1 else { throw Self.badParameter("Idempotency-Key", "is given more than once") }
            arguments["idempotencyKey"] = .string(key)
            sources["idempotencyKey"] = "Idempotency-Key"
        }
    }

    /// Merges the JSON body (an object of the command's fields; empty means `{}`).
    mutating func mergeBody(_ bytes: [UInt8], headers: HTTPFields, fields: JSONValue?) throws {
        guard !bytes.isEmpty else { return }
        let contentType = headers[.contentType]
        let parts = (contentType ?? "").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }?.dropFirst("charset=".count)
        let encoding = headers[.contentEncoding]?.trimmingCharacters(in: .whitespaces).lowercased()
        guard parts.first == "application/json", charset == nil || charset == "utf-8" || charset == "\"utf-8\"",
            encoding == nil || encoding == "identity"
        else {
            throw GenericError.unsupportedMediaType.error(
                "The body must be application/json in UTF-8, not compressed",
                details: ["contentType": contentType.map { .string($0) } ?? .null])
        }
        let body: JSONValue
        do {
            body = try JSONValue.parse(bytes)
        } catch {
            throw InfrastructureError.validationFailed.error(
                "The body is not valid JSON: \(error.message) at byte \(error.offset)", details: ["offset": .int(error.offset)])
        }
        guard let members = body.objectValue else {
            throw Self.unprocessable([SchemaViolation(pointer: "", message: "the body must be a JSON object", keyword: "type")])
        }
        // Arguments that travel in the path or the headers, unless the command itself has such a field.
        let misplaced = members.keys.filter {
            fields?["properties"]?[$0] == nil && (sources[$0] != nil || Self.headerArguments.contains($0))
        }
        if !misplaced.isEmpty {
            throw Self.unprocessable(
                misplaced.sorted().map {
                    SchemaViolation(
                        pointer: "/" + $0, message: "\"\($0)\" is not a field of this command (the id is in the path, the version in If-Match, the key in Idempotency-Key, dryRun and confirm in the query)",
                        keyword: "additionalProperties")
                })
        }
        arguments.merge(members) { old, _ in old }
    }

    // MARK: - Options

    /// The query parameters that are plain operation arguments (`dryRun`, `asOfVersion`, `asOfTime`,
    /// `fromVersion`, `toVersion`, `minPosition`, `eventTypes` as a comma-separated list), typed.
    mutating func readOptions() throws {
        for (name, text) in query where !["filter", "sort", "offset", "limit", "cursor"].contains(name) {
            let value: JSONValue
            switch name {
            case "dryRun", "confirm":
                guard text == "true" || text == "false" else { throw Self.badParameter(name, "must be true or false") }
                value = .bool(text == "true")
            case "asOfVersion", "fromVersion", "toVersion", "minPosition":
                guard let number = Int(text) else { throw Self.badParameter(name, "must be an integer") }
                value = .int(number)
            case "eventTypes": value = .array(text.split(separator: ",", omittingEmptySubsequences: false).map { .string(String($0)) })
            default: value = .string(text)
            }
            arguments[name] = value
            sources[name] = name
        }
    }

    /// Whether the request asks for a dry run.
    var isDryRun: Bool { arguments["dryRun"] == .bool(true) }

    // MARK: - Reads

    /// `filter` (RSQL), `sort` (`-field,field`) and the page window as a ``ReadQuery``.
    mutating func readQuery() throws -> ReadQuery {
        var filter: Filter?
        if let text = query["filter"] {
            do {
                filter = try RSQL.parse(text)
            } catch {
                throw Self.badParameter("filter", "is not a valid RSQL filter: \(error.message)")
            }
        }
        var sort: [SortKey] = []
        if let text = query["sort"] {
            for item in text.split(separator: ",", omittingEmptySubsequences: false) {
                let descending = item.hasPrefix("-")
                let field = String(descending ? item.dropFirst() : item)
                guard RSQL.isValidPath(field) else { throw Self.badParameter("sort", "names '\(item)', not a field path") }
                sort.append(SortKey(field, descending: descending))
            }
            guard sort.count <= QueryLimits.sortKeys else {
                throw Self.badParameter("sort", "has more than \(QueryLimits.sortKeys) keys")
            }
        }
        let (offset, limit) = try window()
        return ReadQuery(filter: filter, sort: sort, offset: offset, limit: limit)
    }

    /// `offset`/`limit` or `cursor` as the operation's `limit` and `cursor` arguments.
    mutating func readPaging() throws {
        let (offset, limit) = try window()
        arguments["limit"] = .int(limit)
        arguments["cursor"] = .string(Cursor.encode(offset))
        sources["limit"] = "limit"
        sources["cursor"] = query["cursor"] == nil ? "offset" : "cursor"
    }

    private func window() throws -> (offset: Int, limit: Int) {
        var limit = ReadQuery.defaultLimit
        if let text = query["limit"] {
            guard let value = Int(text), (1...ReadQuery.maximumLimit).contains(value) else {
                throw Self.badParameter("limit", "must be an integer from 1 to \(ReadQuery.maximumLimit)")
            }
            limit = value
        }
        var offset = 0
        if let text = query["offset"] {
            guard query["cursor"] == nil else { throw Self.badParameter("offset", "cannot be given with cursor") }
            guard let value = Int(text), value >= 0 else { throw Self.badParameter("offset", "must be a non-negative integer") }
            offset = value
        }
        if let cursor = query["cursor"] {
            do {
                offset = try Cursor.offset(.string(cursor))
            } catch {
                throw Self.badParameter("cursor", "is not a cursor this server made: pass the nextCursor of a previous page")
            }
        }
        return (offset, limit)
    }

    // MARK: - Checks

    /// Validates the arguments against the operation's input schema.
    /// - Throws: 400 naming the parameter when a path, query or header value breaks it; 422 listing
    ///   every violation when the body does.
    func check(_ route: RESTRoute) throws {
        let violations = JSONSchema.validate(.object(arguments), against: route.operation.input.schema)
        guard !violations.isEmpty else { return }
        for violation in violations {
            let first = violation.pointer.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
            if let parameter = sources[first] {
                var error = Self.badParameter(parameter, violation.message)
                error.details = ["parameter": .string(parameter), "violations": (try? CQRSJSON.value(of: [violation])) ?? .null]
                throw error
            }
        }
        throw Self.unprocessable(violations)
    }

    static func unprocessable(_ violations: [SchemaViolation]) -> CqrsError {
        GenericError.unprocessableEntity.error(
            "The body does not match the command: " + violations.map(\.description).joined(separator: "; "),
            details: ["violations": (try? CQRSJSON.value(of: violations)) ?? .array([])])
    }

    static func badParameter(_ name: String, _ problem: String) -> CqrsError {
        InfrastructureError.validationFailed.error("\(name) \(problem)", details: ["parameter": .string(name)])
    }

    /// Whether an `If-None-Match` value names the tag (or is `*`); weak tags compare as strong.
    static func matches(_ header: String, tag: String) -> Bool {
        header.split(separator: ",").contains { item in
            var value = item.trimmingCharacters(in: .whitespaces)
            if value == "*" { return true }
            if value.hasPrefix("W/") { value.removeFirst(2) }
            return value == tag
        }
    }

    /// An id as one path segment.
    static func percentEncoded(_ id: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/%?#")
        return id.addingPercentEncoding(withAllowedCharacters: allowed) ?? id
    }

    /// A query component: `+` is a space, `%XX` a byte; nil when the bytes are not UTF-8.
    static func formDecoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
