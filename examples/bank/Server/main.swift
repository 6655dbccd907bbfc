// The bank: `swift run bank serve` (HTTP: /mcp, REST, /openapi.json, /docs), `swift run bank mcp`
// (stdio), `swift run bank openapi`, `swift run bank --help`.
import Bank
import CQRS
import CQRSRuntime

await ServerProgram.run(
    .init(
        name: "bank", version: BankApp.version, title: BankApp.title, instructions: BankApp.instructions,
        defaultStore: "sqlite:bank.sqlite")
) { backend, options in
    try BankApp(
        store: backend.eventStore,
        storages: .init(
            accountStates: backend.readStorage(AggregateState<Account>.self),
            userRightStates: backend.readStorage(AggregateState<UserRight>.self),
            movements: backend.readStorage(Movement.self), summaries: backend.readStorage(AccountSummary.self)),
        options: options, projectorOptions: backend.projectorOptions
    ).catalog
}
