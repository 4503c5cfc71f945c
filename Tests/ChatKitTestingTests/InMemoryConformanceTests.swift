import ChatKitCore
import ChatKitTesting
import Testing

@Suite("InMemoryChatStore conformance")
struct InMemoryConformanceTests {
    @Test(arguments: ChatStoreConformance.cases)
    func conformance(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { InMemoryChatStore() }
    }
}
