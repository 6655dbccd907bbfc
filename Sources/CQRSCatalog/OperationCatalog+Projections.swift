import CQRS
import CQRSSchema

extension OperationCatalog {
    /// `projections_status`: per projection its checkpoint, the log's head, the lag, the last error.
    static func statusOperation(_ projector: Projector) -> CatalogOperation {
        CatalogOperation(
            name: "projections_status", group: "projections", kind: .projectionStatus, title: "Projections: status",
            description: "How far each view (and each list of latest states) is behind the global log: its checkpoint (the last global position applied), the log's head, the lag in events, the process running it, its last error, and whether it is stalled. Views follow commits within milliseconds; pass a command result's globalPosition as minPosition to a list to read your own writes.",
            input: NamedSchema(name: "ProjectionsStatusInput", schema: objectSchema([], required: [], additional: false)),
            output: NamedSchema(
                name: "ProjectionsStatus",
                schema: objectSchema(
                    [("projections", ["type": "array", "items": ProjectionStatus.jsonSchema.json])], required: ["projections"],
                    additional: false)),
            semantics: .read, errors: [.unavailable],
            run: { _, _ in
                ["projections": try CQRSJSON.value(of: try await projector.status())]
            })
    }
}

/// Reads one aggregate's audit log after a version, for streams of its new events.
public struct EventLogReader: Sendable {
    /// The most entries one read returns.
    public static let pageSize = 100
    let read: @Sendable (String, Int) async throws -> (entries: [JSONValue], version: Int)

    init(read: @escaping @Sendable (String, Int) async throws -> (entries: [JSONValue], version: Int)) {
        self.read = read
    }

    /// The entries (`AuditEntry` JSON, at most ``pageSize``) of aggregate `id` after `version`, and
    /// its current version.
    /// - Throws: 404 when the aggregate does not exist; 400 for an invalid id.
    public func entries(of id: String, after version: Int) async throws -> (entries: [JSONValue], version: Int) {
        try await read(id, max(0, version))
    }
}
