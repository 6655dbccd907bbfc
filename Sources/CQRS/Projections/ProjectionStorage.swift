import CQRSSchema
import Foundation

/// Where a projection stands: the global position it has applied, who runs it, its last error.
@Schema
public struct ProjectionCheckpoint: Sendable, Hashable, Codable {
    /// The projection's name (its model type).
    public var name: String
    /// The global position of the last event applied (0: none yet).
    public var position: Int64
    /// The process holding the projection's lease, if any.
    public var owner: String?
    /// When the lease ends unless its holder renews it.
    public var leaseExpiresAt: Date?
    /// The last failure to apply an event, cleared by the next success.
    public var lastError: String?

    /// Creates a checkpoint.
    public init(name: String, position: Int64, owner: String? = nil, leaseExpiresAt: Date? = nil, lastError: String? = nil) {
        self.name = name
        self.position = position
        self.owner = owner
        self.leaseExpiresAt = leaseExpiresAt
        self.lastError = lastError
    }
}

/// One batch a projector commits: the final content of every document the batch touched (nil:
/// deleted) and the move of its checkpoint, in one transaction.
public struct ProjectionCommit<Model: ReadModel>: Sendable {
    /// The projection's name.
    public var projection: String
    /// The lease holder committing.
    public var owner: String
    /// The checkpoint the batch was computed from: the commit fails unless it is still there.
    public var from: Int64
    /// The checkpoint after the batch.
    public var to: Int64
    /// Each touched document's key and new content (nil: delete it), each key once.
    public var writes: [(key: ViewKey, document: Model?)]
    /// How long the lease lasts from now (the commit renews it).
    public var lease: Duration

    /// Creates a commit.
    public init(projection: String, owner: String, from: Int64, to: Int64, writes: [(key: ViewKey, document: Model?)], lease: Duration) {
        self.projection = projection
        self.owner = owner
        self.from = from
        self.to = to
        self.writes = writes
        self.lease = lease
    }
}

/// The part of a ``ReadStorage`` a ``Projector`` uses: batched reads, and document writes that commit
/// with the projection's checkpoint (a compare-and-set on its position and lease) or not at all.
///
/// Checkpoints live in the same database as the documents. A projection that has no checkpoint yet
/// owns no documents: creating its checkpoint deletes any of its model type (left by older code).
public protocol ProjectionStorage<Model>: Sendable {
    /// The stored model.
    associatedtype Model: ReadModel
    /// The documents with these keys; missing ones are absent from the result.
    func find(keys: [ViewKey]) async throws -> [ViewKey: Model]
    /// The projection's checkpoint (position 0 and no owner when it has none).
    func checkpoint(_ projection: String) async throws -> ProjectionCheckpoint
    /// Takes or renews the projection's lease for `owner` when it is free, expired or already
    /// `owner`'s, creating the checkpoint at 0 if needed; returns the checkpoint after the attempt
    /// (the caller holds the lease when its `owner` is the caller).
    func claim(_ projection: String, owner: String, lease: Duration) async throws -> ProjectionCheckpoint
    /// Writes the batch and moves the checkpoint from `from` to `to` atomically, when the checkpoint
    /// is still at `from` and leased by `owner`; returns false (and writes nothing) otherwise.
    func commit(_ commit: ProjectionCommit<Model>) async throws -> Bool
    /// Deletes every document of the model and moves the checkpoint back to 0, atomically (a rebuild).
    func reset(_ projection: String) async throws
    /// Records (or clears, with nil) the projection's last error.
    func recordError(_ projection: String, message: String?) async throws
    /// Gives the lease up, when `owner` holds it (a graceful shutdown: another process takes over at once).
    func release(_ projection: String, owner: String) async throws
}
