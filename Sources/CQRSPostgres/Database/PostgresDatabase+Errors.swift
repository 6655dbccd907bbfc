import CQRS
import CQRSSchema
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// How driver errors become ``CqrsError``s.
extension PostgresDatabase {
    /// Any error of the driver as a ``CqrsError``: 503 when the server is unreachable or going away,
    /// 500 with the SQLSTATE otherwise.
    static func map(_ error: any Error) -> CqrsError {
        if let cqrs = error as? CqrsError { return cqrs }
        if error is AcquireTimeout {
            return unavailable("No PostgreSQL connection could be obtained in time; the server may be down", reason: "acquireTimeout")
        }
        if error is ConnectionClosed {
            return unavailable("The PostgreSQL connection closed during the operation", reason: "connectionClosed")
        }
        if error is OperationTimeout {
            return unavailable(
                "PostgreSQL did not answer in time; the outcome of the operation is unknown", reason: "operationTimeout")
        }
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return map(inner)
            }
            return unavailable("A PostgreSQL transaction failed", reason: "transaction")
        }
        if let psql = error as? PSQLError {
            switch psql.code {
            case .server:
                return serverError(
                    sqlState: psql.serverInfo?[.sqlState] ?? "XX000", constraint: psql.serverInfo?[.constraintName])
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                .queryCancelled, .sslUnsupported, .failedToAddSSLHandler:
                return unavailable("PostgreSQL connection failed (\(psql.code))", reason: "\(psql.code)")
            default:
                return CqrsError.database("PostgreSQL client error (\(psql.code))", details: ["client": .string("\(psql.code)")])
            }
        }
        if error is PostgresDecodingError {
            return CqrsError.database("A PostgreSQL value did not decode")
        }
        if error is CancellationError {
            return unavailable("The PostgreSQL operation was cancelled", reason: "cancelled")
        }
        // Pool errors (circuit breaker), NIO connect errors (refused, timeout): the server is unreachable.
        return unavailable("PostgreSQL is unreachable (\(type(of: error)))", reason: "\(type(of: error))")
    }

    /// A server error by its SQLSTATE: 503 for connection, shutdown and retryable states, 400 for a
    /// value the server cannot store, 500 with the SQLSTATE (and constraint) otherwise.
    static func serverError(sqlState state: String, constraint: String?) -> CqrsError {
        let code = PostgresError.Code(raw: state)
        // Class 08: connection exceptions; 57P01-57P05: shutdown, crash, cannot connect now, idle
        // timeouts; too many connections; serialization failure and deadlock (retryable).
        let retryable: [PostgresError.Code] = [.tooManyConnections, .serializationFailure, .deadlockDetected]
        if state.hasPrefix("08") || state.hasPrefix("57P") || retryable.contains(code) {
            return unavailable("PostgreSQL is unavailable (SQLSTATE \(state))", reason: "sqlState", sqlState: state)
        }
        var details: [String: JSONValue] = ["sqlState": .string(state)]
        if let constraint { details["constraint"] = .string(constraint) }
        // 22: a value the server cannot store (NUL in text, a bad escape); 54: a value too large
        // for an index row. The request is at fault, not the server.
        if state.hasPrefix("22") || state.hasPrefix("54") {
            return CqrsError.validation("PostgreSQL cannot store a value of this request (SQLSTATE \(state))", details: .object(details))
        }
        return CqrsError.database("PostgreSQL error \(state)", details: .object(details))
    }

    static func unavailable(_ message: String, reason: String, sqlState: String? = nil) -> CqrsError {
        var details: [String: JSONValue] = ["reason": .string(reason)]
        if let sqlState { details["sqlState"] = .string(sqlState) }
        return InfrastructureError.serviceUnavailable.error(message, details: .object(details))
    }
}
