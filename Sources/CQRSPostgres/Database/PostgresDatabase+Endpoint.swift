import CQRS
import Foundation
import PostgresNIO

extension PostgresDatabase {
    /// How the connection negotiates TLS (the `sslmode` of the URL).
    public enum TLSMode: String, Sendable, Hashable {
        /// No TLS (`sslmode=disable`).
        case disable
        /// TLS when the server offers it, without certificate verification (`sslmode=prefer`, the default).
        case prefer
        /// TLS or no connection, without certificate verification (`sslmode=require`).
        case require
        /// TLS or no connection, with the certificate checked against the system roots and the host name
        /// (`sslmode=verify-full`).
        case verifyFull = "verify-full"
    }

    /// Where the server is and who connects.
    public struct Endpoint: Sendable, Hashable {
        /// Host name or IP address.
        public var host: String
        /// TCP port.
        public var port: Int
        /// The role to connect as.
        public var username: String
        /// The password, if any.
        public var password: String?
        /// The database name.
        public var database: String
        /// TLS negotiation.
        public var tls: TLSMode

        /// Creates an endpoint.
        public init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String, tls: TLSMode = .prefer) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
        }

        /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require|verify-full`
        /// (scheme `postgresql://` too; the user name and password may be percent-encoded).
        /// - Throws: 500 `INFRASTRUCTURE_CONFIGURATION_ERROR` naming what is wrong (never the password).
        public init(url: String) throws {
            guard let components = URLComponents(string: url),
                let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql",
                let host = components.host, !host.isEmpty
            else {
                throw Self.invalid("expected postgres://user:password@host:port/database")
            }
            guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
                throw Self.invalid("the URL names no user")
            }
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            var tls = TLSMode.prefer
            for item in components.queryItems ?? [] {
                switch item.name {
                case "sslmode":
                    guard let value = item.value, let mode = TLSMode(rawValue: value == "verify-ca" ? "verify-full" : value) else {
                        throw Self.invalid("sslmode must be disable, prefer, require or verify-full")
                    }
                    tls = mode
                default:
                    throw Self.invalid("unsupported URL parameter '\(item.name)'")
                }
            }
            self.init(
                host: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host, port: components.port ?? 5432,
                username: user, password: components.percentEncodedPassword?.removingPercentEncoding,
                database: path.isEmpty ? user : (path.removingPercentEncoding ?? path), tls: tls)
        }

        private static func invalid(_ reason: String) -> CqrsError {
            InfrastructureError.configurationError.error("Invalid PostgreSQL URL: \(reason)")
        }
    }

    /// PostgresNIO's TLS setting for a mode (`prefer`/`require` encrypt without verifying the certificate).
    static func tls(_ mode: TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer, .require:
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return mode == .prefer ? .prefer(tls) : .require(tls)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }
}
