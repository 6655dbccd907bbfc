/// Derives a ``JSONSchemaProviding`` conformance whose schema matches the JSON produced and
/// accepted by the type's synthesized `Codable` conformance.
///
/// Works on non-generic structs and enums:
/// - Structs list their stored properties (respecting a nested `CodingKeys` enum); optionals are
///   not required and accept `null`; unknown members are rejected.
/// - Enums with `String` or integer raw values become an `enum` of the raw values.
/// - Other enums become a `oneOf` of `{"case":{...}}` objects, one per case, honouring
///   `CodingKeys` and per-case `<Case>CodingKeys` enums.
///
/// `///` comments on the type, its properties and its cases become `description`s.
@attached(extension, conformances: JSONSchemaProviding, names: named(jsonSchema))
public macro Schema() = #externalMacro(module: "CQRSSchemaMacros", type: "SchemaMacro")
