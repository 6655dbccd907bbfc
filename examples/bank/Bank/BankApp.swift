import CQRS
import CQRSMCP
import CQRSSchema

/// The bank wired together: engines, views and the MCP tool catalog, over any event store and
/// read storages (in memory, SQLite, PostgreSQL…).
public struct BankApp: Sendable {
    /// The account engine (with the movement, summary and latest-state dispatchers).
    public let accounts: CommandEngine<Account>
    /// The user-right engine.
    public let userRights: CommandEngine<UserRight>
    /// The generated MCP catalog.
    public let catalog: ToolCatalog

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
    public init(store: any EventStore, storages: Storages, options: ToolCatalog.Options = .init()) throws {
        accounts = CommandEngine<Account>(
            store: store, services: (),
            dispatchers: [
                LatestStateProjection(store: store, storage: storages.accountStates),
                ViewDispatcher(storage: storages.movements),
                ViewDispatcher(storage: storages.summaries),
            ])
        userRights = CommandEngine<UserRight>(
            store: store, services: (), idGenerator: UserRight.idGenerator,
            dispatchers: [LatestStateProjection(store: store, storage: storages.userRightStates)])
        var catalog = ToolCatalog(options: options)
        try catalog.register(accounts, states: storages.accountStates)
        try catalog.register(view: Movement.self, storage: storages.movements)
        try catalog.register(view: AccountSummary.self, storage: storages.summaries)
        try catalog.register(userRights, states: storages.userRightStates)
        self.catalog = catalog
    }
}
