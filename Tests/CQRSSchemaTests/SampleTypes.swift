import CQRSSchema
import Foundation

/// A postal address.
@Schema
struct Address: Codable, Equatable {
    /// Street and number.
    var street: String
    var zip: String
}

/// A bank account.
///
/// Opened by a customer; closed accounts keep their history.
@Schema
struct Account: Codable, Equatable {
    /// The account identifier.
    let id: UUID
    /// Owner's display name,
    /// as shown on statements.
    var owner: String
    var balance: Int
    var nickname: String?
    var tags: [String]
    var limits: [String: Double]
    var opened: Date
    var website: URL?
    var flags: Set<Int8>
    var metadata: JSONValue
    var maybe: Optional<Int64>
    var list: Array<UInt16>
    var small: UInt8
    var ratio: Float
    var legacy: Int!
    var home: Address
    var history: [Address]?
    var `default`: Bool = false
    var first, second: Int32

    static let version = 2
    static var registry: [String] { [] }
    var doubled: Int { balance * 2 }
    var observed: Int = 0 {
        didSet { balance += 0 }
    }
}

/// A person with wire names differing from Swift names.
@Schema
struct Person: Codable, Equatable {
    var firstName: String
    var lastName: String?
    /// Only kept in memory.
    var cache: String = ""
    /// Always written, never read back.
    let kind: String = "person"

    enum CodingKeys: String, CodingKey {
        case firstName = "first_name"
        case lastName = "last_name", kind
    }
}

/// A currency.
@Schema
enum Currency: String, Codable, CaseIterable {
    /// US dollar.
    case usd
    case eur = "EUR"
    case gbp, chf = "Swiss \"franc\""
}

@Schema
enum Priority: Int, Codable, CaseIterable {
    case low = -1, normal, high = 10, urgent
}

/// A command on an account.
@Schema
enum Command: Codable, Equatable {
    /// Deposit money.
    case deposit(amount: Int, memo: String?)
    /// Withdraw to a destination.
    case withdraw(Int, to: String)
    case close
    case transfer(to: Address, amounts: [Int], currency: Currency)
    case annotate(Address?)
    case tag(_ name: String, count: Int, Int)
}

/// A command whose wire names are customized.
@Schema
enum RenamedCommand: Codable, Equatable {
    case deposit(amount: Int, note: String = "")
    case freeze
    case `default`(Priority)

    enum CodingKeys: String, CodingKey {
        case deposit = "Deposit"
        case freeze = "FREEZE"
        case `default`
    }

    enum DepositCodingKeys: String, CodingKey {
        case amount = "amt"
    }
}

/// An event envelope nesting the other shapes.
@Schema
struct Envelope: Codable, Equatable {
    var commands: [Command]
    var byName: [String: RenamedCommand]
    var currency: Currency?
    var priorities: Set<Priority>
    var people: [Person]?
}

@Schema
struct Empty: Codable, Equatable {}

/// Nested declarations and less common property types.
@Schema
struct Ledger: Codable, Equatable {
    /// A ledger state.
    @Schema
    enum Status: String, Codable {
        case open, closed
    }

    var status: Status
    var amount: Decimal
    var blob: Data
    var entries: [[String: [Int?]]]
}

/// Commands documented the DocC way.
@Schema
enum DocumentedCommand: Codable, Equatable {
    /// Pays money in.
    /// - Parameter amount: A positive number of cents.
    /// - Parameter memo: Shown on the statement;
    ///   at most one line.
    case deposit(amount: Int, memo: String?)
    /// Moves money.
    ///
    /// - Parameters:
    ///   - to: The destination account.
    ///   - _0: The amount in cents.
    case transfer(Int, to: String)
}
