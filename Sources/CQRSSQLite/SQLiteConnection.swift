import CQRS
import CQRSSchema
import CSQLite
import Foundation

/// SQLite's destructor constant telling it to copy bound text (the Swift string is temporary).
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Not thread-safe: a ``SQLiteDatabase`` only touches it from the serial
/// queue that owns it (hence `@unchecked Sendable`).
final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32) throws {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw CqrsError.database("Cannot open SQLite database at \(path): \(message)", details: ["sqliteCode": .int(Int(code))])
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteFailure(code: code, message: text)
        }
    }

    /// A cached prepared statement, reset and with its bindings cleared. For the library's fixed SQL
    /// only: the cache lives as long as the connection, so SQL built per request (filters chosen by
    /// clients) goes through ``withTransientStatement(_:_:)`` instead.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            sqlite3_reset(cached.handle)
            sqlite3_clear_bindings(cached.handle)
            return cached
        }
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard code == SQLITE_OK, let raw else {
            throw SQLiteFailure(code: code, message: String(cString: sqlite3_errmsg(handle)))
        }
        let statement = SQLiteStatement(handle: raw, connection: handle)
        statements[sql] = statement
        return statement
    }

    /// Prepares `sql`, runs `body` with it and finalizes it (not cached).
    func withTransientStatement<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        var raw: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, 0, &raw, nil)
        guard code == SQLITE_OK, let raw else {
            throw SQLiteFailure(code: code, message: String(cString: sqlite3_errmsg(handle)))
        }
        defer { sqlite3_finalize(raw) }
        return try body(SQLiteStatement(handle: raw, connection: handle))
    }

    /// Runs one fixed statement without parameters through the statement cache: no parse per call
    /// (``execute(_:)`` parses every time; group commit runs two savepoint statements per write).
    func run(_ sql: String) throws {
        try statement(sql).run([])
    }

    /// Runs `body` in a transaction; rolls back when it throws.
    func transaction<T>(immediate: Bool, _ body: () throws -> T) throws -> T {
        try run(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try run("COMMIT")
            return result
        } catch {
            if sqlite3_get_autocommit(handle) == 0 { try? execute("ROLLBACK") }
            throw error
        }
    }

    var lastInsertRowId: Int64 { sqlite3_last_insert_rowid(handle) }
    /// Whether no transaction is open.
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }
    /// The rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }
}

/// A failed SQLite call, with its extended result code.
struct SQLiteFailure: Error, CustomStringConvertible {
    var code: Int32
    var message: String

    var description: String { "SQLite error \(code): \(message)" }
    // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (C macros Swift does not import).
    var isUniqueViolation: Bool { code == 2067 || code == 1555 }
    var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }

    var cqrsError: CqrsError {
        if isBusy {
            return InfrastructureError.serviceUnavailable.error(
                "The SQLite database is busy; retry", details: ["sqliteCode": .int(Int(code))])
        }
        // The client gets the code only; SQLite's message (SQL text, file paths) belongs in the log.
        return CqrsError.database("SQLite error \(code)", details: ["sqliteCode": .int(Int(code))])
    }
}

/// A prepared statement; its methods bind by 1-based index and read by 0-based column.
struct SQLiteStatement {
    let handle: OpaquePointer
    let connection: OpaquePointer

    func bind(_ values: [SQLiteValue]) throws {
        sqlite3_reset(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let number): code = sqlite3_bind_int64(handle, index, number)
            case .real(let number): code = sqlite3_bind_double(handle, index, number)
            case .text(let text):
                // With its byte length: a length of -1 would end the text at its first NUL.
                code = sqlite3_bind_text(handle, index, text, Int32(text.utf8.count), SQLITE_TRANSIENT)
            }
            guard code == SQLITE_OK else {
                let sql = sqlite3_sql(handle).map { String(cString: $0) } ?? "?"
                throw SQLiteFailure(code: code, message: "\(String(cString: sqlite3_errmsg(connection))) binding \(index) in \(sql)")
            }
        }
    }

    /// Advances to the next row; false when done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = SQLiteFailure(code: sqlite3_extended_errcode(connection), message: String(cString: sqlite3_errmsg(connection)))
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue]) throws {
        try bind(values)
        while try step() {}
    }

    /// All rows, each mapped by `row`.
    func rows<T>(_ values: [SQLiteValue], _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        try bind(values)
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        return result
    }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    func text(_ column: Int32) -> String { withBytes(column) { String(decoding: $0, as: UTF8.self) } }
    /// The column's bytes, valid only inside `body`.
    func withBytes<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        guard let bytes = sqlite3_column_text(handle, column) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))))
    }
    func data(_ column: Int32) -> Data { withBytes(column) { Data(buffer: $0) } }
}

/// A value bound to a statement parameter.
enum SQLiteValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}
