import CQRS
import CQRSSchema
import Foundation

/// A to-do list: a title and items that can be added, completed, reopened, renamed and removed,
/// until the list is archived.
@Schema
public struct TodoList: CommandHandler, Equatable {
    public static let aggregateType = "todolist"
    public static var sortableStateFields: [String] { ["title", "archived"] }
    public static var destructiveCommands: Set<String> { ["removeItem", "archive"] }
    public static var errorCodes: [any DomainErrorCode] { TodoError.allCases }

    /// The list id.
    public var id: String
    /// The list's title.
    public var title: String
    /// The items, in the order they were added.
    public var items: [Item]
    /// Whether the list is archived (read-only).
    public var archived: Bool

    /// One item of a list.
    @Schema
    public struct Item: Codable, Sendable, Equatable {
        /// The item id (unique in its list).
        public var id: String
        /// What to do.
        public var text: String
        /// Whether it is done.
        public var completed: Bool
    }

    /// The longest title or item text accepted.
    public static let maximumLength = 200

    public init(id: String) {
        self.id = id
        title = ""
        items = []
        archived = false
    }

    public mutating func apply(_ event: TodoEvent) throws {
        switch event {
        case .created(let title): self.title = title
        case .itemAdded(let itemId, let text): items.append(Item(id: itemId, text: text, completed: false))
        case .itemCompleted(let itemId): update(itemId) { $0.completed = true }
        case .itemReopened(let itemId): update(itemId) { $0.completed = false }
        case .itemRenamed(let itemId, let text): update(itemId) { $0.text = text }
        case .itemRemoved(let itemId): items.removeAll { $0.id == itemId }
        case .archived: archived = true
        }
    }

    private mutating func update(_ itemId: String, _ change: (inout Item) -> Void) {
        if let index = items.firstIndex(where: { $0.id == itemId }) { change(&items[index]) }
    }

    public func handleCreate(_ command: CreateTodoList, services: Void, context: CommandContext) async throws -> [TodoEvent] {
        switch command {
        case .create(let title): [.created(title: try Self.valid(title, TodoError.invalidTitle))]
        }
    }

    public func handleUpdate(_ command: TodoCommand, services: Void, context: CommandContext) async throws -> [TodoEvent] {
        guard !archived else { throw TodoError.listArchived.error("The list \(id) is archived") }
        switch command {
        case .addItem(let text):
            let itemId = context.ids.next().uuidString.lowercased()
            return [.itemAdded(itemId: itemId, text: try Self.valid(text, TodoError.invalidText))]
        case .completeItem(let itemId):
            guard try item(itemId).completed == false else {
                throw TodoError.itemAlreadyCompleted.error("Item \(itemId) is already completed", details: ["itemId": .string(itemId)])
            }
            return [.itemCompleted(itemId: itemId)]
        case .reopenItem(let itemId):
            guard try item(itemId).completed else {
                throw TodoError.itemNotCompleted.error("Item \(itemId) is not completed", details: ["itemId": .string(itemId)])
            }
            return [.itemReopened(itemId: itemId)]
        case .renameItem(let itemId, let text):
            let current = try item(itemId)
            let text = try Self.valid(text, TodoError.invalidText)
            return current.text == text ? [] : [.itemRenamed(itemId: itemId, text: text)]
        case .removeItem(let itemId):
            _ = try item(itemId)
            return [.itemRemoved(itemId: itemId)]
        case .archive:
            return [.archived]
        }
    }

    private func item(_ itemId: String) throws -> Item {
        guard let item = items.first(where: { $0.id == itemId }) else {
            throw TodoError.itemNotFound.error("No item \(itemId) in list \(id)", details: ["itemId": .string(itemId)])
        }
        return item
    }

    private static func valid(_ text: String, _ error: TodoError) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximumLength else {
            throw error.error("The text must have 1 to \(maximumLength) characters", details: ["length": .int(trimmed.count)])
        }
        return trimmed
    }
}

