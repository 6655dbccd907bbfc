import CMongoC
import CQRS
import CQRSSchema
import Foundation
import Logging
import NIOPosix

/// A MongoDB deployment (standalone or replica set) through a libmongoc client pool.
///
/// libmongoc blocks the calling thread for every round trip, so every operation runs on this
/// database's own `NIOThreadPool`, never on Swift's cooperative pool or an event loop. An operation
/// takes one client from the pool for all of its round trips.
public final class MongoDatabase: Sendable {
    /// Connection settings beyond the URL.
    public struct Options: Sendable {
        /// Threads running driver calls, hence concurrent operations (and at most this many connections).
        public var threads: Int
        /// Applied when the URL does not set `serverSelectionTimeoutMS`: how long an operation waits for
        /// a reachable server before it fails with 503.
        public var serverSelectionTimeoutMS: Int32
        /// Applied when the URL does not set `connectTimeoutMS`.
        public var connectTimeoutMS: Int32
        /// Applied when the URL does not set `socketTimeoutMS`: how long one round trip may take.
        public var socketTimeoutMS: Int32

        /// Options with the defaults: 16 threads, 3 s server selection, 2 s connect, 10 s per round trip.
        public init(threads: Int = 16, serverSelectionTimeoutMS: Int32 = 3000, connectTimeoutMS: Int32 = 2000, socketTimeoutMS: Int32 = 10_000) {
            self.threads = threads
            self.serverSelectionTimeoutMS = serverSelectionTimeoutMS
            self.connectTimeoutMS = connectTimeoutMS
            self.socketTimeoutMS = socketTimeoutMS
        }
    }

    /// The database the collections live in (the URL's path; `cqrs` when it has none).
    public let name: String
    /// The URL without its password (safe to log).
    public let description: String
    private let pool: ClientPool
    private let threads: NIOThreadPool
    /// Where driver failures are logged with the driver's own text (clients only see a code).
    let logger: Logger

    private init(name: String, sharing other: MongoDatabase) {
        self.name = name
        self.description = other.description + " (database \(name))"
        self.pool = other.pool
        self.threads = other.threads
        self.logger = other.logger
    }

    /// Another database of the same deployment, on the same connections and threads (a shutdown of
    /// either shuts both down).
    /// - Throws: 500 `CONFIGURATION_ERROR` for an invalid name.
    public func database(_ name: String) throws -> MongoDatabase {
        guard Self.isValidDatabaseName(name) else {
            throw InfrastructureError.configurationError.error("Invalid MongoDB database name '\(name)'")
        }
        return MongoDatabase(name: name, sharing: self)
    }

    private static let driver: Void = {
        mongoc_init()
        // The store reports every failure itself; the driver's own log lines would only be noise on stderr.
        mongoc_log_set_handler(nil, nil)
    }()

    /// Connects lazily to the deployment of a `mongodb://` (or `mongodb+srv://`) URL: the first
    /// operation opens the connections.
    /// - Throws: 500 `CONFIGURATION_ERROR` for an invalid URL.
    public init(url: String, options: Options = .init(), logger: Logger = Logger(label: "cqrs.mongo")) throws {
        _ = Self.driver
        self.logger = logger
        guard url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://") else {
            throw InfrastructureError.configurationError.error("A MongoDB URL starts with mongodb:// or mongodb+srv://")
        }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url, &error) else {
            throw InfrastructureError.configurationError.error("Invalid MongoDB URL: \(Self.message(error))")
        }
        defer { mongoc_uri_destroy(uri) }
        for (option, value) in [
            (MONGOC_URI_SERVERSELECTIONTIMEOUTMS, options.serverSelectionTimeoutMS),
            (MONGOC_URI_CONNECTTIMEOUTMS, options.connectTimeoutMS), (MONGOC_URI_SOCKETTIMEOUTMS, options.socketTimeoutMS),
        ] where !mongoc_uri_has_option(uri, option) {
            mongoc_uri_set_option_as_int32(uri, option, value)
        }
        // Majority concerns unless the URL says otherwise: an acknowledged commit, and anything a
        // reader of the global log has seen, then survives a replica-set failover.
        cqrs_mongo_default_concerns(uri)
        let database = mongoc_uri_get_database(uri).map { String(cString: $0) } ?? "cqrs"
        guard Self.isValidDatabaseName(database) else {
            throw InfrastructureError.configurationError.error("Invalid MongoDB database name '\(database)'")
        }
        name = database
        description = Self.redacted(url)
        guard let created = mongoc_client_pool_new_with_error(uri, &error) else {
            throw InfrastructureError.configurationError.error("MongoDB client pool: \(Self.message(error))")
        }
        mongoc_client_pool_set_error_api(created, 2)
        mongoc_client_pool_set_appname(created, "swift-cqrs")
        mongoc_client_pool_max_size(created, UInt32(max(options.threads, 1)))
        pool = ClientPool(pointer: created)
        threads = NIOThreadPool(numberOfThreads: max(options.threads, 1))
        threads.start()
    }

    /// Closes the connections and stops the threads (a sibling from ``database(_:)`` stops with them).
    public func shutdown() async {
        // First every operation in flight ends; then the pool goes (closing sockets, and on a real
        // mongod ending its sessions, blocks: on a thread of its own, not the cooperative pool).
        try? await threads.shutdownGracefully()
        let pool = pool
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                pool.destroy()
                done.resume()
            }
        }
    }

    /// Runs `body` on the driver threads with one client of the pool.
    /// - Throws: `body`'s errors as ``CqrsError``s (503 when the deployment is unreachable).
    @discardableResult
    func run<T: Sendable>(_ body: @escaping @Sendable (MongoSession) throws -> T) async throws -> T {
        let database = name
        let pool = pool
        do {
            return try await threads.runIfActive {
                let client = try pool.pop()
                defer { pool.push(client) }
                return try body(MongoSession(client: client, database: database))
            }
        } catch let error as MongoError {
            let mapped = error.cqrs
            logger.log(
                level: mapped.status == 503 ? .warning : .error, "MongoDB operation failed",
                metadata: ["error": "\(error.driverText)", "code": "\(mapped.code)", "database": "\(database)"])
            throw mapped
        } catch let error as CqrsError {
            throw error
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw InfrastructureError.serviceUnavailable.error("The MongoDB store is shutting down", details: ["reason": "shutdown"])
        }
    }

    /// The names MongoDB accepts: no `/\. "$` or NUL, at most 63 bytes.
    static func isValidDatabaseName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63 && !name.contains { "/\\. \"$\0".contains($0) }
    }

    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let authority = url[scheme.upperBound..<at]
        guard !authority.contains("/"), let colon = authority.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + String(url[at...])
    }

    static func message(_ error: bson_error_t) -> String {
        var error = error
        return withUnsafeBytes(of: &error.message) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }
}

