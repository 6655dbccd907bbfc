import CQRS
import CQRSCatalog
import CQRSHTTP
import CQRSPostgres
import CQRSTesting
import Foundation
import PostgresTestSupport
import Testing
import TodoList

/// `schemas/todolist/openapi.json` is what `todolist openapi` prints and `todolist serve` publishes.
@Test func todoListOpenAPIDocumentMatchesTheCode() throws {
    let catalog = try TodoListApp(store: InMemoryEventStore(), states: InMemoryReadStorage(), items: InMemoryReadStorage()).catalog
    let text = PublishedJSON.text(
        OpenAPIDocument.make(
            catalog: catalog,
            info: .init(title: TodoListApp.title, version: TodoListApp.version, description: TodoListApp.instructions)))
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("schemas/todolist/openapi.json")
    if ProcessInfo.processInfo.environment["CQRS_REGENERATE_SCHEMAS"] == "1" {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    #expect((try? String(contentsOf: url, encoding: .utf8)) == text, "schemas/todolist/openapi.json drifted (run scripts/regenerate-schemas)")
}

@Suite("TodoList domain")
struct TodoListDomainTests {
    let fixture = AggregateFixture<TodoList>(services: ())
    let created: [TodoEvent] = [.created(title: "Groceries"), .itemAdded(itemId: "i1", text: "milk")]

    @Test func createTrimsAndValidatesTheTitle() async throws {
        try await fixture.whenCreate(.create(title: "  Groceries ")).thenExpect([.created(title: "Groceries")])
        let error = try await fixture.whenCreate(.create(title: "   ")).thenExpectError("TODOLIST_INVALID_TITLE")
        #expect(error.internalCode == 20003 && error.status == 400)
        try await fixture.whenCreate(.create(title: String(repeating: "x", count: 201))).thenExpectError("TODOLIST_INVALID_TITLE")
    }

    @Test func itemLifecycle() async throws {
        try await fixture.given(created).when(.completeItem(itemId: "i1")).thenExpect([.itemCompleted(itemId: "i1")])
        let done = fixture.given(created + [.itemCompleted(itemId: "i1")])
        let error = try await done.when(.completeItem(itemId: "i1")).thenExpectError("TODOLIST_ITEM_ALREADY_COMPLETED")
        #expect(error.status == 409 && error.details?["itemId"] == "i1")
        try await done.when(.reopenItem(itemId: "i1")).thenExpect([.itemReopened(itemId: "i1")])
        try await fixture.given(created).when(.reopenItem(itemId: "i1")).thenExpectError("TODOLIST_ITEM_NOT_COMPLETED")
        try await fixture.given(created).when(.renameItem(itemId: "i1", text: " oat milk ")).thenExpect([.itemRenamed(itemId: "i1", text: "oat milk")])
        try await fixture.given(created).when(.renameItem(itemId: "i1", text: "milk")).thenExpect([])
        try await fixture.given(created).when(.renameItem(itemId: "i1", text: "")).thenExpectError("TODOLIST_INVALID_TEXT")
        try await fixture.given(created).when(.removeItem(itemId: "i1")).thenExpect([.itemRemoved(itemId: "i1")])
        try await fixture.given(created + [.itemRemoved(itemId: "i1")]).when(.completeItem(itemId: "i1")).thenExpectError("TODOLIST_ITEM_NOT_FOUND")
    }

    @Test func addItemTakesItsIdFromTheContext() async throws {
        let context = CommandContext(currentUser: "t", requestId: "r", ids: .sequential())
        let outcome = await AggregateFixture<TodoList>(services: (), context: context).given(created).when(.addItem(text: "eggs"))
        let events = try outcome.result.get()
        guard case .itemAdded(let itemId, let text) = events.first else {
            Issue.record("expected itemAdded, got \(events)")
            return
        }
        #expect(text == "eggs" && UUID(uuidString: itemId) != nil)
    }

    @Test func archivedListsRefuseEverything() async throws {
        let archived = fixture.given(created + [.archived])
        for command in [TodoCommand.addItem(text: "x"), .completeItem(itemId: "i1"), .removeItem(itemId: "i1"), .archive] {
            let error = try await archived.when(command).thenExpectError("TODOLIST_LIST_ARCHIVED")
            #expect(error.internalCode == 20002)
        }
    }

    @Test func errorCodesAreUnique() {
        #expect(internalCodeCollisions([InfrastructureError.self, GenericError.self, TodoError.self]).isEmpty)
    }
}

@Suite("TodoList on PostgreSQL")
struct TodoListPostgresTests {
    @Test func endToEnd() async throws {
        try await PostgresTestEnvironment.withServer {
            let schema = try await PostgresTestEnvironment.freshSchema()
            let store = PostgresEventStore(schema: schema)
            let items = PostgresReadStorage<TodoItem>(schema: schema)
            let lists = PostgresReadStorage<AggregateState<TodoList>>(schema: schema)
            let projector = Projector(
                store: store,
                projections: [
                    RegisteredProjection(ViewProjection<TodoItem>(), storage: items),
                    RegisteredProjection(LatestStateProjection<TodoList>(), storage: lists),
                ])
            defer { projector.stop() }
            let engine = CommandEngine<TodoList>(
                store: store, services: (), snapshotPolicy: .every(3), dispatchers: [projector.dispatcher(for: TodoList.self)])
            let listId = try await engine.create(.create(title: "Groceries")).aggregateId
            var itemIds: [String] = []
            for text in ["milk", "eggs", "bread", "apples"] {
                let result = try await engine.update(id: listId, .addItem(text: text))
                guard case .itemAdded(let itemId, _) = result.events.first?.payload else {
                    Issue.record("no item added")
                    return
                }
                itemIds.append(itemId)
            }
            _ = try await engine.update(id: listId, .completeItem(itemId: itemIds[1]))
            _ = try await engine.update(id: listId, .renameItem(itemId: itemIds[2], text: "rye bread"))
            _ = try await engine.update(id: listId, .removeItem(itemId: itemIds[3]))
            let again = await #expect(throws: CqrsError.self) { try await engine.update(id: listId, .completeItem(itemId: itemIds[1])) }
            #expect(again?.code == "TODOLIST_ITEM_ALREADY_COMPLETED" && again?.status == 409)

            let loaded = try await engine.load(id: listId)
            #expect(loaded?.version == 8 && loaded?.state.items.map(\.text) == ["milk", "eggs", "rye bread"])
            let page = try await items.query(ReadQuery(sort: [SortKey("position")]), parentId: listId)
            #expect(page.items.map(\.text) == ["milk", "eggs", "rye bread"] && page.total == 3)
            let open = try await items.query(ReadQuery(filter: .compare(field: "completed", op: .eq, value: false), sort: [SortKey("text")]), parentId: listId)
            #expect(open.items.map(\.text) == ["milk", "rye bread"])
            let state = try await lists.find(id: listId, parentId: nil)
            #expect(state?.version == 8 && state?.state.title == "Groceries")

            _ = try await engine.update(id: listId, .archive)
            let refused = await #expect(throws: CqrsError.self) { try await engine.update(id: listId, .addItem(text: "more")) }
            #expect(refused?.code == "TODOLIST_LIST_ARCHIVED")
            let log = try await store.readAll(after: 0, limit: 100)
            #expect(log.map(\.version) == Array(1...9) && log.map(\.eventType).last == "archived")
            let audit = try await engine.auditLog(id: listId, offset: 0, limit: 5)
            #expect(audit.total == 9 && audit.events.map(\.version) == [1, 2, 3, 4, 5])
        }
    }
}
