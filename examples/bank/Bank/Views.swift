import CQRS
import CQRSSchema
import Foundation

/// One deposit or withdrawal, listed under its account.
@Schema
public struct Movement: View, Equatable {
    public typealias Source = Account
    public static let modelType = "movement"
    public static let isChild = true
    public static var sortableFields: Set<String> { ["amount", "version", "occurredAt", "kind"] }

    /// The id of the event that made the movement.
    public var id: String
    /// The account the movement belongs to.
    public var accountId: String
    /// Deposit or withdrawal.
    public var kind: MovementKind
    /// The amount in cents (always positive).
    public var amount: Int
    /// The account version the movement produced.
    public var version: Int
    /// When the movement happened.
    public var occurredAt: Date

    public var parentId: String? { accountId }

    public static func key(for event: EventEnvelope<AccountEvent>) -> ViewKey? {
        switch event.payload {
        case .deposited, .withdrawn:
            ViewKey(id: event.eventId.uuidString.lowercased(), parentId: event.aggregateId)
        case .opened, .closed: nil
        }
    }

    public static func project(_ current: Movement?, _ event: EventEnvelope<AccountEvent>) -> ViewChange<Movement> {
        let kind: MovementKind
        let amount: Int
        switch event.payload {
        case .deposited(let value): (kind, amount) = (.deposit, value)
        case .withdrawn(let value): (kind, amount) = (.withdrawal, value)
        case .opened, .closed: return .unchanged
        }
        return .upsert(
            Movement(
                id: event.eventId.uuidString.lowercased(), accountId: event.aggregateId, kind: kind, amount: amount,
                version: event.version, occurredAt: event.occurredAt))
    }
}

/// The direction of a movement.
@Schema
public enum MovementKind: String, Codable, Sendable, Equatable {
    /// Money paid in.
    case deposit
    /// Money taken out.
    case withdrawal
}

/// One line per account: owner, balance and activity.
@Schema
public struct AccountSummary: View, Equatable {
    public typealias Source = Account
    public static let modelType = "account_summary"
    public static var sortableFields: Set<String> { ["owner", "balance", "movementCount", "status"] }

    /// The account id.
    public var id: String
    /// The account holder.
    public var owner: String
    /// The balance in cents.
    public var balance: Int
    /// Open or closed.
    public var status: AccountStatus
    /// How many deposits and withdrawals were made.
    public var movementCount: Int
    /// When the account last changed.
    public var updatedAt: Date

    public static func key(for event: EventEnvelope<AccountEvent>) -> ViewKey? {
        ViewKey(id: event.aggregateId)
    }

    public static func project(_ current: AccountSummary?, _ event: EventEnvelope<AccountEvent>)
        -> ViewChange<AccountSummary>
    {
        var summary =
            current
            ?? AccountSummary(
                id: event.aggregateId, owner: "", balance: 0, status: .open, movementCount: 0,
                updatedAt: event.occurredAt)
        switch event.payload {
        case .opened(let owner): summary.owner = owner
        case .deposited(let amount):
            summary.balance += amount
            summary.movementCount += 1
        case .withdrawn(let amount):
            summary.balance -= amount
            summary.movementCount += 1
        case .closed: summary.status = .closed
        }
        summary.updatedAt = event.occurredAt
        return .upsert(summary)
    }
}
