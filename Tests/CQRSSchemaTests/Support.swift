import CQRSSchema
import Foundation
import Testing

/// Encodes like the project's coders: plain JSONEncoder with ISO 8601 dates.
func encodeJSON<T: Encodable>(_ value: T) throws -> JSONValue {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    return try JSONValue.parse(encoder.encode(value))
}

/// Whether JSONDecoder (ISO 8601 dates) accepts `json` as a `T`.
func decoderAccepts<T: Decodable>(_ type: T.Type, _ json: JSONValue) -> Bool {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return (try? decoder.decode(T.self, from: Data(json.serializedBytes()))) != nil
}

/// Checks that the encoded form of each value validates and decodes back to the value.
func expectEncodedValuesValidate<T: Codable & Equatable & JSONSchemaProviding>(
    _ values: [T], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for value in values {
        let json = try encodeJSON(value)
        let violations = T.jsonSchema.validate(json)
        #expect(violations.isEmpty, "\(json.serialized()): \(violations)", sourceLocation: sourceLocation)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        #expect(try decoder.decode(T.self, from: Data(json.serializedBytes())) == value, sourceLocation: sourceLocation)
    }
}

/// Checks that the decoder and the validator agree on each JSON text.
func expectAgreement<T: Decodable & JSONSchemaProviding>(
    _ type: T.Type, valid: Bool, _ texts: [String], sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for text in texts {
        let json = try JSONValue.parse(text)
        #expect(decoderAccepts(T.self, json) == valid, "decoder on \(text)", sourceLocation: sourceLocation)
        let violations = T.jsonSchema.validate(json)
        #expect(violations.isEmpty == valid, "validator on \(text): \(violations)", sourceLocation: sourceLocation)
    }
}

extension JSONSchema {
    /// The rendered schema of a property, for assertions.
    func property(_ name: String) -> JSONSchema? {
        properties?.first { $0.name == name }?.schema
    }
}
