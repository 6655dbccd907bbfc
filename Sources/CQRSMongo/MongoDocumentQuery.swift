import CQRS
import CQRSSchema

/// How a read-model document is laid out for MongoDB queries, and how a ``Filter`` becomes a MongoDB
/// filter with the semantics of the other stores.
///
/// MongoDB's own comparisons differ from ours: its sort order of types is null < numbers < strings <
/// objects < arrays < booleans, an equality on an array field matches any element, and a mongomock
/// engine in Python even equates `true` with `1`. So each document carries, besides its JSON text,
/// every field path as a tagged leaf `{p: path, t: rank, v: value}` in the array `f` (rank 0 null, 1
/// boolean, 2 number, 3 string, 4 array or object), and every sortable field as the pair
/// `st|path` (rank) and `sv|path` (value). Filters match leaves with `$elemMatch` on path, rank and
/// value; sorts order by rank, then value, then id. Strings compare by UTF-8 bytes (MongoDB's binary
/// comparison without a collation).
enum MongoDocumentQuery {
    static func rank(_ value: JSONValue) -> Int64 { Int64(JSONQuery.rank(value)) }

    /// The value stored with a rank: scalars as themselves, composites as their canonical text.
    static func comparable(_ value: JSONValue) -> BSON {
        switch value {
        case .array, .object: .string(CQRSJSON.text(of: value))
        default: BSON(value)
        }
    }

    /// Every field path of a document (objects are descended into, arrays are leaves).
    static func leaves(_ document: JSONValue) -> BSON {
        var leaves: [BSON] = []
        func walk(_ value: JSONValue, _ path: String) {
            guard case .object(let fields) = value else { return }
            for (name, child) in fields.sorted(by: { $0.key < $1.key }) {
                let childPath = path.isEmpty ? name : path + "." + name
                // Filters compare scalars only, so a composite leaf carries its rank, not a copy of its text.
                var leaf: BSONDocument = ["p": .string(childPath), "t": .int64(rank(child))]
                if rank(child) < 4 { leaf["v"] = BSON(child) }
                leaves.append(.document(leaf))
                walk(child, childPath)
            }
        }
        walk(document, "")
        return .array(leaves)
    }

    static func sortFields(_ field: String) -> (rank: String, value: String) {
        let name = field.replacingOccurrences(of: ".", with: "|")
        return ("st|" + name, "sv|" + name)
    }

    /// The sort keys of the sortable fields (and `id`), to store with the document.
    static func sortKeys(_ document: JSONValue, fields: Set<String>) -> [(String, BSON)] {
        fields.union(["id"]).sorted().flatMap { field -> [(String, BSON)] in
            let value = JSONQuery.lookup(document, field) ?? .null
            let names = sortFields(field)
            return [(names.rank, .int64(rank(value))), (names.value, comparable(value))]
        }
    }

    /// A filter that matches nothing.
    static let nothing: BSON = .document(["_id": .document(["$in": .array([])])])

    static func translate(_ filter: Filter) -> BSON {
        switch filter {
        case .and(let filters): return filters.isEmpty ? .document([:]) : .document(["$and": .array(filters.map(translate))])
        case .or(let filters): return filters.isEmpty ? nothing : .document(["$or": .array(filters.map(translate))])
        case .not(let inner): return .document(["$nor": .array([translate(inner)])])
        case .isIn(let field, let values):
            var alternatives = values.filter { $0 != .null }
                .reduce(into: [Int64: [BSON]]()) { $0[rank($1), default: []].append(BSON($1)) }
                .sorted { $0.key < $1.key }
                .map { rank, values in leaf(field, ["t": .int64(rank), "v": .document(["$in": .array(values)])]) }
            if values.contains(.null) { alternatives.append(missingOrNull(field)) }
            return alternatives.isEmpty ? nothing : .document(["$or": .array(alternatives)])
        case .compare(let field, let op, let value):
            switch op {
            case .eq: return equal(field, value)
            case .ne: return .document(["$nor": .array([equal(field, value)])])
            case .contains, .startsWith:
                guard case .string(let needle) = value else { return nothing }
                let pattern = (op == .startsWith ? "^" : "") + escapeRegex(needle)
                return leaf(field, ["t": 3, "v": .document(["$regex": .string(pattern)])])
            case .lt, .lte, .gt, .gte:
                guard value != .null else { return nothing }
                return leaf(field, ["t": .int64(rank(value)), "v": .document(["$" + op.rawValue: BSON(value)])])
            }
        }
    }

    private static func equal(_ field: String, _ value: JSONValue) -> BSON {
        value == .null ? missingOrNull(field) : leaf(field, ["t": .int64(rank(value)), "v": BSON(value)])
    }

    private static func missingOrNull(_ field: String) -> BSON {
        .document(["$nor": .array([leaf(field, ["t": .document(["$ne": 0])])])])
    }

    private static func leaf(_ field: String, _ conditions: BSONDocument) -> BSON {
        var match: BSONDocument = ["p": .string(field)]
        for condition in conditions.fields { match[condition.name] = condition.value }
        return .document(["f": .document(["$elemMatch": .document(match)])])
    }

    /// A regular expression matching `text` literally (scalar by scalar: a metacharacter followed
    /// by a combining mark is one `Character` but still a metacharacter to the regex engine).
    static func escapeRegex(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if "\\^$.|?*+()[]{}-/#".unicodeScalars.contains(scalar) { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }
}