/// The driver's pool; libmongoc documents `mongoc_client_pool_t` as thread-safe.
private final class ClientPool: @unchecked Sendable {
    private let pointer: OpaquePointer
    private let destroyed = NSLock()
    private var isDestroyed = false

    init(pointer: OpaquePointer) { self.pointer = pointer }

    func pop() throws -> OpaquePointer {
        guard let client = mongoc_client_pool_pop(pointer) else {
            throw MongoError.unavailable("No MongoDB client could be taken from the pool")
        }
        return client
    }

    func push(_ client: OpaquePointer) { mongoc_client_pool_push(pointer, client) }

    func destroy() {
        destroyed.lock()
        defer { destroyed.unlock() }
        guard !isDestroyed else { return }
        isDestroyed = true
        mongoc_client_pool_destroy(pointer)
    }
}

/// One client of the pool, on a driver thread, for the duration of one operation.
struct MongoSession {
    let client: OpaquePointer
    let database: String

    /// How a command inherits the URL's concerns (see `cqrs_mongo_kind_t` in the C shim).
    enum Kind: Int32 {
        /// `find`, `count`, `aggregate`: read concern and read preference.
        case read = 0
        /// `insert`, `update`, `delete`, `createIndexes`: write concern.
        case write = 1
        /// `findAndModify`: both.
        case readWrite = 2
        /// `getMore`: neither (it must not repeat the read concern).
        case plain = 3

        init(_ command: BSONDocument) {
            switch command.fields.first?.name {
            case "find", "count", "aggregate": self = .read
            case "findAndModify": self = .readWrite
            case "getMore": self = .plain
            default: self = .write
            }
        }
    }

    /// Runs a command and returns its reply (its kind follows from the command's name).
    /// - Throws: ``MongoError/server(code:message:)`` when the server answers `ok: 0`,
    ///   ``MongoError/writeConcern(code:message:)`` when a write may not have reached the majority,
    ///   ``MongoError/unavailable(_:)`` when it cannot be reached or does not answer in time.
    @discardableResult
    func command(_ command: BSONDocument) throws -> BSONDocument {
        let bytes = command.bytes
        var error = bson_error_t()
        var ok = false
        var length: UInt32 = 0
        let reply = bytes.withUnsafeBufferPointer { buffer in
            cqrs_mongo_command(client, database, buffer.baseAddress, UInt32(buffer.count), Int32(Kind(command).rawValue), &error, &ok, &length)
        }
        defer { bson_free(reply) }
        let document = reply.flatMap { try? BSONReader.document(Array(UnsafeBufferPointer(start: $0, count: Int(length)))) }
        if ok {
            guard let document else { throw MongoError.malformed("a reply that does not parse") }
            return document
        }
        let message = MongoDatabase.message(error)
        switch error.domain {
        case MONGOC_ERROR_SERVER.rawValue:
            let labels = document?["errorLabels"]?.array?.compactMap(\.string) ?? []
            if labels.contains("RetryableWriteError") || labels.contains("TransientTransactionError") {
                throw MongoError.unavailable("transient server error \(error.code): \(message)")
            }
            throw MongoError.server(code: Int(error.code), message: message)
        case MONGOC_ERROR_WRITE_CONCERN.rawValue: throw MongoError.writeConcern(code: Int(error.code), message: message)
        case MONGOC_ERROR_BSON.rawValue: throw MongoError.tooLarge(message)
        case MONGOC_ERROR_COMMAND.rawValue where error.code == MONGOC_ERROR_COMMAND_INVALID_ARG.rawValue:
            throw message.contains("too large") ? MongoError.tooLarge(message) : MongoError.malformed("a refused command: \(message)")
        case MONGOC_ERROR_CLIENT.rawValue where error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue:
            throw MongoError.configuration("authentication failed: \(message)")
        default: throw MongoError.unavailable(message)
        }
    }

