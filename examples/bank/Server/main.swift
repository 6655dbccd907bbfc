// The bank served to agents: `swift run bank mcp` (stdio) or `swift run bank serve` (HTTP).
import Bank
import CQRS
import CQRSRuntime

await ServerProgram.run(
    .init(
        name: "bank", version: "0.1.0", title: "Bank",
        instructions: """
            Bank accounts as event-sourced aggregates. Amounts are integers in cents. Open an account with \
            account_open, then deposit, withdraw or close it by id. Pass expectedVersion to guard against \
            concurrent changes and idempotencyKey to make retries safe. Errors come back as tool results \
            with a code (e.g. ACCOUNT_INSUFFICIENT_FUNDS) and a message.
            """,
        defaultStore: "sqlite:bank.sqlite")
) { backend, options in
    try BankApp(
        store: backend.eventStore,
        storages: .init(
            accountStates: backend.readStorage(AggregateState<Account>.self),
            userRightStates: backend.readStorage(AggregateState<UserRight>.self),
            movements: backend.readStorage(Movement.self), summaries: backend.readStorage(AccountSummary.self)),
        options: options
    ).catalog
}
