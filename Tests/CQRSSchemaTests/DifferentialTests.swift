import CQRSSchema
import Foundation
import Testing

/// Compares the validator with Python's `jsonschema` (Draft 2020-12) on a shared corpus.
@Suite("Differential against Python jsonschema")
struct DifferentialTests {
    static var derivedSchemas: [(String, JSONSchema)] {
        [
            ("Address", Address.jsonSchema), ("Account", Account.jsonSchema), ("Person", Person.jsonSchema),
            ("Currency", Currency.jsonSchema), ("Priority", Priority.jsonSchema), ("Command", Command.jsonSchema),
            ("RenamedCommand", RenamedCommand.jsonSchema), ("Envelope", Envelope.jsonSchema), ("Empty", Empty.jsonSchema),
            ("Ledger", Ledger.jsonSchema),
        ]
    }

    /// Instances for the derived schemas: encoder output plus hand-written valid and invalid JSON.
    static func derivedCases() throws -> [(schema: JSONValue, instance: JSONValue)] {
        var cases: [(JSONValue, JSONValue)] = []
        func add(_ schema: JSONSchema, _ instances: [JSONValue]) {
            cases += instances.map { (schema.json, $0) }
        }
        add(Account.jsonSchema, try DerivationTests.accounts.map(encodeJSON))
        add(Command.jsonSchema, try DerivationTests.commands.map(encodeJSON))
        add(Currency.jsonSchema, try Currency.allCases.map(encodeJSON) + ["eur", 1, nil])
        add(Priority.jsonSchema, try Priority.allCases.map(encodeJSON) + [1, 10.0, "low", 10.5])
        add(Person.jsonSchema, try [Person(firstName: "A", lastName: nil)].map(encodeJSON))
        add(RenamedCommand.jsonSchema, try [RenamedCommand.deposit(amount: 1), .freeze, .default(.low)].map(encodeJSON))
        add(Empty.jsonSchema, [[:], ["a": 1], []])
        let texts: [(JSONSchema, String)] = [
            (Person.jsonSchema, #"{"first_name":"A","last_name":null,"kind":"x"}"#),
            (Person.jsonSchema, #"{"firstName":"A"}"#),
            (Person.jsonSchema, #"{"first_name":1}"#),
            (Command.jsonSchema, #"{"close":{}}"#),
            (Command.jsonSchema, #"{"deposit":{}}"#),
            (Command.jsonSchema, #"{"deposit":{"amount":1.0,"memo":null}}"#),
            (Command.jsonSchema, #"{"close":{},"deposit":{"amount":1}}"#),
            (Command.jsonSchema, #"{"annotate":{"_0":null}}"#),
            (Command.jsonSchema, #"{"annotate":{"_0":{"street":"s"}}}"#),
            (RenamedCommand.jsonSchema, #"{"Deposit":{"amount":1}}"#),
            (RenamedCommand.jsonSchema, #"{"default":{"_0":-1}}"#),
            (Envelope.jsonSchema, #"{"commands":[],"byName":{"k":{"FREEZE":{}}},"priorities":[0,11],"currency":null}"#),
            (Envelope.jsonSchema, #"{"commands":[{"close":{}}],"byName":{},"priorities":[0,0]}"#),
            (Account.jsonSchema, #"{"id":"x"}"#),
        ]
        for (schema, text) in texts { cases.append((schema.json, try JSONValue.parse(text))) }
        return cases
    }

    /// Hand-written edge cases, as (schema, instance) JSON texts.
    static let edgeCases: [(String, String)] = [
        (#"{"type":"integer"}"#, "1.0"), (#"{"type":"integer"}"#, "1.5"), (#"{"type":"integer"}"#, "true"),
        (#"{"type":"integer"}"#, "1e300"), (#"{"type":"number"}"#, "3"), (#"{"type":"number"}"#, "\"3\""),
        (#"{"type":["string","null"]}"#, "null"), (#"{"type":["string","null"]}"#, "0"), (#"{"type":"object"}"#, "[]"),
        (#"{"type":"array"}"#, "{}"), (#"{"type":"boolean"}"#, "0"), (#"{"type":"null"}"#, "false"),
        (#"{"const":1}"#, "1.0"), (#"{"const":1}"#, "true"), (#"{"const":false}"#, "0"), (#"{"const":[1,{"a":2}]}"#, #"[1.0,{"a":2.0}]"#),
        (#"{"const":{"a":1}}"#, #"{"a":1,"b":2}"#), (#"{"const":null}"#, "null"), (#"{"enum":[1,"a",null]}"#, "1.0"),
        (#"{"enum":[0]}"#, "false"), (#"{"enum":[[1,2]]}"#, "[1,2.0]"), (#"{"enum":[[1,2]]}"#, "[2,1]"),
        (#"{"minLength":2}"#, #""😀""#), (#"{"minLength":2}"#, #""e\u0301""#), (#"{"maxLength":1}"#, #""é""#),
        (#"{"maxLength":1}"#, #""e\u0301""#), (#"{"minLength":1}"#, "5"), (#"{"maxLength":0}"#, #""""#),
        (#"{"pattern":"^a+$"}"#, #""aaa""#), (#"{"pattern":"^a+$"}"#, #""aab""#), (#"{"pattern":"b"}"#, #""abc""#),
        (#"{"pattern":"^[0-9]{3}-[a-z]+$"}"#, #""123-abc""#), (#"{"pattern":"^[0-9]{3}$"}"#, #""1234""#),
        (#"{"pattern":"^.$"}"#, #""😀""#), (#"{"pattern":"^\\d+(\\.\\d+)?$"}"#, #""3.14""#), (#"{"pattern":"x"}"#, "12"),
        (#"{"pattern":"^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}"#, #""ok id 😀""#),
        (#"{"pattern":"^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}"#, #""tab\there""#),
        (#"{"pattern":"^[^\\u0000-\\u001F\\u007F-\\u009F]*$"}"#, #""\u0085""#),
        (#"{"pattern":"^[a-z0-9_]{2,3}$"}"#, #""a_1""#), (#"{"pattern":"^[a-z0-9_]{2,3}$"}"#, #""a""#),
        (#"{"pattern":"^[a-z0-9_]{2,3}$"}"#, #""abcd""#), (#"{"pattern":"^[a-z0-9_]{2,3}$"}"#, #""aB""#),
        (#"{"pattern":"^[-a\\]]+$"}"#, #""-a]""#), (#"{"pattern":"^[-a\\]]+$"}"#, #""""#),
        (#"{"pattern":"^[^a-c]{2}$"}"#, #""dd""#), (#"{"pattern":"^[^a-c]{2}$"}"#, #""da""#),
        (#"{"minimum":1}"#, "1"), (#"{"minimum":1}"#, "0.999"), (#"{"minimum":1.5}"#, "1"), (#"{"maximum":1.5}"#, "1"),
        (#"{"exclusiveMinimum":1}"#, "1"), (#"{"exclusiveMinimum":1}"#, "1.0000001"), (#"{"exclusiveMaximum":0}"#, "-0.0"),
        (#"{"maximum":9223372036854775807}"#, "9223372036854775807"), (#"{"maximum":9223372036854775807}"#, "9.3e18"),
        (#"{"minimum":-9223372036854775808}"#, "-9223372036854775808"), (#"{"maximum":1e308}"#, "1e308"),
        (#"{"maximum":255}"#, "255.5"), (#"{"minimum":0}"#, "\"-1\""),
        (#"{"multipleOf":3}"#, "9"), (#"{"multipleOf":3}"#, "10"), (#"{"multipleOf":0.5}"#, "1.5"), (#"{"multipleOf":0.5}"#, "1.25"),
        (#"{"minItems":2}"#, "[1]"), (#"{"maxItems":1}"#, "[1,2]"), (#"{"uniqueItems":true}"#, "[1,1.0]"),
        (#"{"uniqueItems":true}"#, "[1,true]"), (#"{"uniqueItems":true}"#, #"[{"a":1},{"a":1.0}]"#),
        (#"{"uniqueItems":true}"#, "[0,false]"), (#"{"uniqueItems":false}"#, "[1,1]"),
        (#"{"items":{"type":"string"}}"#, #"["a",1,"b",2]"#), (#"{"prefixItems":[{"type":"integer"}],"items":false}"#, "[1]"),
        (#"{"prefixItems":[{"type":"integer"}],"items":false}"#, "[1,2]"),
        (#"{"properties":{"a":{"type":"integer"}},"required":["a","b"]}"#, #"{"a":"x"}"#),
        (#"{"properties":{"a":{"type":"integer"}},"required":["a"]}"#, #""not an object""#),
        (#"{"properties":{"a/b":{"const":1},"m~n":{"const":2},"":{"const":3}}}"#, #"{"a/b":1,"m~n":2,"":3}"#),
        (#"{"properties":{"a/b":{"const":1}}}"#, #"{"a/b":2}"#),
        (#"{"additionalProperties":{"type":"integer"}}"#, #"{"a":1,"b":"x"}"#),
        (#"{"properties":{"a":true},"additionalProperties":false}"#, #"{"a":1}"#),
        (#"{"properties":{"a":false}}"#, #"{"a":1}"#), (#"{"properties":{"a":false}}"#, "{}"),
        (#"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#, #"{"x-a":"s"}"#),
        (#"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#, #"{"x-a":1}"#),
        (#"{"patternProperties":{"^x-":{"type":"string"}},"additionalProperties":false}"#, #"{"y":"s"}"#),
        (#"{"minProperties":1}"#, "{}"), (#"{"maxProperties":1}"#, #"{"a":1,"b":2}"#),
        (#"{"anyOf":[{"type":"string"},{"minimum":2}]}"#, "1"), (#"{"anyOf":[{"type":"string"},{"minimum":2}]}"#, "3"),
        (#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "3"), (#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "1"),
        (#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "2.5"), (#"{"oneOf":[{"type":"integer"},{"minimum":2}]}"#, "1.5"),
        (#"{"allOf":[{"type":"integer"},{"minimum":2}]}"#, "1"), (#"{"allOf":[{"type":"integer"},{"minimum":2}]}"#, "2"),
        (#"{"not":{"type":"string"}}"#, "1"), (#"{"not":{"type":"string"}}"#, #""s""#),
        (#"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "-1"),
        (#"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "true"),
        (#"{"if":{"type":"integer"},"then":{"minimum":0},"else":{"type":"string"}}"#, "5"),
        ("true", "[1]"), ("false", "null"), ("{}", #"{"any":[1]}"#), (#"{"not":{}}"#, "1"),
        (##"{"$defs":{"pos":{"type":"integer","minimum":1}},"items":{"$ref":"#/$defs/pos"}}"##, "[1,2]"),
        (##"{"$defs":{"pos":{"type":"integer","minimum":1}},"items":{"$ref":"#/$defs/pos"}}"##, "[1,0]"),
        (##"{"$defs":{"a/b":{"const":1}},"$ref":"#/$defs/a~1b"}"##, "1"),
        (##"{"$defs":{"node":{"type":"object","properties":{"next":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/node"}]}},"required":["next"]}},"$ref":"#/$defs/node"}"##, ##"{"next":{"next":{"next":null}}}"##),
        (##"{"$defs":{"node":{"type":"object","properties":{"next":{"anyOf":[{"type":"null"},{"$ref":"#/$defs/node"}]}},"required":["next"]}},"$ref":"#/$defs/node"}"##, ##"{"next":{"next":{}}}"##),
        (##"{"type":"object","properties":{"kids":{"type":"array","items":{"$ref":"#"}}}}"##, ##"{"kids":[{"kids":[]},{"kids":[1]}]}"##),
        (#"{"format":"date-time"}"#, #""not a date""#), (#"{"format":"uuid","type":"string"}"#, #""x""#),
        (#"{"type":"integer","minimum":0,"maximum":255}"#, "256"), (#"{"type":"integer","minimum":0,"maximum":255}"#, "-0.0"),
        (#"{"type":"number","maximum":1.5}"#, "1.5000000000000002"), (#"{"type":"integer","maximum":18446744073709551616}"#, "18446744073709551615"),
        (#"{"type":"object","required":["a"],"properties":{"a":{"type":"array","items":{"type":"object","required":["b"]}}}}"#, #"{"a":[{"b":1},{},{"c":2}]}"#),
        (#"{"anyOf":[{"type":"null"},{"type":"object","additionalProperties":false}]}"#, #"{"x":1}"#),
        (#"{"oneOf":[{"const":"a"},{"const":"b"}]}"#, #""b""#), (#"{"oneOf":[true,{"type":"integer"}]}"#, "1"),
        (#"{"type":"string","enum":["a",null]}"#, "null"), (#"{"type":["string","null"],"enum":["a",null]}"#, "null"),
    ]

    static let pythonScript = """
        import json, sys
        from jsonschema import Draft202012Validator
        with open(sys.argv[1], encoding="utf-8") as f:
            data = json.load(f)
        verdicts = [Draft202012Validator(c["schema"]).is_valid(c["instance"]) for c in data["cases"]]
        problems = []
        for s in data["schemas"]:
            try:
                Draft202012Validator.check_schema(s)
                problems.append(None)
            except Exception as e:
                problems.append(str(e)[:300])
        print(json.dumps({"verdicts": verdicts, "problems": problems}))
        """

    @Test func verdictsMatchPythonJSONSchema() throws {
        var cases = try Self.derivedCases()
        for (schema, instance) in Self.edgeCases {
            cases.append((try JSONValue.parse(schema), try JSONValue.parse(instance)))
        }
        let schemas = Self.derivedSchemas.map(\.1.json) + Self.edgeCases.map { try! JSONValue.parse($0.0) }
        let input: JSONValue = [
            "cases": .array(cases.map { ["schema": $0.schema, "instance": $0.instance] }),
            "schemas": .array(schemas),
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("schema-diff-\(UUID().uuidString).json")
        try Data(input.serializedBytes()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.pythonScript, file.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // Read before waiting so that a full pipe cannot deadlock the child.
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)

        let result = try JSONValue.parse(data)
        let verdicts = try #require(result["verdicts"]?.arrayValue)
        try #require(verdicts.count == cases.count)
        var agreed = 0
        for (index, (schema, instance)) in cases.enumerated() {
            let violations = JSONSchema.validate(instance, against: schema)
            let expected = verdicts[index].boolValue
            #expect(
                violations.isEmpty == expected,
                "case \(index): \(schema.serialized(sortedKeys: true).prefix(160)) on \(instance.serialized()): \(violations)")
            if violations.isEmpty == expected { agreed += 1 }
        }
        #expect(agreed == cases.count)
        #expect(cases.count > 150)
        let problems = try #require(result["problems"]?.arrayValue)
        for (index, problem) in problems.enumerated() {
            #expect(problem == .null, "schema \(index) fails check_schema: \(problem.serialized())")
        }
    }
}
