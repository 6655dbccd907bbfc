import CQRSSchema

/// How ``EventTypes(naming:decoding:)`` turns case names into stored event types.
public enum EventTypeNaming: Sendable {
    /// The case name as written: `deposited`, `itemAdded`.
    case caseName
    /// The case name in snake_case: `item_added`.
    case snakeCase
}

/// Generates an event enum's ``DomainEvent/eventType`` from its case names, so that no hand-written
/// switch can drift from the cases:
/// ```swift
/// @EventTypes
/// enum AccountEvent: DomainEvent {
///     case opened(owner: String)   // "opened"
///     @EventType("money_in")
///     case deposited(amount: Int)  // "money_in"
/// }
/// ```
/// Stored events keep their type forever: renaming a case changes its event type unless
/// ``EventType(_:)`` keeps the old name. Two cases with one event type do not compile.
///
/// It also generates the enum's `init(from:)` for Swift's synthesized format (`{"deposited":{"amount":1}}`)
/// and conforms it to `EnumCaseDecodable`, through which stores decode events straight from their
/// JSON text without `Codable`'s containers (replay several times faster). An enum keeps Swift's
/// decoding when it declares its own `init(from:)` or coding keys in its body, has raw values or
/// no associated values, cases under `@available` or members under `#if`. An `init(from:)` in
/// another extension no longer compiles; coding keys in another extension, or an `init(from:)`
/// from a protocol extension, would be bypassed without an error: pass `decoding: .synthesized`.
@attached(extension, conformances: EnumCaseDecodable, names: named(eventType), named(caseKeys), named(init))
public macro EventTypes(naming: EventTypeNaming = .caseName, decoding: EventDecoding = .generated) =
    #externalMacro(module: "CQRSSchemaMacros", type: "EventTypesMacro")

/// Which `init(from:)` an ``EventTypes(naming:decoding:)`` enum gets.
public enum EventDecoding: Sendable {
    /// One generated from the cases in Swift's synthesized format, which stores also use to decode
    /// events straight from their JSON text (several times faster replay).
    case generated
    /// Swift's own: the synthesized one, or yours wherever it is declared (coding keys or an
    /// `init(from:)` in another extension or a protocol extension, which the macro cannot see).
    case synthesized
}

/// The stored event type of one case of an ``EventTypes(naming:decoding:)`` enum, instead of its case name.
@attached(peer)
public macro EventType(_ name: String) = #externalMacro(module: "CQRSSchemaMacros", type: "EventTypeMacro")

/// The decoding protocols of `CQRSSchema` under `CQRS`, for the code ``EventTypes(naming:decoding:)``
/// generates in modules that import only `CQRS`.
public typealias EnumCaseDecodable = CQRSSchema.EnumCaseDecodable
/// `CQRSSchema.EnumCaseReader`, for generated code.
public typealias EnumCaseReader = CQRSSchema.EnumCaseReader
/// `CQRSSchema.CodableEnumCaseReader`, for generated code.
public typealias CodableEnumCaseReader = CQRSSchema.CodableEnumCaseReader
