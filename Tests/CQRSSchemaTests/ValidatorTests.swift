import CQRSSchema
import Testing

@Suite("Validator")
struct ValidatorTests {
    func violations(_ schema: String, _ instance: String) throws -> [SchemaViolation] {
        JSONSchema.validate(try JSONValue.parse(instance), against: try JSONValue.parse(schema))
    }

    @Test func reportsEveryViolation() throws {
        let schema = #"{"type":"object","properties":{"a":{"type":"integer"},"b":{"items":{"maxLength":1}}},"required":["a","c"],"additionalProperties":false}"#
        let found = try violations(schema, #"{"a":"x","b":["k","long","worse"],"d/e~":1}"#)
        #expect(found.map(\.keyword) == ["required", "type", "maxLength", "maxLength", "additionalProperties"])
        #expect(found.map(\.pointer) == ["", "/a", "/b/1", "/b/2", "/d~1e~0"])
        #expect(found[0].message == #"missing required property "c""#)
        #expect(found[1].message == "expected integer, got string")
    }

    /// `$ref` pointers unescape `%XX` (URI fragment) and `~1`/`~0` (JSON Pointer).
    @Test func refsUnescapeTheirPointers() throws {
        let schema = ##"{"$defs":{"a%b":{"type":"integer"},"c/d":{"type":"string"}},"properties":{"x":{"$ref":"#/$defs/a%25b"},"y":{"$ref":"#/$defs/c~1d"}}}"##
        #expect(try violations(schema, #"{"x":1,"y":"s"}"#).isEmpty)
        #expect(try violations(schema, #"{"x":"no","y":2}"#).map(\.pointer) == ["/x", "/y"])
    }

    @Test func reportsTheSelectedBranchOrNamesTheClosest() throws {
        // The object names its case: the violation is reported inside that case, where it is.
        let found = Command.jsonSchema.validate(try JSONValue.parse(#"{"deposit":{"amount":"ten"}}"#))
        #expect(found.count == 1)
        #expect(found[0].keyword == "type")
        #expect(found[0].pointer == "/deposit/amount")
        #expect(found[0].message == "expected integer, got string")
        // No case is named: the closest alternative is described.
        let unnamed = try violations(#"{"oneOf":[{"type":"object","required":["a"]},{"type":"string"}]}"#, "{}")
        #expect(unnamed.count == 1 && unnamed[0].keyword == "oneOf" && unnamed[0].pointer == "")
        #expect(unnamed[0].message.contains("closest is alternative 0"))
        let ambiguous = try violations(#"{"oneOf":[{"type":"integer"},{"minimum":0}]}"#, "1")
        #expect(ambiguous.map(\.message) == ["value matches 2 alternatives (alternative 0, alternative 1) but must match exactly one"])
    }

    @Test func invalidPatternIsAViolation() throws {
        let found = try violations(#"{"pattern":"(unclosed"}"#, #""x""#)
        #expect(found.map(\.keyword) == ["pattern"])
        #expect(try violations(#"{"patternProperties":{"[":{}}}"#, #"{"a":1}"#).map(\.keyword) == ["patternProperties"])
        // A signed `\u` escape is no escape (ECMA 262): not read as U+0041 by the character-class scan.
        #expect(try violations(#"{"pattern":"^[\\u+041]*$"}"#, #""A""#).map(\.keyword) == ["pattern"])
    }

    @Test func unresolvableAndCyclicReferences() throws {
        #expect(try violations(##"{"$ref":"#/$defs/missing"}"##, "1").map(\.keyword) == ["$ref"])
        #expect(try violations(#"{"$ref":"https://example.com/s"}"#, "1").map(\.keyword) == ["$ref"])
        let cyclic = try violations(##"{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}"##, "1")
        #expect(cyclic.contains { $0.keyword == "$ref" })
    }

    @Test func ignoresMalformedKeywordsAndFormats() throws {
        #expect(try violations(#"{"minimum":"3","type":7,"required":"a","format":"email"}"#, #""nope""#) == [])
    }

    @Test func violationsAreCodable() throws {
        let violation = SchemaViolation(pointer: "/a", message: "m", keyword: "type")
        let json = try encodeJSON(violation)
        #expect(json == ["pointer": "/a", "message": "m", "keyword": "type"])
    }
}

@Suite("Schema model")
struct SchemaModelTests {
    @Test func buildersComposeShortly() throws {
        let schema = JSONSchema.object(
            properties: [
                "name": .string(minLength: 1, description: "Who"),
                "age": .optional(.integer(minimum: 0, maximum: 150)),
                "tags": .array(of: .string, uniqueItems: true),
                "kind": .stringEnum(["a", "b"]),
                "level": .optional(.integerEnum([1, 2])),
                "extra": .optional(.oneOf([.string, .integer])),
                "scores": .dictionary(of: .number),
            ],
            required: ["name"])
        #expect(schema.properties?.map(\.name) == ["name", "age", "tags", "kind", "level", "extra", "scores"])
        #expect(schema.property("age")?.json == ["type": ["integer", "null"], "minimum": 0, "maximum": 150])
        #expect(schema.property("level")?.json == ["type": ["integer", "null"], "enum": [1, 2, nil]])
        #expect(schema.property("extra")?.anyOf?.count == 2)
        #expect(JSONSchema.optional(.any) == .any)
        #expect(JSONSchema.optional(.optional(.string)) == .optional(.string))
        #expect(schema.validate(try JSONValue.parse(#"{"name":"x","age":null,"kind":"a","level":null,"extra":3,"scores":{"a":1.5}}"#)) == [])
        #expect(schema.validate(try JSONValue.parse(#"{"name":"","kind":"c","extra":true}"#)).count == 3)
    }

    @Test func readsSchemasBack() throws {
        let text = ##"{"$defs":{"n":{"type":"integer"}},"additionalProperties":{"$ref":"#/$defs/n"},"not":{"const":0},"x-custom":[1],"minimum":1.5,"items":true,"description":"d"}"##
        let json = try JSONValue.parse(text)
        let schema = try #require(JSONSchema(json: json))
        #expect(schema.extra == ["x-custom": [1]])
        #expect(schema.minimum == .double(1.5))
        #expect(schema.items == .any)
        #expect(schema.defs?["n"] == .integer)
        #expect(schema.json == json.withItemsNormalized)
        #expect(JSONSchema(json: false) == .never)
        #expect(JSONSchema(json: 3) == nil)
        #expect(JSONSchema.ref("a/b").ref == "#/$defs/a~1b")
    }

    @Test func primitiveConformances() {
        #expect(String.jsonSchema.json == ["type": "string"])
        #expect(Bool.jsonSchema.json == ["type": "boolean"])
        #expect(Double.jsonSchema.json == ["type": "number"])
        #expect(Int8.jsonSchema.json == ["type": "integer", "minimum": -128, "maximum": 127])
        #expect(UInt64.jsonSchema.maximum == .double(0x1p64))
        #expect(Set<String>.jsonSchema.json == ["type": "array", "items": ["type": "string"], "uniqueItems": true])
        #expect([String: Bool].jsonSchema.json == ["type": "object", "additionalProperties": ["type": "boolean"]])
        #expect(JSONValue.jsonSchema.json == [:])
    }

    /// Whole-string character-class patterns skip the regex engine; they must answer as it does.
    @Test func characterClassPatternsAnswerAsTheRegex() throws {
        let patterns = [
            #"^[^\u0000-\u001F\u007F-\u009F]*$"#, "^[a-z0-9_]{1,3}$", "^[a-z]+$", "^[-a]*$", "^[a-]{2}$", #"^[\]\-x]+$"#,
            "^[^a-c]{2,}$", #"^[\u00e9😀]{1}$"#, "^[0-9]{0}$",
            // Not of the shape: these go to the regex engine.
            "^[a-z-0]+$", #"^[\d]+$"#, "^[a-z]+", "[a-z]+$", "^[a-z]+?$",
        ]
        let texts = ["", "a", "abc", "abcd", "a_1", "-", "--", "a-", "]", "x]-", "dd", "da", "é", "😀", "e\u{301}", "A", "0",
                     "tab\there", "\u{85}", "ok id 😀", "z-0", "7"]
        for pattern in patterns {
            let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
            let schema: JSONValue = ["pattern": .string(pattern)]
            for text in texts {
                let valid = JSONSchema.validate(.string(text), against: schema).isEmpty
                #expect(valid == text.contains(regex), "\(pattern) on \(JSONValue.string(text).serialized())")
            }
        }
    }
}

extension JSONValue {
    /// `items: true` reads back as the empty schema.
    fileprivate var withItemsNormalized: JSONValue {
        guard var object = objectValue else { return self }
        if object["items"] == true { object["items"] = [:] }
        return .object(object)
    }
}
