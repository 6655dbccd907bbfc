import CQRS
import CQRSCatalog
import CQRSSchema

/// The bank wired together: engines, views and the operation catalog, over any event store and
/// read storages (in memory, SQLite, PostgreSQL…).
public struct BankApp: Sendable {
    /// The account engine (a command returns once the projections have applied it, up to 2 s).
    public let accounts: CommandEngine<Account>
    /// The user-right engine.
    public let userRights: CommandEngine<UserRight>
    /// The operations every front end renders (MCP tools, REST routes).
    public let catalog: OperationCatalog
    /// Keeps the movement and summary views and the latest states from the global log.
    public let projector: Projector

    /// The server's title, version and instructions (MCP handshake, OpenAPI info).
    public static let title = "Bank"
    /// The server's version.
    public static let version = "0.1.0"
    /// What the server offers and how to use it, for models and people.
    public static let instructions = """
        Bank accounts as event-sourced aggregates. Amounts are integers in cents. Open an account with \
        account_open, then deposit, withdraw or close it by id. Pass expectedVersion (REST: If-Match) to guard \
        against concurrent changes and idempotencyKey (REST: Idempotency-Key) to make retries safe. Errors \
        carry a code (e.g. ACCOUNT_INSUFFICIENT_FUNDS) and a message. Lists and views follow commits: to read \
        your own write for sure, pass the command result's globalPosition as minPosition.
        """

    /// Read storages the app needs, one per model type.
    public struct Storages: Sendable {
        public var accountStates: any ReadStorage<AggregateState<Account>>
        public var userRightStates: any ReadStorage<AggregateState<UserRight>>
        public var movements: any ReadStorage<Movement>
        public var summaries: any ReadStorage<AccountSummary>

        /// Storages from the four given.
        public init(
            accountStates: any ReadStorage<AggregateState<Account>>,
            userRightStates: any ReadStorage<AggregateState<UserRight>>, movements: any ReadStorage<Movement>,
            summaries: any ReadStorage<AccountSummary>
        ) {
            self.accountStates = accountStates
            self.userRightStates = userRightStates
            self.movements = movements
            self.summaries = summaries
        }

        /// In-memory storages.
        public static func inMemory() -> Storages {
            Storages(
                accountStates: InMemoryReadStorage(), userRightStates: InMemoryReadStorage(),
                movements: InMemoryReadStorage(), summaries: InMemoryReadStorage())
        }
    }

    /// Wires the bank over a store and storages.
    public init(
        store: any EventStore, storages: Storages, options: OperationCatalog.Options = .init(),
        projectorOptions: Projector.Options = .init()
    ) throws {
        projector = Projector(
            store: store,
            projections: [
                RegisteredProjection(LatestStateProjection<Account>(), storage: storages.accountStates),
                RegisteredProjection(ViewProjection<Movement>(), storage: storages.movements),
                RegisteredProjection(ViewProjection<AccountSummary>(), storage: storages.summaries),
                RegisteredProjection(LatestStateProjection<UserRight>(), storage: storages.userRightStates),
            ], options: projectorOptions)
        accounts = CommandEngine<Account>(store: store, services: (), dispatchers: [projector.dispatcher(for: Account.self)])
        userRights = CommandEngine<UserRight>(
            store: store, services: (), idGenerator: UserRight.idGenerator,
            dispatchers: [projector.dispatcher(for: UserRight.self)])
        var catalog = OperationCatalog(options: options, projector: projector)
        try catalog.register(accounts, states: storages.accountStates)
        try catalog.register(view: Movement.self, storage: storages.movements)
        try catalog.register(view: AccountSummary.self, storage: storages.summaries)
        try catalog.register(userRights, states: storages.userRightStates)
        catalog.publishedSchemas += Self.publishedSchemas
        self.catalog = catalog
    }

    /// The bank's schemas under `schemas/bank/` (and MCP resources `cqrs://schemas/bank/…`).
    public static let publishedSchemas: [PublishedSchema] = [
        PublishedSchema(path: "bank/account.state.schema.json", title: "Account", describes: "The state of an account.", schema: Account.jsonSchema),
        PublishedSchema(path: "bank/account.events.schema.json", title: "AccountEvent", describes: "The events of an account.", schema: AccountEvent.jsonSchema),
        PublishedSchema(
            path: "bank/account.create-commands.schema.json", title: "OpenAccount", describes: "The commands that open an account.",
            schema: OpenAccount.jsonSchema),
        PublishedSchema(
            path: "bank/account.update-commands.schema.json", title: "AccountCommand", describes: "The commands on an open account.",
            schema: AccountCommand.jsonSchema),
        PublishedSchema(
            path: "bank/account.latest-state.schema.json", title: "AggregateState<Account>",
            describes: "An account's latest state with its id and version, as account_list returns it.", schema: AggregateState<Account>.jsonSchema),
        PublishedSchema(path: "bank/movement.view.schema.json", title: "Movement", describes: "One money movement of an account (a child view).", schema: Movement.jsonSchema),
        PublishedSchema(
            path: "bank/account-summary.view.schema.json", title: "AccountSummary", describes: "One line per account: owner, balance and activity.",
            schema: AccountSummary.jsonSchema),
        PublishedSchema(path: "bank/user-right.state.schema.json", title: "UserRight", describes: "The state of a user's right.", schema: UserRight.jsonSchema),
        PublishedSchema(path: "bank/user-right.events.schema.json", title: "UserRightEvent", describes: "The events of a user right.", schema: UserRightEvent.jsonSchema),
        PublishedSchema(
            path: "bank/user-right.create-commands.schema.json", title: "GrantRight", describes: "The command that grants a right.",
            schema: GrantRight.jsonSchema),
        PublishedSchema(
            path: "bank/user-right.update-commands.schema.json", title: "UserRightCommand", describes: "The commands on a granted right.",
            schema: UserRightCommand.jsonSchema),
    ]
}
