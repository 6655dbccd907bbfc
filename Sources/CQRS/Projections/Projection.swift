import CQRSSchema

/// A read model fed from one aggregate type's events in global-log order by a ``Projector``.
///
/// The projector reads the documents an event touches, calls ``project(_:_:)`` and commits the new
/// documents together with its checkpoint, so that each event is applied exactly once even when the
/// process dies at any moment.
public protocol Projection: Sendable {
    /// The aggregate whose events feed the projection.
    associatedtype Source: Aggregate
    /// The documents the projection writes.
    associatedtype Model: ReadModel
    /// The document an event touches, or nil when it touches none.
    func key(for event: EventEnvelope<Source.Event>) -> ViewKey?
    /// The change an event makes to the document (`current` is nil when there is none yet).
    func project(_ current: Model?, _ event: EventEnvelope<Source.Event>) throws -> ViewChange<Model>
}

extension Projection {
    /// The projection's name (its checkpoint's key): the model type, which the storages key documents by.
    public var name: String { Model.modelType }
}

/// The projection of a ``View``: its static `key` and `project`.
public struct ViewProjection<V: View>: Projection {
    public typealias Source = V.Source
    public typealias Model = V

    /// The projection of `V`.
    public init(_ view: V.Type = V.self) {}

    public func key(for event: EventEnvelope<V.Source.Event>) -> ViewKey? { V.key(for: event) }

    public func project(_ current: V?, _ event: EventEnvelope<V.Source.Event>) -> ViewChange<V> {
        V.project(current, event)
    }
}

/// Every aggregate's latest state as a read model (``AggregateState``), so that aggregates can be
/// listed and filtered.
public struct LatestStateProjection<A: Aggregate>: Projection {
    public typealias Source = A
    public typealias Model = AggregateState<A>

    /// The latest-state projection of `A`.
    public init(_ type: A.Type = A.self) {}

    public func key(for event: EventEnvelope<A.Event>) -> ViewKey? { ViewKey(id: event.aggregateId) }

    public func project(_ current: AggregateState<A>?, _ event: EventEnvelope<A.Event>) throws
        -> ViewChange<AggregateState<A>>
    {
        // Events come in version order; one the document already holds changes nothing.
        let known = current?.version ?? 0
        guard event.version == known + 1 else {
            if event.version <= known { return .unchanged }
            throw CqrsError.database(
                "\(A.aggregateType) '\(event.aggregateId)' event \(event.version) follows version \(known) in the log")
        }
        var state = current?.state ?? A(id: event.aggregateId)
        try state.apply(event.payload)
        return .upsert(AggregateState(id: event.aggregateId, version: event.version, state: state))
    }
}
