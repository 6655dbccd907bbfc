import CQRSSchema
import Foundation
import Testing

@Suite("Derived schemas")
struct DerivationTests {
    static let home = Address(street: "1 Main St", zip: "12345")

    static let accounts = [
        Account(
            id: UUID(), owner: "Zoë 😀", balance: -5, nickname: nil, tags: [], limits: [:],
            opened: Date(timeIntervalSince1970: 1_700_000_000), website: nil, flags: [], metadata: nil, maybe: nil,
            list: [], small: 255, ratio: 0.5, legacy: nil, home: home, history: nil, first: .min, second: .max),
        Account(
            id: UUID(), owner: "שלום", balance: .max, nickname: "main", tags: ["a", "b"], limits: ["day": 1.5, "week": 2],
            opened: Date(timeIntervalSince1970: 0), website: URL(string: "https://example.com/a?b=c"), flags: [-128, 127],
            metadata: ["free": [1, "form", nil]], maybe: .min, list: [0, 65535], small: 0, ratio: -1e10, legacy: 7,
            home: home, history: [home, home], default: true, first: 0, second: 1, observed: 3),
    ]

    @Test func structWithStoredProperties() throws {
        try expectEncodedValuesValidate(Self.accounts)
        let schema = Account.jsonSchema
        #expect(schema.type == [.object])
        #expect(schema.additionalProperties == .allowed(false))
        #expect(schema.description == "A bank account.\nOpened by a customer; closed accounts keep their history.")
        // Declaration order; static and computed properties are left out.
        #expect(
            schema.properties?.map(\.name) == [
                "id", "owner", "balance", "nickname", "tags", "limits", "opened", "website", "flags", "metadata",
                "maybe", "list", "small", "ratio", "legacy", "home", "history", "default", "first", "second", "observed",
            ])
        #expect(
            schema.required == [
                "id", "owner", "balance", "tags", "limits", "opened", "flags", "metadata", "list", "small", "ratio",
                "home", "default", "first", "second", "observed",
            ])
        #expect(schema.property("owner")?.description == "Owner's display name, as shown on statements.")
        #expect(schema.property("id")?.json == ["type": "string", "format": "uuid", "description": "The account identifier."])
        #expect(schema.property("opened")?.format == "date-time")
        #expect(schema.property("flags")?.uniqueItems == true)
        #expect(schema.property("nickname")?.type == [.string, .null])
        #expect(schema.property("metadata")?.json == [:])
        #expect(schema.property("limits")?.additionalProperties == .schema(.number))
        #expect(schema.property("small")?.maximum == 255)

        let valid = try encodeJSON(Self.accounts[0])
        var missing = valid.objectValue!
        missing["owner"] = nil
        var wrongType = valid.objectValue!
        wrongType["balance"] = "five"
        var outOfRange = valid.objectValue!
        outOfRange["small"] = 256
        var badElement = valid.objectValue!
        badElement["tags"] = ["ok", 1]
        // A default value does not make a property optional for synthesized Decodable.
        var missingDefaulted = valid.objectValue!
        missingDefaulted["default"] = nil
        for bad in [missing, wrongType, outOfRange, badElement, missingDefaulted] {
            #expect(!decoderAccepts(Account.self, .object(bad)))
            #expect(!Account.jsonSchema.validate(.object(bad)).isEmpty)
        }
        // Optionals may be null or absent; integral doubles pass as integers.
        var lenient = valid.objectValue!
        lenient["nickname"] = nil
        lenient["website"] = .null
        lenient["balance"] = 3.0
        #expect(decoderAccepts(Account.self, .object(lenient)))
        #expect(Account.jsonSchema.validate(.object(lenient)) == [])
        // Unknown keys are rejected on purpose, although JSONDecoder ignores them.
        var unknown = valid.objectValue!
        unknown["extra"] = 1
        #expect(Account.jsonSchema.validate(.object(unknown)).map(\.pointer) == ["/extra"])
    }

    @Test func customCodingKeys() throws {
        try expectEncodedValuesValidate([
            Person(firstName: "Ada", lastName: "Lovelace"), Person(firstName: "Cher", lastName: nil),
        ])
        let schema = Person.jsonSchema
        #expect(schema.properties?.map(\.name) == ["first_name", "last_name", "kind"])
        #expect(schema.required == ["first_name"])
        // `kind` is encoded but never decoded, so it is allowed and not required.
        #expect(schema.property("kind")?.description == "Always written, never read back.")
        try expectAgreement(Person.self, valid: true, [#"{"first_name":"A"}"#, #"{"first_name":"A","last_name":null,"kind":"x"}"#])
        try expectAgreement(Person.self, valid: false, [#"{"firstName":"A"}"#, #"{"first_name":1}"#, "[]", "null"])
        #expect(!Person.jsonSchema.validate(try JSONValue.parse(#"{"first_name":"A","cache":""}"#)).isEmpty)
    }

    @Test func stringRawValueEnum() throws {
        for currency in Currency.allCases {
            #expect(Currency.jsonSchema.validate(try encodeJSON(currency)) == [])
        }
        #expect(Currency.jsonSchema.json == ["type": "string", "enum": ["usd", "EUR", "gbp", #"Swiss "franc""#], "description": "A currency.\nusd: US dollar."])
        try expectAgreement(Currency.self, valid: true, [#""usd""#, #""EUR""#])
        try expectAgreement(Currency.self, valid: false, [#""eur""#, #""chf""#, "0", "null", #"{"usd":{}}"#])
    }

    @Test func integerRawValueEnum() throws {
        for priority in Priority.allCases {
            #expect(Priority.jsonSchema.validate(try encodeJSON(priority)) == [])
        }
        #expect(Priority.jsonSchema.json == ["type": "integer", "enum": [-1, 0, 10, 11]])
        try expectAgreement(Priority.self, valid: true, ["-1", "0", "10", "11"])
        try expectAgreement(Priority.self, valid: false, ["1", "12", #""low""#, "null"])
    }

    static let commands: [Command] = [
        .deposit(amount: 5, memo: nil), .deposit(amount: -1, memo: "rent"), .withdraw(3, to: "savings"), .close,
        .transfer(to: home, amounts: [1, 2], currency: .chf), .annotate(nil), .annotate(home),
        .tag("t", count: 1, 2),
    ]

    @Test func associatedValueEnum() throws {
        try expectEncodedValuesValidate(Self.commands)
        let branches = try #require(Command.jsonSchema.oneOf)
        #expect(branches.map(\.title) == ["deposit", "withdraw", "close", "transfer", "annotate", "tag"])
        // Unlabeled values, including `_ name:`, are keyed by position.
        #expect(branches[5].property("tag")?.properties?.map(\.name) == ["_0", "count", "_2"])
        #expect(branches[0].description == "Deposit money.")
        #expect(branches[0].required == ["deposit"])
        #expect(branches[0].property("deposit")?.required == ["amount"])
        #expect(branches[1].property("withdraw")?.properties?.map(\.name) == ["_0", "to"])
        #expect(branches[2].property("close")?.json == ["type": "object", "properties": [:], "additionalProperties": false])
        #expect(Command.jsonSchema.description == "A command on an account.")
        try expectAgreement(
            Command.self, valid: true,
            [#"{"close":{}}"#, #"{"deposit":{"amount":1,"memo":null}}"#, #"{"annotate":{}}"#, #"{"withdraw":{"_0":2,"to":""}}"#])
        try expectAgreement(
            Command.self, valid: false,
            [
                #"{"deposit":{}}"#, #"{"deposit":{"amount":"1"}}"#, #"{"withdraw":{"to":""}}"#, #"{"open":{}}"#,
                #"{"close":{},"deposit":{"amount":1}}"#, #"{}"#, #""close""#,
                #"{"transfer":{"to":{"street":"s","zip":"z"},"amounts":[],"currency":"eur"}}"#,
            ])
    }

    @Test func renamedEnumKeys() throws {
        try expectEncodedValuesValidate([RenamedCommand.deposit(amount: 1), .freeze, .default(.urgent)])
        let branches = try #require(RenamedCommand.jsonSchema.oneOf)
        #expect(branches.map(\.title) == ["Deposit", "FREEZE", "default"])
        #expect(branches[0].property("Deposit")?.properties?.map(\.name) == ["amt"])
        try expectAgreement(RenamedCommand.self, valid: true, [#"{"Deposit":{"amt":1}}"#, #"{"FREEZE":{}}"#, #"{"default":{"_0":10}}"#])
        try expectAgreement(
            RenamedCommand.self, valid: false,
            [#"{"deposit":{"amount":1}}"#, #"{"Deposit":{"amount":1}}"#, #"{"freeze":{}}"#, #"{"default":{"_0":3}}"#])
    }

    @Test func nestedShapes() throws {
        let envelope = Envelope(
            commands: Self.commands, byName: ["a": .freeze, "b": .deposit(amount: 2)], currency: .eur,
            priorities: [.low, .urgent], people: [Person(firstName: "A", lastName: nil)])
        try expectEncodedValuesValidate([envelope, Envelope(commands: [], byName: [:], currency: nil, priorities: [], people: nil)])
        let bad = try JSONValue.parse(
            #"{"commands":[{"close":{}},{"deposit":{"amount":"x"}}],"byName":{"k":{"FREEZE":1}},"priorities":[0,0],"currency":"usd"}"#)
        #expect(!decoderAccepts(Envelope.self, bad))
        let pointers = Envelope.jsonSchema.validate(bad).map(\.pointer)
        // Every violation is reported, each at its own location.
        #expect(pointers == ["/byName/k/FREEZE", "/commands/1/deposit/amount", "/priorities"])
    }

    @Test func nestedTypesAndFoundationValues() throws {
        try expectEncodedValuesValidate([
            Ledger(status: .open, amount: Decimal(string: "12.345")!, blob: Data([0, 255]), entries: [["a": [1, nil]], [:]])
        ])
        #expect(Ledger.jsonSchema.property("status")?.enumValues == ["open", "closed"])
        #expect(Ledger.jsonSchema.property("blob")?.json == ["type": "string", "contentEncoding": "base64"])
        try expectAgreement(Ledger.self, valid: false, [#"{"status":"shut","amount":1,"blob":"","entries":[]}"#])
    }

    @Test func emptyStruct() throws {
        try expectEncodedValuesValidate([Empty()])
        #expect(Empty.jsonSchema.json == ["type": "object", "properties": [:], "additionalProperties": false])
    }

    @Test func renderingIsStable() {
        #expect(Ledger.jsonSchema.json.serialized(sortedKeys: true) == Ledger.jsonSchema.json.serialized(sortedKeys: true))
        for schema in DifferentialTests.derivedSchemas.map(\.1) {
            let first = schema.json.serialized(sortedKeys: true)
            #expect(first == schema.json.serialized(sortedKeys: true))
            #expect(JSONSchema(json: schema.json)?.json == schema.json)
        }
    }
}

@Suite("Doc comments of enum cases")
struct CaseDocumentationTests {
    @Test func parameterNotesDescribeAssociatedValues() throws {
        let branches = try #require(DocumentedCommand.jsonSchema.oneOf)
        #expect(branches[0].description == "Pays money in.")
        let deposit = try #require(branches[0].property("deposit"))
        #expect(deposit.property("amount")?.description == "A positive number of cents.")
        #expect(deposit.property("memo")?.description == "Shown on the statement; at most one line.")
        #expect(branches[1].description == "Moves money.")
        let transfer = try #require(branches[1].property("transfer"))
        #expect(transfer.property("to")?.description == "The destination account.")
        #expect(transfer.property("_0")?.description == "The amount in cents.")
    }
}
