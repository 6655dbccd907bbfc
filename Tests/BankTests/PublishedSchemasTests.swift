@testable import Bank
import CQRS
import CQRSCatalog
import CQRSHTTP
import CQRSSchema
import Foundation
import Testing

/// The schemas published under `schemas/`: the shared contract and the bank example, all derived
/// from the Swift declarations. Regenerate with `scripts/regenerate-schemas`.
enum PublishedSchemas {
    static let all: [PublishedSchema] = PublishedSchema.contract + BankApp.publishedSchemas

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("schemas")
}

@Suite("Published schemas")
struct PublishedSchemasTests {
    @Test func schemasFolderMatchesTheCode() throws {
        let regenerate = ProcessInfo.processInfo.environment["CQRS_REGENERATE_SCHEMAS"] == "1"
        var drifted: [String] = []
        var files = PublishedSchemas.all.map { (path: $0.path, text: $0.text) }
        files.append((path: "index.json", text: PublishedSchema.index(PublishedSchemas.all)))
        for file in files {
            let url = PublishedSchemas.root.appendingPathComponent(file.path)
            if regenerate {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try file.text.write(to: url, atomically: true, encoding: .utf8)
            } else if (try? String(contentsOf: url, encoding: .utf8)) != file.text {
                drifted.append(file.path)
            }
        }
        let ids = PublishedSchemas.all.map(\.id)
        #expect(Set(ids).count == ids.count, "every $id is unique: \(ids)")
        #expect(drifted.isEmpty, "schemas/ drifted from the code (run scripts/regenerate-schemas): \(drifted)")
    }

    /// `schemas/bank/openapi.json` is what `bank openapi` prints and `bank serve` publishes.
    @Test func openAPIDocumentMatchesTheCode() throws {
        let catalog = try BankApp(store: InMemoryEventStore(), storages: .inMemory()).catalog
        let text = PublishedJSON.text(
            OpenAPIDocument.make(
                catalog: catalog,
                info: .init(title: BankApp.title, version: BankApp.version, description: BankApp.instructions)))
        let url = PublishedSchemas.root.appendingPathComponent("bank/openapi.json")
        if ProcessInfo.processInfo.environment["CQRS_REGENERATE_SCHEMAS"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect((try? String(contentsOf: url, encoding: .utf8)) == text, "schemas/bank/openapi.json drifted (run scripts/regenerate-schemas)")
    }

    @Test func everySampleValidatesAgainstItsSchema() throws {
        let at = Date(timeIntervalSince1970: 1_790_000_000.25)
        let samples: [(JSONSchema, JSONValue)] = try [
            (Account.jsonSchema, CQRSJSON.value(of: Account(id: "a1"))),
            (AccountEvent.jsonSchema, CQRSJSON.value(of: AccountEvent.opened(owner: "Ada"))),
            (AccountEvent.jsonSchema, CQRSJSON.value(of: AccountEvent.deposited(amount: 5))),
            (AccountEvent.jsonSchema, CQRSJSON.value(of: AccountEvent.closed)),
            (OpenAccount.jsonSchema, CQRSJSON.value(of: OpenAccount.open(owner: "Ada"))),
            (AccountCommand.jsonSchema, CQRSJSON.value(of: AccountCommand.withdraw(amount: 3))),
            (AccountCommand.jsonSchema, CQRSJSON.value(of: AccountCommand.close)),
            (Movement.jsonSchema, CQRSJSON.value(of: Movement(id: "m", accountId: "a", kind: .deposit, amount: 1, version: 2, occurredAt: at))),
            (AccountSummary.jsonSchema, CQRSJSON.value(of: AccountSummary(id: "a", owner: "A", balance: 1, status: .open, movementCount: 1, updatedAt: at))),
            (AggregateState<Account>.jsonSchema, CQRSJSON.value(of: AggregateState(id: "a", version: 1, state: Account(id: "a")))),
            (CqrsError.jsonSchema, CQRSJSON.value(of: AccountError.insufficientFunds.error("x", details: ["a": 1]).with(requestId: "r"))),
            (ProblemDetails.jsonSchema, CQRSJSON.value(of: AccountError.accountClosed.error("x").problemDetails())),
            (EventEnvelope<JSONValue>.jsonSchema, CQRSJSON.value(of: EventEnvelope<JSONValue>(
                eventId: UUID(), aggregateType: "account", aggregateId: "a", version: 1, globalPosition: 9,
                eventType: "opened", payload: ["opened": ["owner": "A"]], metadata: ["userId": "u"], occurredAt: at))),
            (UserRightEvent.jsonSchema, CQRSJSON.value(of: UserRightEvent.granted(userId: "u", rightId: "r"))),
            (GrantRight.jsonSchema, CQRSJSON.value(of: GrantRight.grant(userId: "u", rightId: "r"))),
        ]
        for (schema, value) in samples {
            #expect(schema.validate(value).isEmpty, "\(value) against \(schema.json)")
        }
    }

    @Test func whatTheDecoderRejectsTheSchemaRejects() throws {
        // Codable ignores unknown members; our schemas reject them on purpose (typos must not pass).
        let rejected: [(JSONSchema, JSONValue, String)] = [
            (AccountCommand.jsonSchema, ["deposit": ["amount": "5"]], "/deposit/amount"),
            (AccountCommand.jsonSchema, ["deposit": [:]], "/deposit"),
            (AccountCommand.jsonSchema, ["transfer": ["amount": 5]], ""),
            (AccountCommand.jsonSchema, ["deposit": ["amount": 5], "close": [:]], ""),
            (AccountCommand.jsonSchema, ["deposit": ["amount": 5, "note": "x"]], "/deposit"),
            (OpenAccount.jsonSchema, ["open": ["owner": "A", "extra": 1]], "/open"),
            (Movement.jsonSchema, ["id": "m"], ""),
        ]
        for (schema, value, pointer) in rejected {
            let violations = schema.validate(value)
            #expect(!violations.isEmpty, "\(value) should be rejected")
            #expect(violations.contains { $0.pointer.hasPrefix(pointer) }, "\(violations)")
            let data = try JSONEncoder().encode(value)
            if schema == AccountCommand.jsonSchema, value["deposit"]?["note"] == nil {
                #expect(throws: (any Error).self) { try JSONDecoder().decode(AccountCommand.self, from: data) }
            }
        }
    }
}

@Suite("Published schemas against Python jsonschema")
struct PublishedSchemasPythonTests {
    @Test func everyPublishedFileIsAValid202012Schema() throws {
        let script = """
            import json, pathlib, sys
            from jsonschema import Draft202012Validator
            files = sorted(pathlib.Path(sys.argv[1]).rglob("*.schema.json"))
            for f in files:
                Draft202012Validator.check_schema(json.loads(f.read_text()))
            print(len(files))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, PublishedSchemas.root.path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)) == PublishedSchemas.all.count)
    }
}