/// What happened to a list.
@Schema
@EventTypes(naming: .snakeCase)
public enum TodoEvent: DomainEvent {
    /// The list was created with a title.
    case created(title: String)
    /// An item was added.
    case itemAdded(itemId: String, text: String)
    /// An item was marked done.
    case itemCompleted(itemId: String)
    /// A done item was marked not done.
    case itemReopened(itemId: String)
    /// An item's text changed.
    case itemRenamed(itemId: String, text: String)
    /// An item was removed.
    case itemRemoved(itemId: String)
    /// The list was archived.
    case archived
}

/// Creates a list.
@Schema
public enum CreateTodoList: Codable, Sendable, Equatable {
    /// Creates a list.
    /// - Parameter title: 1 to 200 characters after trimming.
    case create(title: String)
}

/// Changes a list.
@Schema
public enum TodoCommand: Codable, Sendable, Equatable {
    /// Adds an item; the new item's id is in the list's state and in the todo_item views.
    /// - Parameter text: What to do, 1 to 200 characters after trimming.
    case addItem(text: String)
    /// Marks an item done.
    /// - Parameter itemId: The item's id.
    case completeItem(itemId: String)
    /// Marks a done item not done.
    /// - Parameter itemId: The item's id.
    case reopenItem(itemId: String)
    /// Changes an item's text (no event when the text is unchanged).
    /// - Parameters:
    ///   - itemId: The item's id.
    ///   - text: The new text, 1 to 200 characters after trimming.
    case renameItem(itemId: String, text: String)
    /// Removes an item for good.
    /// - Parameter itemId: The item's id.
    case removeItem(itemId: String)
    /// Archives the list: no change is accepted afterwards.
    case archive
}

/// The to-do domain's error codes (prefix 20).
@DomainErrors(domain: "todolist", prefix: 20)
public enum TodoError {
    @ErrorCode(1, .notFound)
    case itemNotFound
    @ErrorCode(2, .conflict)
    case listArchived
    @ErrorCode(3, .badRequest)
    case invalidTitle
    @ErrorCode(4, .conflict)
    case itemAlreadyCompleted
    @ErrorCode(5, .conflict)
    case itemNotCompleted
    @ErrorCode(6, .badRequest)
    case invalidText
}

/// One item, listed under its list (a child view).
@Schema
public struct TodoItem: View, Equatable {
    public typealias Source = TodoList
    public static let modelType = "todo_item"
    public static let isChild = true
    public static var sortableFields: Set<String> { ["text", "completed", "position", "updatedAt"] }

    /// The item id.
    public var id: String
    /// The list the item belongs to.
    public var listId: String
    /// What to do.
    public var text: String
    /// Whether it is done.
    public var completed: Bool
    /// The list version that added the item (orders items by creation).
    public var position: Int
    /// When the item last changed.
    public var updatedAt: Date

    public var parentId: String? { listId }

    public static func key(for event: EventEnvelope<TodoEvent>) -> ViewKey? {
        switch event.payload {
        case .itemAdded(let itemId, _), .itemCompleted(let itemId), .itemReopened(let itemId),
            .itemRenamed(let itemId, _), .itemRemoved(let itemId):
            ViewKey(id: itemId, parentId: event.aggregateId)
        case .created, .archived: nil
        }
    }

    public static func project(_ current: TodoItem?, _ event: EventEnvelope<TodoEvent>) -> ViewChange<TodoItem> {
        if case .itemAdded(let itemId, let text) = event.payload {
            return .upsert(
                TodoItem(id: itemId, listId: event.aggregateId, text: text, completed: false, position: event.version, updatedAt: event.occurredAt))
        }
        guard var item = current else { return .unchanged }
        switch event.payload {
        case .itemCompleted: item.completed = true
        case .itemReopened: item.completed = false
        case .itemRenamed(_, let text): item.text = text
        case .itemRemoved: return .delete
        case .created, .archived, .itemAdded: return .unchanged
        }
        item.updatedAt = event.occurredAt
        return .upsert(item)
    }
}