    /// Runs a write command (`insert`, `update`, `delete`) and returns its write errors (code and
    /// message of each refused statement, by index); a server error fails the whole command.
    func write(_ command: BSONDocument) throws -> (reply: BSONDocument, errors: [Int: WriteError]) {
        let reply = try self.command(command)
        var errors: [Int: WriteError] = [:]
        for item in reply["writeErrors"]?.array ?? [] {
            guard let error = item.document else { continue }
            errors[Int(error["index"]?.int64 ?? 0)] = WriteError(
                code: Int(error["code"]?.int64 ?? 0), message: error["errmsg"]?.string ?? "",
                keyFields: error["keyPattern"]?.document?.fields.map(\.name) ?? [])
        }
        if let concern = reply["writeConcernError"]?.document {
            throw MongoError.writeConcern(code: Int(concern["code"]?.int64 ?? 64), message: concern["errmsg"]?.string ?? "write concern error")
        }
        return (reply, errors)
    }

    /// Every document a `find` (or `aggregate`) command returns, following its cursor.
    func documents(_ command: BSONDocument, collection: String) throws -> [BSONDocument] {
        var reply = try self.command(command)
        var documents: [BSONDocument] = []
        while true {
            guard let cursor = reply["cursor"]?.document else { throw MongoError.malformed("a reply without a cursor") }
            let batch = cursor["firstBatch"]?.array ?? cursor["nextBatch"]?.array ?? []
            documents += batch.compactMap(\.document)
            let id = cursor["id"]?.int64 ?? 0
            guard id != 0 else { return documents }
            reply = try self.command(["getMore": .int64(id), "collection": .string(collection)])
        }
    }
}

/// One refused statement of a write command.
struct WriteError {
    var code: Int
    var message: String
    /// The fields of the unique index a duplicate key violated (from `keyPattern`), when the server says.
    var keyFields: [String]

    var isDuplicateKey: Bool { code == MongoError.duplicateKey }

    /// Whether this is a duplicate key on the index over exactly `fields` (by `keyPattern`, else by
    /// the index name in the message, `… index: NAME dup key: …`).
    func isDuplicate(onIndex name: String, fields: [String]) -> Bool {
        guard isDuplicateKey else { return false }
        if !keyFields.isEmpty { return keyFields == fields }
        guard let start = message.range(of: "index: ") else { return false }
        return message[start.upperBound...].split(separator: " ").first.map(String.init) == name
    }
}

/// What the driver reports, before it becomes a ``CqrsError``.
enum MongoError: Error {
    case server(code: Int, message: String)
    case writeConcern(code: Int, message: String)
    case unavailable(String)
    case tooLarge(String)
    case malformed(String)
    case configuration(String)

    /// MongoDB's duplicate key error code.
    static let duplicateKey = 11000

    /// What the driver or server said (for the log only: it names hosts and databases).
    var driverText: String {
        switch self {
        case .server(let code, let message), .writeConcern(let code, let message): "error \(code): \(message)"
        case .unavailable(let message), .tooLarge(let message), .malformed(let message), .configuration(let message): message
        }
    }

    var cqrs: CqrsError {
        switch self {
        case .server(let code, _) where [6, 7, 50, 89, 91, 112, 133, 134, 189, 262, 9001, 10058, 10107, 11600, 11601, 11602, 13435, 13436].contains(code):
            // Host unreachable, network timeout, shutdown in progress, not primary, primary stepped down.
            InfrastructureError.serviceUnavailable.error(
                "MongoDB is unavailable (error \(code))", details: ["reason": "server", "code": .int(code)])
        case .server(let code, _) where code == 10334 || code == 17419:
            CqrsError.validation("The document is too large for MongoDB (error \(code))", details: ["code": .int(code)])
        case .server(let code, _):
            CqrsError.database("MongoDB error \(code)", details: ["code": .int(code)])
        case .writeConcern(let code, _):
            InfrastructureError.serviceUnavailable.error(
                "MongoDB could not confirm the write to the majority (error \(code)); its outcome is unknown",
                details: ["reason": "writeConcern", "code": .int(code)])
        case .configuration:
            InfrastructureError.configurationError.error("MongoDB refused the connection's credentials")
        case .unavailable:
            InfrastructureError.serviceUnavailable.error(
                "MongoDB is unreachable or did not answer in time; the outcome of a write in flight is unknown",
                details: ["reason": "unreachable"])
        case .tooLarge:
            CqrsError.validation("The request is too large for one MongoDB document (16 MB)")
        case .malformed(let what):
            CqrsError.database("MongoDB sent \(what)")
        }
    }
}
