import CQRS
import CQRSSchema
import Foundation
import Testing

@Suite("Errors")
struct ErrorTests {
    enum Sample: DomainErrorCode {
        case first, second
        static let domain = "sample"
        static let prefix = 42
        var spec: ErrorSpec {
            switch self {
            case .first: ErrorSpec(1, status: 400, "FIRST_THING")
            case .second: ErrorSpec(7, status: 409, "SECOND_THING")
            }
        }
    }

    enum Clash: DomainErrorCode {
        case one
        static let domain = "clash"
        static let prefix = 42
        var spec: ErrorSpec { ErrorSpec(7, status: 400, "ONE") }
    }

    @Test func domainCodesComposeCodeAndInternalCode() throws {
        let error = Sample.second.error("It clashed", details: ["version": 3])
        #expect(error.code == "SAMPLE_SECOND_THING")
        #expect(error.internalCode == 42007)
        #expect(error.status == 409)
        let json = try CQRSJSON.value(of: error.with(requestId: "r-1"))
        #expect(json == [
            "domain": "sample", "code": "SAMPLE_SECOND_THING", "internalCode": 42007, "status": 409,
            "message": "It clashed", "details": ["version": 3], "requestId": "r-1",
        ])
        let decoded = try CQRSJSON.decode(CqrsError.self, from: json)
        #expect(decoded.status == 409)
        #expect(error.with(requestId: "").requestId == nil)
    }

    @Test func collisionsAreReported() {
        #expect(internalCodeCollisions([InfrastructureError.self, GenericError.self, Sample.self]).isEmpty)
        let collisions = internalCodeCollisions([Sample.self, Clash.self])
        #expect(collisions == ["CLASH_ONE and SAMPLE_SECOND_THING share internal code 42007"])
    }

    @Test func infrastructureCodesKeepTheirNumbers() {
        #expect(InfrastructureError.aggregateNotFound.internalCode == 12)
        #expect(InfrastructureError.concurrencyError.internalCode == 13)
        #expect(InfrastructureError.databaseError.code == "INFRASTRUCTURE_DATABASE_ERROR")
        #expect(GenericError.unprocessableEntity.internalCode == 1422)
        #expect(CqrsError.concurrency(id: "a", expectedVersion: 1, currentVersion: 2).details?["currentVersion"] == 2)
    }

    @Test func problemDocument() throws {
        let error = Sample.first.error("Bad input").with(requestId: "req-9")
        let problem = error.problemDetails()
        #expect(problem.type == "urn:cqrs-error:sample:SAMPLE_FIRST_THING")
        #expect(problem.title == "First thing")
        #expect(problem.status == 400)
        #expect(problem.detail == "Bad input")
        #expect(problem.instance == "urn:cqrs-request:req-9")
        #expect(error.problemDetails(typeBaseURI: "https://errors.example/").type == "https://errors.example/SAMPLE_FIRST_THING")
        #expect(Sample.first.error("x").problemDetails().instance == nil)
        let json = try CQRSJSON.value(of: problem)
        #expect(json["message"] == nil && json["detail"] == "Bad input")
    }

    @Test func unknownErrorsHideTheirDetails() {
        struct Secret: Error { let password = "hunter2" }
        let wrapped = CqrsError.wrapping(Secret())
        #expect(wrapped.status == 500)
        #expect(!wrapped.message.contains("hunter2"))
    }
}
