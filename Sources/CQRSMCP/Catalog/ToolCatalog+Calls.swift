import CQRS
import CQRSCatalog
import CQRSSchema
import Foundation

/// Tool calls: validation, confirmation of destructive commands, and next steps after an error.
extension ToolCatalog {
    public func callTool(name: String, arguments: JSONValue?, context: MCPCallContext) async throws -> MCPToolResult {
        guard let operation = catalog.operation(named: name) else {
            throw MCPError.invalidParams("Unknown tool: \(name)", data: ["name": .string(name)])
        }
        let commandContext = Self.commandContext(context, defaultUser: catalog.options.defaultUser)
        do {
            let arguments = arguments ?? .object([:])
            let output: JSONValue
            if let elicit = context.elicit, Self.needsConfirmation(operation, arguments) {
                output = try await confirmThenCall(operation, arguments: arguments, context: commandContext, elicit: elicit)
            } else {
                output = try await catalog.call(operation, arguments: arguments, context: commandContext)
            }
            return MCPToolResult(
                structuredContent: output, text: Self.textMirror(of: output, version: context.protocolVersion), isError: false)
        } catch {
            let failure = CqrsError.wrapping(error)
            return Self.errorResult(
                failure.with(requestId: commandContext.requestId), nextStep: nextStep(after: failure, in: operation))
        }
    }

    /// Whether a call would stop at the destructive-command confirmation (`confirm` is an argument of
    /// the operation, the call does not set it, and it is no dry run).
    static func needsConfirmation(_ operation: CatalogOperation, _ arguments: JSONValue) -> Bool {
        operation.input.schema["properties"]?["confirm"] != nil && arguments["confirm"] != .bool(true)
            && arguments["dryRun"] != .bool(true)
    }

    /// Asks the user to confirm a destructive command through elicitation, then runs it: the
    /// unconfirmed call says what would happen (or fails for its own reason, which is then the
    /// answer, or succeeds, e.g. an idempotent replay); the command runs with `confirm: true` only
    /// when the user accepts and ticks the box, and with the version the user saw as
    /// `expectedVersion`, so that a change while the question was open is a conflict.
    private func confirmThenCall(
        _ operation: CatalogOperation, arguments: JSONValue, context: CommandContext,
        elicit: @Sendable (String, JSONValue) async throws -> JSONValue
    ) async throws -> JSONValue {
        let question: CqrsError
        do {
            return try await catalog.call(operation, arguments: arguments, context: context)
        } catch let error as CqrsError where error.code == GenericError.preconditionRequired.code {
            question = error
        }
        let schema: JSONValue = [
            "type": "object", "required": ["confirm"],
            "properties": [
                "confirm": [
                    "type": "boolean", "title": .string("Run \(operation.name)"),
                    "description": "Check to go ahead; this cannot be undone.",
                ]
            ],
        ]
        let answer: JSONValue
        do {
            answer = try await elicit("\(operation.title): \(question.message). Go ahead?", schema)
        } catch {
            throw GenericError.preconditionRequired.error(
                "\(question.message); the confirmation request got no answer (\((error as? MCPError)?.message ?? "\(error)"))",
                hint: "Ask the user, then call again with confirm set to true.")
        }
        guard answer["action"] == "accept", answer["content"]?["confirm"] == .bool(true) else {
            throw GenericError.preconditionRequired.error(
                "\(question.message); the user did not confirm (\(answer["action"]?.stringValue ?? "no answer")): nothing was done",
                details: ["action": answer["action"] ?? .null],
                hint: "The user declined: do not retry unless they ask for it.")
        }
        var confirmed = arguments.objectValue ?? [:]
        confirmed["confirm"] = true
        if confirmed["expectedVersion"] == nil, let seen = question.details?["currentVersion"], seen.intValue ?? 0 > 0 {
            confirmed["expectedVersion"] = seen
        }
        return try await catalog.call(operation, arguments: .object(confirmed), context: context)
    }

    /// What an agent should do after an error, for the first line of its text.
    func nextStep(after error: CqrsError, in operation: CatalogOperation) -> String? {
        if let hint = error.hint { return hint }
        let type = operation.group
        switch error.code {
        case InfrastructureError.concurrencyError.code:
            guard let current = error.details?["currentVersion"]?.intValue else {
                return "Another writer keeps changing it: wait a moment and retry."
            }
            return "It is at version \(current): read it again with \(type)_get and retry with expectedVersion \(current) if the command still applies."
        case InfrastructureError.aggregateNotFound.code, InfrastructureError.notFound.code:
            return catalog.operation(named: "\(type)_list") == nil
                ? "Check the id." : "Check the id; \(type)_list lists the existing ones."
        case InfrastructureError.aggregateAlreadyExists.code: return "It exists already: read it with \(type)_get."
        case InfrastructureError.idempotencyKeyReused.code:
            return "That idempotencyKey belongs to another command: use a new key for this one."
        case InfrastructureError.validationFailed.code:
            return error.details?["violations"] == nil ? "Fix that argument and call again." : "Fix the arguments listed below and call again."
        case InfrastructureError.serviceUnavailable.code: return "The store is unreachable: retry in a few seconds."
        default: return nil
        }
    }
}
