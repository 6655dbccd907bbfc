import Foundation

/// A compiled JSON Schema `pattern`: a regular expression, or for the common shape of a whole
/// string over one character class (`^[^\u0000-\u001F]*$`, `^[a-z0-9_]{1,64}$`) a scan of its Unicode
/// scalars that gives the same answer without the regex engine (which costs microseconds per match).
struct SchemaPattern: Sendable {
    private enum Matcher: @unchecked Sendable {
        case regex(Regex<AnyRegexOutput>)
        case characterClass(CharacterClassPattern)
    }

    private let matcher: Matcher

    /// `pattern` compiled, or nil when it is not a valid regular expression.
    init?(_ pattern: String) {
        if let simple = CharacterClassPattern(pattern) {
            matcher = .characterClass(simple)
        } else if let regex = try? Regex(pattern) {
            // Scalar semantics make `.` and classes match code points, as ECMA 262 with the u flag does.
            matcher = .regex(regex.matchingSemantics(.unicodeScalar))
        } else {
            return nil
        }
    }

    /// Whether `text` contains a match (JSON Schema patterns are not implicitly anchored).
    func matches(_ text: String) -> Bool {
        switch matcher {
        case .regex(let regex): text.contains(regex)
        case .characterClass(let simple): simple.matches(text)
        }
    }
}

/// `^[…]q$` or `^[^…]q$`, where the class holds literal characters, `\uXXXX` escapes, escaped
/// punctuation and ranges of those, and `q` is `*`, `+`, `{n}`, `{n,}` or `{n,m}`.
struct CharacterClassPattern: Sendable {
    var negated: Bool
    var ranges: [ClosedRange<UInt32>]
    var minimum: Int
    var maximum: Int?

    init?(_ pattern: String) {
        var scalars = Array(pattern.unicodeScalars)[...]
        guard scalars.popFirst() == "^", scalars.popFirst() == "[", scalars.popLast() == "$" else { return nil }
        negated = scalars.first == "^"
        if negated { scalars.removeFirst() }
        ranges = []
        // A `]` first in the class, or an empty class, reads differently across dialects: use the regex.
        guard scalars.first != "]" else { return nil }
        while let next = scalars.first, next != "]" {
            // A `-` that is neither first nor last is a syntax error under the u flag: leave it to the regex.
            if next == "-", !ranges.isEmpty, scalars.dropFirst().first != "]" { return nil }
            guard let low = Self.classCharacter(&scalars) else { return nil }
            var high = low
            if scalars.first == "-", scalars.dropFirst().first != "]" {
                scalars.removeFirst()
                guard let end = Self.classCharacter(&scalars), end >= low else { return nil }
                high = end
            }
            ranges.append(low...high)
        }
        guard scalars.popFirst() == "]", !ranges.isEmpty, let (minimum, maximum) = Self.quantifier(scalars) else { return nil }
        self.minimum = minimum
        self.maximum = maximum
    }

    func matches(_ text: String) -> Bool {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if let maximum, count > maximum { return false }
            let inClass = ranges.contains { $0.contains(scalar.value) }
            if inClass == negated { return false }
        }
        return count >= minimum
    }

    /// One character of a class: a literal, `\uXXXX`, or a backslash before punctuation; nil for
    /// anything with a meaning of its own (`[`, `\d`, `\w`, …).
    private static func classCharacter(_ scalars: inout ArraySlice<Unicode.Scalar>) -> UInt32? {
        guard let first = scalars.popFirst(), first != "[" else { return nil }
        guard first == "\\" else { return first.value }
        guard let escaped = scalars.popFirst() else { return nil }
        if escaped == "u" {
            let digits = scalars.prefix(4)
            guard digits.count == 4, digits.allSatisfy({ $0.properties.isASCIIHexDigit }),
                let value = UInt32(String(String.UnicodeScalarView(digits)), radix: 16)
            else { return nil }
            scalars.removeFirst(4)
            // A surrogate half would pair with the next escape in ECMA 262: leave that to the regex.
            return (0xD800...0xDFFF).contains(value) ? nil : value
        }
        return "\\]-^[.$*+?(){}|/".unicodeScalars.contains(escaped) ? escaped.value : nil
    }

    /// `*`, `+`, `{n}`, `{n,}` or `{n,m}` and nothing after it.
    private static func quantifier(_ scalars: ArraySlice<Unicode.Scalar>) -> (Int, Int?)? {
        let text = String(String.UnicodeScalarView(scalars))
        if text == "*" { return (0, nil) }
        if text == "+" { return (1, nil) }
        guard text.hasPrefix("{"), text.hasSuffix("}"), text.count >= 3 else { return nil }
        let bounds = text.dropFirst().dropLast().split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)
        guard bounds.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let minimum = Int(bounds[0])
        else { return nil }
        if bounds.count == 1 { return (minimum, minimum) }
        if bounds[1].isEmpty { return (minimum, nil) }
        guard let maximum = Int(bounds[1]), maximum >= minimum else { return nil }
        return (minimum, maximum)
    }
}

/// Compiled `pattern`s for the whole process (parsing one costs far more than matching it, and every
/// validated argument meets the same few), or nil for those that do not compile. Bounded: the
/// patterns come from schemas, and a full cache is emptied rather than grown.
final class CompiledPatterns: @unchecked Sendable {
    static let shared = CompiledPatterns()
    private let lock = NSLock()
    // Guarded by `lock`.
    private var patterns: [String: SchemaPattern?] = [:]

    func pattern(_ pattern: String) -> SchemaPattern? {
        if let cached = lock.withLock({ patterns[pattern] }) { return cached }
        let compiled = SchemaPattern(pattern)
        lock.withLock {
            if patterns.count >= 1024 { patterns.removeAll() }
            patterns[pattern] = .some(compiled)
        }
        return compiled
    }
}
