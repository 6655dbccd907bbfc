import CQRS
import CQRSCatalog
import CQRSSchema

/// RSQL/FIQL filters (`state.balance=ge=100;(owner==alice,owner==bob)`) compiled to the same
/// ``Filter`` model the MCP `_list` tools build from JSON.
///
/// Grammar: `or := and (',' and)*`, `and := term (';' term)*`, `term := '(' or ')' | selector op
/// argument`. Operators: `==`, `!=`, `=lt=`, `=le=`, `=gt=`, `=ge=`, `=in=`, `=out=`, `=like=`.
/// An unquoted value is a number, `true`, `false` or `null` when it reads as one, else a string;
/// a value quoted with `'` or `"` (backslash escapes the next character) is always a string.
struct RSQL {
    /// The longest filter text, the most comparisons and the deepest nesting accepted.
    static let maximumLength = 8192
    static let maximumComparisons = QueryLimits.conditions
    static let maximumDepth = 8
    /// The most values of one `=in=`/`=out=` list (as in the JSON filter).
    static let maximumListValues = QueryLimits.listValues

    struct ParseError: Error {
        let message: String
    }

    private let scalars: [Unicode.Scalar]
    private var position = 0
    private var comparisons = 0

    /// Parses a filter expression.
    /// - Throws: ``ParseError`` saying what is wrong and where.
    static func parse(_ text: String) throws(ParseError) -> Filter {
        guard text.utf8.count <= maximumLength else { throw ParseError(message: "longer than \(maximumLength) bytes") }
        var parser = RSQL(scalars: Array(text.unicodeScalars))
        let filter = try parser.parseOr(depth: 0)
        guard parser.position == parser.scalars.count else { throw parser.failure("unexpected '\(parser.scalars[parser.position])'") }
        return filter
    }

    private init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    private func failure(_ message: String) -> ParseError {
        ParseError(message: "\(message) at position \(position + 1)")
    }

