/// The rule every store applies to aggregate ids, view ids, parent ids and idempotency keys,
/// checked before any store sees them: 1 to ``maximumLength`` characters (Unicode scalars) and no
/// control character (U+0000–U+001F, U+007F–U+009F). Ids compare by their UTF-8 bytes.
///
/// The bound keeps every key inside PostgreSQL's index row limit (256 scalars are at most
/// 1,024 bytes) and NUL, which PostgreSQL cannot store in text, out of every store alike.
public enum Identifier {
    /// The longest id or key, in Unicode scalars.
    public static let maximumLength = 256

    /// The JSON Schema `pattern` of the rule (no control characters).
    public static let pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"

    /// Checks `value` against the rule.
    /// - Parameters:
    ///   - value: the id or key.
    ///   - name: what the value is, for the message (`"id"`, `"idempotencyKey"`).
    /// - Throws: 400 `VALIDATION_FAILED` naming the rule that failed.
    public static func check(_ value: String, as name: String) throws {
        let scalars = value.unicodeScalars
        guard !scalars.isEmpty else {
            throw CqrsError.validation("\(name) must not be empty", details: ["field": .string(name)])
        }
        var count = 0
        for scalar in scalars {
            count += 1
            if isControl(scalar) {
                throw CqrsError.validation(
                    "\(name) must not contain control characters (found U+\(hex(scalar.value)))",
                    details: ["field": .string(name)])
            }
        }
        guard count <= maximumLength else {
            throw CqrsError.validation(
                "\(name) is \(count) characters long; at most \(maximumLength) are allowed",
                details: ["field": .string(name), "length": .int(count), "maximumLength": .int(maximumLength)])
        }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

extension String {
    /// Whether the string holds U+0000, which PostgreSQL cannot store in text or `jsonb`.
    var containsNUL: Bool {
        var copy = self
        return copy.withUTF8 { $0.contains(0) }
    }
}
