/// How ``EventTypes(naming:)`` turns case names into stored event types.
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
@attached(extension, names: named(eventType))
public macro EventTypes(naming: EventTypeNaming = .caseName) = #externalMacro(module: "CQRSSchemaMacros", type: "EventTypesMacro")

/// The stored event type of one case of an ``EventTypes(naming:)`` enum, instead of its case name.
@attached(peer)
public macro EventType(_ name: String) = #externalMacro(module: "CQRSSchemaMacros", type: "EventTypeMacro")
