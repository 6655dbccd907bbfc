import CQRS
import CQRSSchema
import Foundation

/// A bank account holding a balance in cents.
@Schema
public struct Account: CommandHandler, Equatable {
    public static let aggregateType = "account"
    public static var sortableStateFields: [String] { ["balance", "owner", "status"] }
    public static var destructiveCommands: Set<String> { ["close"] }
    public static var errorCodes: [any DomainErrorCode] { AccountError.allCases }

    /// The account id.
    public var id: String
    /// The account holder's name.
    public var owner: String
    /// The balance in cents.
    public var balance: Int
    /// Whether the account is open or closed.
    public var status: AccountStatus

    public init(id: String) {
        self.id = id
        self.owner = ""
        self.balance = 0
        self.status = .open
    }

    public mutating func apply(_ event: AccountEvent) throws {
        switch event {
        case .opened(let owner): self.owner = owner
        case .deposited(let amount): balance += amount
        case .withdrawn(let amount): balance -= amount
        case .closed: status = .closed
        }
    }

    public func handleCreate(_ command: OpenAccount, services: Void, context: CommandContext) async throws
        -> [AccountEvent]
    {
        switch command {
        case .open(let owner):
            let trimmed = owner.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty else { throw AccountError.invalidOwner.error("The owner must not be empty") }
            return [.opened(owner: trimmed)]
        }
    }

    public func handleUpdate(_ command: AccountCommand, services: Void, context: CommandContext) async throws
        -> [AccountEvent]
    {
        guard status == .open else { throw AccountError.accountClosed.error("Account \(id) is closed") }
        switch command {
        case .deposit(let amount):
            try Self.check(amount)
            guard balance <= Int.max - amount else {
                throw AccountError.invalidAmount.error("Depositing \(amount) would overflow the balance")
            }
            return [.deposited(amount: amount)]
        case .withdraw(let amount):
            try Self.check(amount)
            guard amount <= balance else {
                throw AccountError.insufficientFunds.error(
                    "Cannot withdraw \(amount), balance is \(balance)",
                    details: ["amount": .int(amount), "balance": .int(balance)],
                    hint: balance > 0 ? "Withdraw at most \(balance)." : "Deposit first: the balance is 0.")
            }
            return [.withdrawn(amount: amount)]
        case .close:
            return [.closed]
        }
    }

    private static func check(_ amount: Int) throws {
        guard amount > 0 else {
            throw AccountError.invalidAmount.error(
                "Amount must be a positive number of cents, got \(amount)", details: ["amount": .int(amount)])
        }
    }
}

/// Whether an account accepts operations.
@Schema
public enum AccountStatus: String, Codable, Sendable, Equatable {
    /// Accepts deposits and withdrawals.
    case open
    /// Accepts nothing more.
    case closed
}

/// What happened to an account.
@Schema
@EventTypes
public enum AccountEvent: DomainEvent {
    /// The account was opened.
    /// - Parameter owner: The account holder's name.
    case opened(owner: String)
    /// Money was paid in.
    /// - Parameter amount: In cents.
    case deposited(amount: Int)
    /// Money was taken out.
    /// - Parameter amount: In cents.
    case withdrawn(amount: Int)
    /// The account was closed.
    case closed
}

/// Opens a new account.
@Schema
public enum OpenAccount: Codable, Sendable, Equatable {
    /// Opens an account for an owner.
    /// - Parameter owner: The account holder's name (not blank).
    case open(owner: String)
}

/// Changes an existing account.
@Schema
public enum AccountCommand: Codable, Sendable, Equatable {
    /// Pays money in.
    /// - Parameter amount: A positive number of cents.
    case deposit(amount: Int)
    /// Takes money out; fails with ACCOUNT_INSUFFICIENT_FUNDS above the balance.
    /// - Parameter amount: A positive number of cents, at most the balance.
    case withdraw(amount: Int)
    /// Closes the account for good: any later operation fails with ACCOUNT_CLOSED.
    case close
}

/// The account domain's error codes (prefix 10).
@DomainErrors(domain: "account", prefix: 10)
public enum AccountError {
    @ErrorCode(1, .badRequest)
    case insufficientFunds
    @ErrorCode(2, .badRequest, hint: "Amounts are positive whole numbers of cents.")
    case invalidAmount
    // The code is DOMAIN_NAME, so this reads ACCOUNT_CLOSED.
    @ErrorCode(3, .gone, name: "CLOSED", hint: "A closed account takes no more commands: open a new one.")
    case accountClosed
    @ErrorCode(4, .badRequest)
    case invalidOwner
}
