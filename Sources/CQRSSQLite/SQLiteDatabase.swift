import CQRS
import Dispatch
import Foundation
import Logging
import Synchronization

/// One SQLite file holding the event journal, snapshots, idempotency keys, the global log and the
/// read models, in WAL mode.
///
/// SQLite calls block, so none runs on Swift's cooperative thread pool: the writer connection and
/// each reader connection live on their own serial dispatch queue. All writes go through the single
/// writer (SQLite admits one writer at a time anyway); reads use a small pool of readers, which WAL
/// lets run alongside the writer.
public final class SQLiteDatabase: Sendable {
    /// How hard a commit is pushed to disk.
    public enum Durability: Sendable {
        /// `synchronous=NORMAL` in WAL mode: every acknowledged commit survives a crash or `kill -9`
        /// of the process; the last commits may be lost if the machine loses power.
        case process
        /// `synchronous=FULL`: every commit is fsynced before it is acknowledged (survives power loss).
        case power
    }

    /// The schema version this code writes; older files are migrated on open.
    public static let schemaVersion = 2

    /// The file's path.
    public let path: String
    private let writer: Worker
    private let group: GroupCommit
    private let readers: [Worker]
    private let nextReader = Atomic<Int>(0)

    /// Opens (creating and migrating if needed) the database at `path`, off the cooperative pool:
    /// opening may wait up to 10 s for another process's write lock during a migration.
    public static func open(path: String, durability: Durability = .process, readerCount: Int = 2) async throws
        -> SQLiteDatabase
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try SQLiteDatabase(path: path, durability: durability, readerCount: readerCount) })
            }
        }
    }

    /// Opens (creating and migrating if needed) the database at `path`. This blocks the calling
    /// thread; from async code use ``open(path:durability:readerCount:)``.
    public init(path: String, durability: Durability = .process, readerCount: Int = 2) throws {
        self.path = path
        let writerConnection = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 10_000)
        try writerConnection.execute("PRAGMA journal_mode=WAL")
        try writerConnection.execute(durability == .power ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL")
        try writerConnection.execute("PRAGMA foreign_keys=ON")
        try Self.migrate(writerConnection)
        writer = Worker(connection: writerConnection, label: "cqrs.sqlite.writer")
        group = GroupCommit(writer: writer)
        readers = try (0..<max(1, readerCount)).map { index in
            let connection = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: 10_000)
            return Worker(connection: connection, label: "cqrs.sqlite.reader\(index)")
        }
    }

    /// Runs `body` on the writer connection, off the cooperative pool.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await writer.run(body)
    }

    /// Runs `body` on the writer connection inside its own savepoint of a write transaction shared
    /// with the other writes waiting at that moment (group commit), and returns once that
    /// transaction has committed. A body that throws rolls back its savepoint alone.
    func writeInGroup<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await group.submit(body)
    }

    /// Runs `body` inside a read transaction on one of the reader connections.
    /// - Parameter singleStatement: skip the explicit transaction (one statement is atomic by itself).
    func read<T: Sendable>(
        singleStatement: Bool = false, _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        let index = nextReader.wrappingAdd(1, ordering: .relaxed).oldValue
        return try await readers[abs(index % readers.count)].run { connection in
            singleStatement ? try body(connection) : try connection.transaction(immediate: false) { try body(connection) }
        }
    }

    /// The schema version stored in the file.
    public func storedSchemaVersion() async throws -> Int {
        try await read { connection in
            let statement = try connection.statement("PRAGMA user_version")
            return try statement.rows([]) { Int($0.int(0)) }.first ?? 0
        }
    }

    private static let migrations: [String] = [
        // 1: journal, snapshots, idempotency keys, read models.
        """
        CREATE TABLE events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            aggregate_type TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version > 0),
            event_type TEXT NOT NULL,
            payload TEXT NOT NULL,
            metadata TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            UNIQUE (aggregate_type, aggregate_id, version)
        );
        CREATE TABLE snapshots (
            aggregate_type TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            state TEXT NOT NULL,
            PRIMARY KEY (aggregate_type, aggregate_id)
        ) WITHOUT ROWID;
        CREATE TABLE idempotency_keys (
            aggregate_type TEXT NOT NULL,
            key TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            aggregate_id TEXT NOT NULL,
            first_version INTEGER NOT NULL,
            version INTEGER NOT NULL,
            global_position INTEGER NOT NULL,
            PRIMARY KEY (aggregate_type, key)
        ) WITHOUT ROWID;
        CREATE TABLE read_models (
            model_type TEXT NOT NULL,
            parent_id TEXT NOT NULL,
            id TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (model_type, parent_id, id)
        ) WITHOUT ROWID;
        """,
        // 2: projection checkpoints, committed with the documents they describe.
        """
        CREATE TABLE projection_checkpoints (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            owner TEXT,
            lease_expires_at INTEGER,
            last_error TEXT
        ) WITHOUT ROWID;
        """,
    ]

    private static func migrate(_ connection: SQLiteConnection) throws {
        try connection.transaction(immediate: true) {
            let current = Int(try connection.statement("PRAGMA user_version").rows([]) { $0.int(0) }.first ?? 0)
            guard current <= migrations.count else {
                throw InfrastructureError.configurationError.error(
                    "The database schema version \(current) is newer than this library's (\(migrations.count))")
            }
            for version in current..<migrations.count {
                try connection.execute(migrations[version])
                try connection.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }
}

/// A connection and the serial queue that owns it.
final class Worker: Sendable {
    /// Receives SQLite's own messages, which clients never see.
    static let logger = Logger(label: "cqrs.sqlite")
    private let queue: DispatchQueue
    private let connection: SQLiteConnection

    init(connection: SQLiteConnection, label: String) {
        self.connection = connection
        self.queue = DispatchQueue(label: label)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [connection] in
                do {
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: Self.mapped(error))
                }
            }
        }
    }

    /// Runs `work` on the connection's queue, after what is queued already.
    func enqueue(_ work: @escaping @Sendable (SQLiteConnection) -> Void) {
        queue.async { [connection] in work(connection) }
    }

    /// SQLite's failures as ``CqrsError``s (logged, unless expected: busy, unique violations).
    static func mapped(_ error: any Error) -> any Error {
        guard let failure = error as? SQLiteFailure else { return error }
        if !failure.isBusy, !failure.isUniqueViolation { logger.error("\(failure)") }
        return failure.cqrsError
    }
}
