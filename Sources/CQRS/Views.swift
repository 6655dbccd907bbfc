import CQRSSchema

/// Where an event lands in a view: the document's id and, for a child view, its parent's id.
public struct ViewKey: Sendable, Hashable {
    /// The document id.
    public var id: String
    /// The parent id (child views only).
    public var parentId: String?

    /// Creates a key.
    public init(id: String, parentId: String? = nil) {
        self.id = id
        self.parentId = parentId
    }
}

/// What an event does to a view document.
public enum ViewChange<V: Sendable>: Sendable {
    /// Nothing to write.
    case unchanged
    /// Write this document.
    case upsert(V)
    /// Remove the document.
    case delete
}

/// A read model kept up to date from one aggregate's events (by a ``Projector``, through ``ViewProjection``).
public protocol View: ReadModel {
    /// The aggregate whose events feed the view.
    associatedtype Source: Aggregate
    /// The document an event touches, or nil when it touches none.
    static func key(for event: EventEnvelope<Source.Event>) -> ViewKey?
    /// The change an event makes to the document (`current` is nil when there is none yet).
    static func project(_ current: Self?, _ event: EventEnvelope<Source.Event>) -> ViewChange<Self>
}

/// The latest state of one aggregate as a read model: `{"id","version","state"}`.
@Schema
public struct AggregateState<A: Aggregate>: ReadModel {
    public static var modelType: String { A.aggregateType }
    public static var sortableFields: Set<String> {
        Set(["version"] + A.sortableStateFields.map { "state.\($0)" })
    }
    /// The aggregate id.
    public var id: String
    /// The aggregate's version.
    public var version: Int
    /// The aggregate's state.
    public var state: A

    /// Creates the read model.
    public init(id: String, version: Int, state: A) {
        self.id = id
        self.version = version
        self.state = state
    }
}

extension Aggregate {
    public static var sortableStateFields: [String] { [] }
}
