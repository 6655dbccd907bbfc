// To-do lists served to agents: `swift run todolist mcp --store postgres://…` (stdio) or
// `swift run todolist serve --store postgres://…` (HTTP).
import CQRS
import CQRSRuntime
import TodoList

await ServerProgram.run(
    .init(
        name: "todolist", version: "0.1.0", title: "To-do lists",
        instructions: """
            To-do lists as event-sourced aggregates. Create a list with todolist_create, then add, complete, \
            reopen, rename or remove items by the list id and the item id (todo_item_list shows a list's items). \
            Archiving is final. Pass expectedVersion to guard against concurrent changes and idempotencyKey to \
            make retries safe.
            """,
        defaultStore: "sqlite:todolist.sqlite")
) { backend, options in
    try TodoListApp(
        store: backend.eventStore, states: backend.readStorage(AggregateState<TodoList>.self),
        items: backend.readStorage(TodoItem.self), options: options
    ).catalog
}
