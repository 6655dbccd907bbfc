import CQRS
import CQRSCatalog
import CQRSSchema

/// The to-do lists wired together: the engine, the projector of its item view and latest states, and
/// the operation catalog, over any event store and read storages.
public struct TodoListApp: Sendable {
    /// The list engine.
    public let lists: CommandEngine<TodoList>
    /// The operations every front end renders (MCP tools, REST routes).
    public let catalog: OperationCatalog
    /// Keeps the item view and the latest states from the global log.
    public let projector: Projector

    /// The server's title (MCP handshake, OpenAPI info).
    public static let title = "To-do lists"
    /// The server's version.
    public static let version = "0.1.0"
    /// What the server offers and how to use it, for models and people.
    public static let instructions = """
        To-do lists as event-sourced aggregates. Create a list with todolist_create, then add, complete, \
        reopen, rename or remove items by the list id and the item id (todo_item_list shows a list's items). \
        Archiving is final. Pass expectedVersion (REST: If-Match) to guard against concurrent changes and \
        idempotencyKey (REST: Idempotency-Key) to make retries safe. Lists follow commits: to read your own \
        write for sure, pass the command result's globalPosition as minPosition.
        """

    /// Wires the app over a store and its storages.
    public init(
        store: any EventStore, states: any ReadStorage<AggregateState<TodoList>>, items: any ReadStorage<TodoItem>,
        options: OperationCatalog.Options = .init(), projectorOptions: Projector.Options = .init()
    ) throws {
        projector = Projector(
            store: store,
            projections: [
                RegisteredProjection(LatestStateProjection<TodoList>(), storage: states),
                RegisteredProjection(ViewProjection<TodoItem>(), storage: items),
            ], options: projectorOptions)
        lists = CommandEngine<TodoList>(store: store, services: (), dispatchers: [projector.dispatcher(for: TodoList.self)])
        var catalog = OperationCatalog(options: options, projector: projector)
        try catalog.register(lists, states: states)
        try catalog.register(view: TodoItem.self, storage: items)
        self.catalog = catalog
    }
}
