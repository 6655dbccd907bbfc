import Foundation

// MARK: - JSON equality

/// JSON Schema equality: numbers compare by value (`1 == 1.0`), booleans never equal numbers.
func jsonEqual(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
    switch (lhs, rhs) {
    case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
        return compareNumbers(lhs, rhs) == .orderedSame
    case (.array(let left), .array(let right)):
        return left.count == right.count && zip(left, right).allSatisfy(jsonEqual)
    case (.object(let left), .object(let right)):
        guard left.count == right.count else { return false }
        for (key, value) in left {
            guard let other = right[key], jsonEqual(value, other) else { return false }
        }
        return true
    default:
        return lhs == rhs
    }
}

enum NumberOrder { case orderedAscending, orderedSame, orderedDescending }

/// Exact comparison of two JSON numbers, without rounding an `Int` through `Double`.
func compareNumbers(_ lhs: JSONValue, _ rhs: JSONValue) -> NumberOrder {
    func order<T: Comparable>(_ a: T, _ b: T) -> NumberOrder {
        a < b ? .orderedAscending : (a == b ? .orderedSame : .orderedDescending)
    }
    func flip(_ value: NumberOrder) -> NumberOrder {
        switch value {
        case .orderedAscending: return .orderedDescending
        case .orderedSame: return .orderedSame
        case .orderedDescending: return .orderedAscending
        }
    }
    /// Compares an integer with a double exactly.
    func mixed(_ integer: Int, _ number: Double) -> NumberOrder {
        if number.isNaN { return .orderedSame }
        if number >= 0x1p63 { return .orderedAscending }
        if number < -0x1p63 { return .orderedDescending }
        let whole = number.rounded(.down)
        let wholeInteger = Int(whole)  // in range: -2^63 <= whole < 2^63
        if integer != wholeInteger { return order(integer, wholeInteger) }
        return whole == number ? .orderedSame : .orderedAscending
    }
    switch (lhs, rhs) {
    case (.int(let a), .int(let b)): return order(a, b)
    case (.double(let a), .double(let b)): return order(a, b)
    case (.int(let a), .double(let b)): return mixed(a, b)
    case (.double(let a), .int(let b)): return flip(mixed(b, a))
    default: return .orderedSame
    }
}
