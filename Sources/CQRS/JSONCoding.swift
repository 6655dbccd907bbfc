import CQRSSchema
import Foundation

/// The JSON conventions of the whole library: dates as ISO 8601 UTC strings with milliseconds
/// (`2026-11-27T10:15:30.123Z`), everything else as Foundation's Codable does it.
public enum CQRSJSON {
    /// A new encoder with the library's conventions (sorted keys, so output is stable).
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return encoder
    }

    /// A new decoder with the library's conventions.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISO8601.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "Expected an ISO 8601 date-time, got \"\(text)\"")
            }
            return date
        }
        return decoder
    }

    /// Encodes a value to JSON bytes.
    public static func encode(_ value: some Encodable) throws -> Data {
        do {
            return try makeEncoder().encode(value)
        } catch {
            throw CqrsError.serialization("Cannot encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes a value from JSON bytes.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try makeDecoder().decode(type, from: data)
    }

    /// Encodes values straight to `JSONValue` (no JSON text in between), dates as ISO 8601.
    public static let valueEncoder = JSONValueEncoder(dateEncoding: { .string(ISO8601.format($0)) })

    /// Decodes values straight from `JSONValue`, dates from ISO 8601.
    public static let valueDecoder = JSONValueDecoder(dateDecoding: { json in
        guard let text = json.stringValue, let date = ISO8601.parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: "Expected an ISO 8601 date-time, got \(json.serialized())"))
        }
        return date
    })

    /// A value as a `JSONValue`.
    public static func value(of value: some Encodable) throws -> JSONValue {
        do {
            return try valueEncoder.encode(value)
        } catch {
            throw CqrsError.serialization("Cannot encode \(type(of: value)): \(error)")
        }
    }

    /// Decodes a value from a `JSONValue`.
    public static func decode<T: Decodable>(_ type: T.Type, from json: JSONValue) throws -> T {
        try valueDecoder.decode(type, from: json)
    }

    /// Compact JSON text of a value (sorted keys); `"null"` if it cannot be encoded.
    public static func text(of value: some Encodable) -> String {
        guard let data = try? makeEncoder().encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// ISO 8601 date-times in UTC with millisecond precision, formatted without Foundation formatters
/// (they are slow and not Sendable).
enum ISO8601 {
    static func format(_ date: Date) -> String {
        let ms = date.millisecondsSince1970
        let days = ms >= 0 ? ms / 86_400_000 : -((-ms + 86_399_999) / 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (year, month, day) = civil(fromDays: days)
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let milli = msOfDay % 1000
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(milli, 3))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard byte >= 48 && byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            index += width
            return value
        }
        func expect(_ char: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == char else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2),
            index < bytes.count, bytes[index] == 84 || bytes[index] == 116
        else { return nil }
        index += 1
        guard let hour = number(2), expect(58), let minute = number(2), expect(58), let second = number(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var millis: Int64 = 0
        if expect(46) {
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        var offsetMinutes: Int64 = 0
        if expect(90) || expect(122) {
        } else if index < bytes.count, bytes[index] == 43 || bytes[index] == 45 {
            let sign: Int64 = bytes[index] == 45 ? -1 : 1
            index += 1
            guard let offsetHour = number(2), expect(58), let offsetMinute = number(2) else { return nil }
            offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = days(fromCivil: year, month, day)
        let ms = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60_000 + second * 1000 + millis
        return Date(millisecondsSince1970: ms)
    }

    // Howard Hinnant's civil-date algorithms.
    private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(fromCivil y0: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let year = month <= 2 ? y0 - 1 : y0
        let era = (year >= 0 ? year : year - 399) / 400
        let yoe = year - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
