import Bank
import CQRS
import CQRSTesting
import Foundation
import Testing

@Suite("Bank domain")
struct BankTests {
    let fixture = AggregateFixture<Account>(services: ())

    @Test func openDepositWithdraw() async throws {
        try await fixture.whenCreate(.open(owner: " Ada ")).thenExpect([.opened(owner: "Ada")])
        try await fixture.given([.opened(owner: "Ada")]).when(.deposit(amount: 200)).thenExpect([.deposited(amount: 200)])
        try await fixture.given([.opened(owner: "Ada"), .deposited(amount: 200)]).when(.withdraw(amount: 150))
            .thenExpect([.withdrawn(amount: 150)])
    }

    @Test func insufficientFunds() async throws {
        let error = try await fixture.given([.opened(owner: "Ada"), .deposited(amount: 200)])
            .when(.withdraw(amount: 500)).thenExpectError("ACCOUNT_INSUFFICIENT_FUNDS")
        #expect(error.message == "Cannot withdraw 500, balance is 200")
        #expect(error.internalCode == 10001 && error.status == 400)
    }

    @Test(arguments: [0, -5, Int.min])
    func invalidAmounts(_ amount: Int) async throws {
        let opened = fixture.given([.opened(owner: "Ada"), .deposited(amount: 10)])
        try await opened.when(.deposit(amount: amount)).thenExpectError("ACCOUNT_INVALID_AMOUNT")
        try await opened.when(.withdraw(amount: amount)).thenExpectError("ACCOUNT_INVALID_AMOUNT")
    }

    @Test func overflowIsRefused() async throws {
        try await fixture.given([.opened(owner: "Ada"), .deposited(amount: Int.max)]).when(.deposit(amount: 1))
            .thenExpectError("ACCOUNT_INVALID_AMOUNT")
    }

    @Test func closedAccountsAreGone() async throws {
        let closed = fixture.given([.opened(owner: "Ada"), .closed])
        let error = try await closed.when(.deposit(amount: 1)).thenExpectError("ACCOUNT_CLOSED")
        #expect(error.status == 410 && error.internalCode == 10003)
        try await closed.when(.close).thenExpectError("ACCOUNT_CLOSED")
    }

    @Test func emptyOwnerIsRefused() async throws {
        try await fixture.whenCreate(.open(owner: "  ")).thenExpectError("ACCOUNT_INVALID_OWNER")
    }

    @Test func errorCodesAreUnique() {
        #expect(internalCodeCollisions([InfrastructureError.self, GenericError.self, AccountError.self, UserRightError.self]).isEmpty)
    }

    @Test func viewsFollowTheAccount() async throws {
        let store = InMemoryEventStore()
        let movements = InMemoryReadStorage<Movement>()
        let summaries = InMemoryReadStorage<AccountSummary>()
        let states = InMemoryReadStorage<AggregateState<Account>>()
        let projector = Projector(
            store: store,
            projections: [
                RegisteredProjection(ViewProjection<Movement>(), storage: movements),
                RegisteredProjection(ViewProjection<AccountSummary>(), storage: summaries),
                RegisteredProjection(LatestStateProjection<Account>(), storage: states),
            ])
        defer { projector.stop() }
        let engine = CommandEngine<Account>(store: store, services: (), dispatchers: [projector.dispatcher(for: Account.self)])
        let id = try await engine.create(.open(owner: "Ada")).aggregateId
        _ = try await engine.update(id: id, .deposit(amount: 500))
        _ = try await engine.update(id: id, .withdraw(amount: 120))
        let page = try await movements.query(ReadQuery(sort: [SortKey("version")]), parentId: id)
        #expect(page.items.map(\.kind) == [.deposit, .withdrawal])
        #expect(page.items.map(\.amount) == [500, 120])
        let summary = try await summaries.find(id: id, parentId: nil)
        #expect(summary?.balance == 380 && summary?.movementCount == 2 && summary?.owner == "Ada")
        let rich = try await states.query(
            ReadQuery(filter: .compare(field: "state.balance", op: .gte, value: 300), sort: [SortKey("state.balance")]), parentId: nil)
        #expect(rich.items.map(\.id) == [id])
        #expect(rich.items.first?.version == 3)
    }

    /// A commit wakes only the projections its aggregate type feeds; a status read catches the
    /// others up, so that it shows no lag right after a command.
    @Test func statusRightAfterACommandShowsNoLag() async throws {
        let app = try BankApp(
            store: InMemoryEventStore(), storages: .inMemory(), projectorOptions: .init(idlePoll: .seconds(3600)))
        defer { app.projector.stop() }
        let id = try await app.accounts.create(.open(owner: "Ada")).aggregateId
        // Every loop has claimed its lease (they start with the first command).
        for _ in 0..<500 {
            if try await app.projector.status().allSatisfy(\.runsHere) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        let deposit = try await app.accounts.update(id: id, .deposit(amount: 5))
        let status = try await app.projector.status()
        #expect(Set(status.map(\.name)) == ["account", "movement", "account_summary", "user_right"])
        for projection in status {
            #expect(projection.lag == 0 && projection.checkpoint == deposit.globalPosition && !projection.stalled, "\(projection)")
        }
    }

    @Test func userRightIdsAreDeterministic() async throws {
        let engine = CommandEngine<UserRight>(store: InMemoryEventStore(), services: (), idGenerator: UserRight.idGenerator)
        let granted = try await engine.create(.grant(userId: "user_42", rightId: "right_7"))
        #expect(granted.aggregateId == "user_42:right_7")
        let error = await #expect(throws: CqrsError.self) {
            try await engine.create(.grant(userId: "user_42", rightId: "right_7"))
        }
        #expect(error?.code == "INFRASTRUCTURE_AGGREGATE_ALREADY_EXISTS" && error?.status == 409)
        _ = try await engine.update(id: "user_42:right_7", .revoke)
        let again = await #expect(throws: CqrsError.self) { try await engine.update(id: "user_42:right_7", .revoke) }
        #expect(again?.code == "USER_RIGHT_ALREADY_REVOKED" && again?.status == 409)
    }

    /// Issue 8.4: a plain `{userId}_{rightId}` join made (`a_b`, `c`) and (`a`, `b_c`) one aggregate.
    @Test func userRightIdsAreOneToOne() async throws {
        let engine = CommandEngine<UserRight>(store: InMemoryEventStore(), services: (), idGenerator: UserRight.idGenerator)
        let pairs = [("a_b", "c"), ("a", "b_c"), ("a:b", "c"), ("a", "b:c"), ("a%3Ab", "c"), ("a%", "3Ab:c")]
        var ids: Set<String> = []
        for (user, right) in pairs {
            ids.insert(try await engine.create(.grant(userId: user, rightId: right)).aggregateId)
        }
        #expect(ids.count == pairs.count)
        _ = try await engine.update(id: AggregateIdGenerator<UserRight>.compositeId(["a_b", "c"]), .revoke)
        let other = try await engine.load(id: AggregateIdGenerator<UserRight>.compositeId(["a", "b_c"]))
        #expect(other?.state.active == true && other?.state.userId == "a")
    }
}