    private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func parseOr(depth: Int) throws(ParseError) -> Filter {
        var terms = [try parseAnd(depth: depth)]
        while current == "," {
            position += 1
            terms.append(try parseAnd(depth: depth))
        }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd(depth: Int) throws(ParseError) -> Filter {
        var terms = [try parseTerm(depth: depth)]
        while current == ";" {
            position += 1
            terms.append(try parseTerm(depth: depth))
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseTerm(depth: Int) throws(ParseError) -> Filter {
        if current == "(" {
            guard depth < Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
            position += 1
            let inner = try parseOr(depth: depth + 1)
            guard current == ")" else { throw failure("expected ')'") }
            position += 1
            return inner
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(ParseError) -> Filter {
        comparisons += 1
        guard comparisons <= Self.maximumComparisons else { throw failure("more than \(Self.maximumComparisons) comparisons") }
        let start = position
        while let scalar = current, Self.isSelector(scalar) { position += 1 }
        let field = String(String.UnicodeScalarView(scalars[start..<position]))
        guard Self.isValidPath(field) else {
            throw failure(field.isEmpty ? "expected a field name" : "'\(field)' is not a field path (letters, digits, _ and dots)")
        }
        let op = try parseOperator()
        if op == "=in=" || op == "=out=" {
            guard current == "(" else { throw failure("\(op) takes a list in parentheses, e.g. (a,b)") }
            position += 1
            var values = [try parseValue()]
            while current == "," {
                position += 1
                values.append(try parseValue())
            }
            guard current == ")" else { throw failure("expected ')' closing the \(op) list") }
            position += 1
            guard values.count <= Self.maximumListValues else { throw failure("more than \(Self.maximumListValues) values in \(op)") }
            return op == "=in=" ? .isIn(field: field, values: values) : .not(.isIn(field: field, values: values))
        }
        let value = try parseValue()
        switch op {
        case "==": return .compare(field: field, op: .eq, value: value)
        case "!=": return .compare(field: field, op: .ne, value: value)
        case "=lt=": return .compare(field: field, op: .lt, value: value)
        case "=le=": return .compare(field: field, op: .lte, value: value)
        case "=gt=": return .compare(field: field, op: .gt, value: value)
        case "=ge=": return .compare(field: field, op: .gte, value: value)
        default: return try like(field: field, value)
        }
    }

    /// `=like=` with `*` wildcards: `abc*` starts with, `*abc*` contains, `abc` equals.
    private func like(field: String, _ value: JSONValue) throws(ParseError) -> Filter {
        guard case .string(let pattern) = value else { throw failure("=like= takes a text pattern") }
        // Unicode scalars, not characters: a `*` followed by a combining mark is still a wildcard.
        var scalars = Array(pattern.unicodeScalars)
        if scalars.allSatisfy({ $0 == "*" }) { return .compare(field: field, op: .startsWith, value: "") }
        let leading = scalars.first == "*"
        if leading { scalars.removeFirst() }
        let trailing = scalars.last == "*"
        if trailing { scalars.removeLast() }
        guard !scalars.contains("*") else { throw failure("=like= supports abc*, *abc* and abc, not inner wildcards") }
        var needle = ""
        needle.unicodeScalars.append(contentsOf: scalars)
        switch (leading, trailing) {
        case (false, false): return .compare(field: field, op: .eq, value: .string(needle))
        case (false, true): return .compare(field: field, op: .startsWith, value: .string(needle))
        case (true, true): return .compare(field: field, op: .contains, value: .string(needle))
        case (true, false): throw failure("=like= supports abc*, *abc* and abc, not *abc")
        }
    }

    private mutating func parseOperator() throws(ParseError) -> String {
        let start = position
        if current == "=" || current == "!" {
            position += 1
            if current == "=" {
                position += 1
                return String(String.UnicodeScalarView(scalars[start..<position]))
            }
            if scalars[start] == "=" {
                while let scalar = current, ("a"..."z").contains(scalar) { position += 1 }
                if current == "=" {
                    position += 1
                    let op = String(String.UnicodeScalarView(scalars[start..<position]))
                    if ["=lt=", "=le=", "=gt=", "=ge=", "=in=", "=out=", "=like="].contains(op) { return op }
                    position = start
                    throw failure("unknown operator \(op)")
                }
            }
        }
        position = start
        throw failure("expected an operator (==, !=, =lt=, =le=, =gt=, =ge=, =in=, =out=, =like=)")
    }

    private mutating func parseValue() throws(ParseError) -> JSONValue {
        if let quote = current, quote == "'" || quote == "\"" {
            position += 1
            var text = String.UnicodeScalarView()
            while let scalar = current, scalar != quote {
                if scalar == "\\" {
                    position += 1
                    guard let escaped = current else { break }
                    text.append(escaped)
                } else {
                    text.append(scalar)
                }
                position += 1
            }
            guard current == quote else { throw failure("unterminated quoted value") }
            position += 1
            return .string(String(text))
        }
        let start = position
        while let scalar = current, !Self.isReserved(scalar) { position += 1 }
        guard position > start else { throw failure("expected a value") }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        switch text {
        case "true": return true
        case "false": return false
        case "null": return .null
        default: break
        }
        if let first = text.unicodeScalars.first, first == "-" || ("0"..."9").contains(first),
            let number = try? JSONValue.parse(text), number.isNumber
        {
            return number
        }
        return .string(text)
    }

    private static func isSelector(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "."
    }

    private static func isReserved(_ scalar: Unicode.Scalar) -> Bool {
        "\"'();,=!~<> ".unicodeScalars.contains(scalar)
    }

    /// `a.b_c.d2`: dotted segments that start with a letter or `_`.
    static func isValidPath(_ field: String) -> Bool {
        !field.isEmpty
            && field.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { segment in
                guard let first = segment.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
                return true
            }
    }
}

extension JSONValue {
    fileprivate var isNumber: Bool {
        switch self {
        case .int, .double: true
        default: false
        }
    }
}
