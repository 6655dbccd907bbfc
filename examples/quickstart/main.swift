import CQRS
import CQRSSQLite

/// What happened to an account: each case is stored under its name (`deposited`).
@EventTypes
enum AccountEvent: DomainEvent {
    case opened(owner: String)
    case deposited(amount: Int)
    case withdrawn(amount: Int)
}

enum OpenAccount: Codable, Sendable {
    case open(owner: String)
}

enum AccountCommand: Codable, Sendable {
    case deposit(amount: Int)
    case withdraw(amount: Int)
}

/// How an account refuses a command: ACCOUNT_INSUFFICIENT_FUNDS, internal code 10001, HTTP 400.
@DomainErrors(domain: "account", prefix: 10)
enum AccountError {
    @ErrorCode(1, .badRequest)
    case insufficientFunds
}

/// A bank account holding a balance in cents.
struct Account: CommandHandler {
    static let aggregateType = "account"
    static var errorCodes: [any DomainErrorCode] { AccountError.allCases }
    var id: String
    var balance = 0
    init(id: String) { self.id = id }

    mutating func apply(_ event: AccountEvent) throws {
        switch event {
        case .opened: break
        case .deposited(let amount): balance += amount
        case .withdrawn(let amount): balance -= amount
        }
    }

    func handleCreate(_ command: OpenAccount, services: Void, context: CommandContext) async throws -> [AccountEvent] {
        switch command { case .open(let owner): [.opened(owner: owner)] }
    }

    func handleUpdate(_ command: AccountCommand, services: Void, context: CommandContext) async throws -> [AccountEvent] {
        switch command {
        case .deposit(let amount): return [.deposited(amount: amount)]
        case .withdraw(let amount):
            guard amount <= balance else {
                throw AccountError.insufficientFunds.error("Cannot withdraw \(amount), balance is \(balance)")
            }
            return [.withdrawn(amount: amount)]
        }
    }
}

let store = try SQLiteEventStore(path: "quickstart.sqlite")
let engine = CommandEngine<Account>(store: store, services: ())
let opened = try await engine.create(.open(owner: "Ada"))
let deposit = try await engine.update(id: opened.aggregateId, .deposit(amount: 500), expectedVersion: 1)
print("version", deposit.version, "at global position", deposit.globalPosition ?? 0)
do {
    _ = try await engine.update(id: opened.aggregateId, .withdraw(amount: 900))
} catch let error as CqrsError {
    print(error.code, error.internalCode, error.status, error.message)  // ACCOUNT_INSUFFICIENT_FUNDS 10001 400 …
}
let page = try await engine.auditLog(id: opened.aggregateId, offset: 0, limit: 20)
print(page.events.map(\.eventType))  // ["opened", "deposited"]
