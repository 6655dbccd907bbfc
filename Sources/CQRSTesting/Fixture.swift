import CQRS
import Foundation

/// A failed expectation of the testing kit, with a message that says what differed.
public struct ExpectationFailure: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public var description: String
    /// Where the expectation was written.
    public var location: String

    init(_ description: String, file: StaticString, line: UInt) {
        self.description = description
        self.location = "\(file):\(line)"
    }
}

/// Given/when/then tests of a command handler, without any store:
/// ```swift
/// try await AggregateFixture<Account>(services: ())
///     .given([.opened(owner: "Ada"), .deposited(amount: 200)])
///     .when(.withdraw(amount: 500))
///     .thenExpectError("ACCOUNT_INSUFFICIENT_FUNDS")
/// ```
public struct AggregateFixture<A: CommandHandler>: Sendable {
    private let services: A.Services
    private let id: String
    private let context: CommandContext
    private let history: [A.Event]

    /// A fixture for the aggregate `id` with the given services and context.
    public init(
        services: A.Services, id: String = "fixture-id",
        context: CommandContext = CommandContext(currentUser: "tester", requestId: "fixture-request")
    ) {
        self.init(services: services, id: id, context: context, history: [])
    }

    private init(services: A.Services, id: String, context: CommandContext, history: [A.Event]) {
        self.services = services
        self.id = id
        self.context = context
        self.history = history
    }

    /// The aggregate's past events.
    public func given(_ events: [A.Event]) -> AggregateFixture<A> {
        AggregateFixture(services: services, id: id, context: context, history: history + events)
    }

    /// Runs an update command on the state the past events build.
    public func when(_ command: A.UpdateCommand) async -> FixtureOutcome<A> {
        do {
            let state = try replay()
            return FixtureOutcome(result: .success(try await state.handleUpdate(command, services: services, context: context)))
        } catch {
            return FixtureOutcome(result: .failure(CqrsError.wrapping(error)))
        }
    }

    /// Runs a create command on the initial state (the past events, if any, are applied first).
    public func whenCreate(_ command: A.CreateCommand) async -> FixtureOutcome<A> {
        do {
            let state = try replay()
            return FixtureOutcome(result: .success(try await state.handleCreate(command, services: services, context: context)))
        } catch {
            return FixtureOutcome(result: .failure(CqrsError.wrapping(error)))
        }
    }

    private func replay() throws -> A {
        var state = A(id: id)
        for event in history { try state.apply(event) }
        return state
    }
}

/// The outcome of a fixture's command, to check with `then…`.
public struct FixtureOutcome<A: CommandHandler>: Sendable {
    /// The events decided, or the error.
    public let result: Result<[A.Event], CqrsError>

    /// Expects exactly these events.
    public func thenExpect(_ expected: [A.Event], file: StaticString = #filePath, line: UInt = #line) throws {
        switch result {
        case .success(let events) where events == expected: return
        case .success(let events):
            throw ExpectationFailure("Expected events \(expected), got \(events)", file: file, line: line)
        case .failure(let error):
            throw ExpectationFailure("Expected events \(expected), got error \(error)", file: file, line: line)
        }
    }

    /// Expects an error with this code (e.g. `"ACCOUNT_INSUFFICIENT_FUNDS"`); returns it for more checks.
    @discardableResult
    public func thenExpectError(_ code: String, file: StaticString = #filePath, line: UInt = #line) throws -> CqrsError {
        switch result {
        case .failure(let error) where error.code == code: return error
        case .failure(let error):
            throw ExpectationFailure("Expected error \(code), got \(error)", file: file, line: line)
        case .success(let events):
            throw ExpectationFailure("Expected error \(code), got events \(events)", file: file, line: line)
        }
    }
}
