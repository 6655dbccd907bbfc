import CQRS
import CQRSTesting
import Testing

struct InMemoryBackend: ConformanceBackend {
    func makeEventStore() async throws -> any EventStore { InMemoryEventStore() }
    func makeReadStorage<M: ReadModel>(_ type: M.Type) async throws -> any ReadStorage<M> { InMemoryReadStorage<M>() }
}

@Suite("In-memory backend conformance")
struct InMemoryConformanceTests {
    @Test(arguments: ConformanceCheck.allCases)
    func conformance(_ check: ConformanceCheck) async throws {
        try await ConformanceSuite(backend: InMemoryBackend()).run(check)
    }
}
