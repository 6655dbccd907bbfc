import CQRS
import CQRSMCP
import CQRSSchema

/// The to-do lists wired together: the engine with its item view and latest-state projection, and
/// the generated MCP catalog, over any event store and read storages.
public struct TodoListApp: Sendable {
    /// The list engine.
    public let lists: CommandEngine<TodoList>
    /// The generated MCP catalog.
    public let catalog: ToolCatalog

    /// Wires the app over a store and its storages.
    public init(
        store: any EventStore, states: any ReadStorage<AggregateState<TodoList>>, items: any ReadStorage<TodoItem>,
        options: ToolCatalog.Options = .init()
    ) throws {
        lists = CommandEngine<TodoList>(
            store: store, services: (),
            dispatchers: [LatestStateProjection(store: store, storage: states), ViewDispatcher(storage: items)])
        var catalog = ToolCatalog(options: options)
        try catalog.register(lists, states: states)
        try catalog.register(view: TodoItem.self, storage: items)
        self.catalog = catalog
    }
}
