import CQRS
import CQRSSchema

/// The grant of one right to one user: an association modelled as an aggregate whose id is
/// derived from the pair (`user_42` + `right_7` gives `user_42:right_7`; distinct pairs never share one).
@Schema
public struct UserRight: CommandHandler, Equatable {
    public static let aggregateType = "user_right"
    public static var destructiveCommands: Set<String> { ["revoke"] }
    public static var errorCodes: [any DomainErrorCode] { UserRightError.allCases }

    /// `{userId}:{rightId}`, with `%` and `:` inside either part percent-escaped.
    public var id: String
    /// The user holding the right.
    public var userId: String
    /// The right granted.
    public var rightId: String
    /// Whether the grant is in force.
    public var active: Bool

    public init(id: String) {
        self.id = id
        self.userId = ""
        self.rightId = ""
        self.active = false
    }

    /// The deterministic id generator: the same pair always gives the same id.
    public static let idGenerator = AggregateIdGenerator<UserRight> { command, _ in
        switch command {
        case .grant(let userId, let rightId):
            guard !userId.isEmpty, !rightId.isEmpty else {
                throw UserRightError.invalidPair.error("userId and rightId must not be empty")
            }
            return AggregateIdGenerator<UserRight>.compositeId([userId, rightId])
        }
    }

    public mutating func apply(_ event: UserRightEvent) throws {
        switch event {
        case .granted(let userId, let rightId):
            self.userId = userId
            self.rightId = rightId
            active = true
        case .revoked: active = false
        }
    }

    public func handleCreate(_ command: GrantRight, services: Void, context: CommandContext) async throws
        -> [UserRightEvent]
    {
        switch command {
        case .grant(let userId, let rightId): [.granted(userId: userId, rightId: rightId)]
        }
    }

    public func handleUpdate(_ command: UserRightCommand, services: Void, context: CommandContext) async throws
        -> [UserRightEvent]
    {
        switch command {
        case .revoke:
            guard active else { throw UserRightError.alreadyRevoked.error("Right \(id) is already revoked") }
            return [.revoked]
        }
    }
}

/// What happened to a grant.
@Schema
@EventTypes
public enum UserRightEvent: DomainEvent {
    /// The right was granted to the user.
    case granted(userId: String, rightId: String)
    /// The grant was withdrawn.
    case revoked
}

/// Grants a right to a user.
@Schema
public enum GrantRight: Codable, Sendable, Equatable {
    /// Grants a right to a user; granting the same pair twice fails with a conflict.
    /// - Parameters:
    ///   - userId: The user receiving the right.
    ///   - rightId: The right granted.
    case grant(userId: String, rightId: String)
}

/// Changes a grant.
@Schema
public enum UserRightCommand: Codable, Sendable, Equatable {
    /// Withdraws the grant.
    case revoke
}

/// The user-right domain's error codes (prefix 11).
@DomainErrors(domain: "user_right", prefix: 11)
public enum UserRightError {
    @ErrorCode(1, .conflict)
    case alreadyRevoked
    @ErrorCode(2, .badRequest)
    case invalidPair
}
