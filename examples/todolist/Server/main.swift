// To-do lists served to agents: `swift run todolist mcp --store postgres://…` (stdio) or
// `swift run todolist serve --store postgres://…` (HTTP: /mcp, REST, /openapi.json, /docs).
import CQRS
import CQRSRuntime
import TodoList

await ServerProgram.run(
    .init(
        name: "todolist", version: TodoListApp.version, title: TodoListApp.title, instructions: TodoListApp.instructions,
        defaultStore: "sqlite:todolist.sqlite")
) { backend, options in
    try TodoListApp(
        store: backend.eventStore, states: backend.readStorage(AggregateState<TodoList>.self),
        items: backend.readStorage(TodoItem.self), options: options, projectorOptions: backend.projectorOptions
    ).catalog
}
