import CQRS
import CQRSSchema
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// One schema of a ``PostgresDatabase`` holding the CQRS tables; stores are built on it.
///
/// Names are validated (`^[a-z_][a-z0-9_]{0,62}$`) and always quoted; every value is a bound parameter.
public struct PostgresSchema: Sendable {
    /// The version of the tables this code writes; ``PostgresDatabase/schema(_:)`` migrates older ones.
    public static let currentVersion = 4
    /// The database.
    public let database: PostgresDatabase
    /// The schema name.
    public let name: String
    /// The quoted schema name, ready to prefix table names.
    let quoted: String

    init(database: PostgresDatabase, name: String) throws {
        guard Self.isValidIdentifier(name) else {
            throw InfrastructureError.configurationError.error(
                "Invalid schema name '\(name)': use 1 to 63 of a-z, 0-9 and _, not starting with a digit")
        }
        self.database = database
        self.name = name
        quoted = "\"\(name)\""
    }

    /// Whether `name` matches `^[a-z_][a-z0-9_]{0,62}$`.
    public static func isValidIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), bytes[0] == 95 || (97...122).contains(bytes[0]) else { return false }
        return bytes.allSatisfy { $0 == 95 || (97...122).contains($0) || (48...57).contains($0) }
    }

    /// A table of this schema, quoted.
    func table(_ table: String) -> String { "\(quoted).\(table)" }

    /// The version recorded in the schema's version table (0 when the schema has none).
    public func storedVersion() async throws -> Int {
        let table = "\(quoted).cqrs_schema_version"
        let exists = try await database.rows("SELECT to_regclass(\(table))::text") { try $0.decode(String?.self) }
        guard case .some(.some) = exists.first else { return 0 }
        let rows = try await database.rows(PostgresQuery(unsafeSQL: "SELECT version FROM \(table)")) { try $0.decode(Int.self) }
        return rows.first ?? 0
    }

    /// Creates or migrates the tables, under a transaction-level advisory lock keyed by the schema name,
    /// so that several processes starting at once migrate one after the other.
    func migrate() async throws {
        let logger = database.logger
        let quoted = self.quoted
        let name = self.name
        try await database.withConnection { connection in
            try await connection.withTransaction(logger: logger) { connection in
                let encoding = try await connection.query("SELECT current_setting('server_encoding')", logger: logger)
                for try await row in encoding {
                    let value = try row.decode(String.self)
                    guard value == "UTF8" else {
                        throw InfrastructureError.configurationError.error(
                            "The PostgreSQL database must use UTF8 encoding (it uses \(value))")
                    }
                }
                try await connection.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended('swift-cqrs migrate ' || \(name), 0))", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(quoted)"), logger: logger)
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: """
                            CREATE TABLE IF NOT EXISTS \(quoted).cqrs_schema_version (
                                singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
                                version integer NOT NULL,
                                migrated_at timestamptz NOT NULL DEFAULT now()
                            )
                            """), logger: logger)
                var current = 0
                for try await row in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT version FROM \(quoted).cqrs_schema_version"), logger: logger)
                {
                    current = try row.decode(Int.self)
                }
                let migrations = Self.migrations(quoted)
                guard current <= migrations.count else {
                    throw InfrastructureError.configurationError.error(
                        "The schema \(name) is at version \(current), newer than this library's (\(migrations.count))")
                }
                for version in current..<migrations.count {
                    for statement in migrations[version] {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        PostgresQuery(
                            unsafeSQL: """
                                INSERT INTO \(quoted).cqrs_schema_version (version) VALUES ($1)
                                ON CONFLICT (singleton) DO UPDATE SET version = excluded.version, migrated_at = now()
                                """, binds: { var b = PostgresBindings(); b.append(version + 1); return b }()), logger: logger)
                }
            }
        }
    }

    /// The migrations, each a list of statements; migration `i` moves the schema to version `i + 1`.
    static func migrations(_ s: String) -> [[String]] {
        [
            [
                """
                CREATE TABLE \(s).events (
                    position bigint PRIMARY KEY,
                    aggregate_type text COLLATE "C" NOT NULL,
                    aggregate_id text COLLATE "C" NOT NULL,
                    version integer NOT NULL CHECK (version > 0),
                    event_id uuid NOT NULL,
                    event_type text NOT NULL,
                    payload jsonb NOT NULL,
                    metadata jsonb NOT NULL,
                    occurred_at timestamptz NOT NULL,
                    CONSTRAINT events_event_id_key UNIQUE (event_id),
                    CONSTRAINT events_stream_version_key UNIQUE (aggregate_type, aggregate_id, version)
                )
                """,
                """
                CREATE TABLE \(s).snapshots (
                    aggregate_type text COLLATE "C" NOT NULL,
                    aggregate_id text COLLATE "C" NOT NULL,
                    version integer NOT NULL,
                    state jsonb NOT NULL,
                    PRIMARY KEY (aggregate_type, aggregate_id)
                )
                """,
                """
                CREATE TABLE \(s).idempotency_keys (
                    aggregate_type text COLLATE "C" NOT NULL,
                    key text COLLATE "C" NOT NULL,
                    fingerprint text NOT NULL,
                    aggregate_id text COLLATE "C" NOT NULL,
                    first_version integer NOT NULL,
                    version integer NOT NULL,
                    global_position bigint NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (aggregate_type, key)
                )
                """,
                """
                CREATE TABLE \(s).read_models (
                    model_type text COLLATE "C" NOT NULL,
                    parent_id text COLLATE "C" NOT NULL,
                    id text COLLATE "C" NOT NULL,
                    data jsonb NOT NULL,
                    PRIMARY KEY (model_type, parent_id, id)
                )
                """,
                "CREATE INDEX read_models_data_idx ON \(s).read_models USING gin (data jsonb_path_ops)",
            ],
            // 2: the commit as a function. One statement = one transaction: the idempotency check, the
            // version check, every event in one multi-row INSERT, the snapshot upsert and the idempotency
            // record. The checks see the statement's snapshot; a racing commit that this snapshot missed
            // makes the INSERT fail with 23505 on the stream version or the key, which the store maps to
            // 409 or a duplicate. A function because PL/pgSQL keeps the statement's plan per connection:
            // planning it took 0.25 ms per call, more than executing it.
            [
                """
                CREATE FUNCTION \(s).cqrs_commit(
                    p_type text, p_id text, p_expected bigint, p_event_ids uuid[], p_event_types text[],
                    p_payloads text[], p_metadata text, p_occurred_at bigint, p_snapshot text, p_key text,
                    p_fingerprint text)
                RETURNS TABLE (fresh_key boolean, current_version bigint, event_position bigint, event_version bigint)
                LANGUAGE plpgsql AS $commit$
                BEGIN
                    RETURN QUERY
                    WITH guard AS (
                        SELECT NOT EXISTS (SELECT 1 FROM \(s).idempotency_keys k WHERE k.aggregate_type = p_type AND k.key = p_key) AS fresh,
                            (SELECT coalesce(max(e.version), 0) FROM \(s).events e WHERE e.aggregate_type = p_type AND e.aggregate_id = p_id) AS current
                    ), ins AS (
                        INSERT INTO \(s).events (position, aggregate_type, aggregate_id, version, event_id, event_type, payload, metadata, occurred_at)
                        SELECT pg_current_xact_id()::text::bigint * 1048576 + e.n, p_type, p_id, p_expected::integer + e.n, e.event_id,
                            e.event_type, e.payload::jsonb, p_metadata::jsonb, timestamptz 'epoch' + p_occurred_at * interval '1 millisecond'
                        FROM guard, unnest(p_event_ids, p_event_types, p_payloads) WITH ORDINALITY AS e(event_id, event_type, payload, n)
                        WHERE guard.fresh AND guard.current = p_expected
                        RETURNING events.position, events.version
                    ), snap AS (
                        INSERT INTO \(s).snapshots AS sn (aggregate_type, aggregate_id, version, state)
                        SELECT p_type, p_id, p_expected::integer + cardinality(p_event_ids), p_snapshot::jsonb
                        WHERE p_snapshot IS NOT NULL AND EXISTS (SELECT 1 FROM ins)
                        ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, state = excluded.state
                    ), idem AS (
                        INSERT INTO \(s).idempotency_keys (aggregate_type, key, fingerprint, aggregate_id, first_version, version, global_position)
                        SELECT p_type, p_key, p_fingerprint, p_id, p_expected::integer + 1, p_expected::integer + cardinality(p_event_ids),
                            (SELECT max(ins.position) FROM ins)
                        WHERE p_key IS NOT NULL AND EXISTS (SELECT 1 FROM ins)
                    )
                    SELECT guard.fresh, guard.current::bigint, ins.position, ins.version::bigint
                    FROM guard LEFT JOIN ins ON true ORDER BY ins.version;
                END
                $commit$
                """
            ],
            // 3: projection checkpoints, committed with the documents they describe.
            [
                """
                CREATE TABLE \(s).projection_checkpoints (
                    name text COLLATE "C" PRIMARY KEY,
                    position bigint NOT NULL,
                    owner text,
                    lease_expires_at timestamptz,
                    last_error text
                )
                """
            ],
            // 4: group commit (see `commitBatchMigration`).
            commitBatchMigration(s),
        ]
    }
}
