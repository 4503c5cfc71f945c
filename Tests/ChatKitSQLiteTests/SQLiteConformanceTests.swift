import ChatKitCore
import ChatKitSQLite
import ChatKitTesting
import Foundation
import Testing

@Suite("SQLiteChatStore conformance")
struct SQLiteConformanceTests {
    @Test("file database", arguments: ChatStoreConformance.cases)
    func fileDatabase(_ check: ChatStoreConformance.Case) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await check.run { try SQLiteChatStore(path: path) }
        }
    }

    @Test("in-memory database", arguments: ChatStoreConformance.cases)
    func inMemoryDatabase(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { try SQLiteChatStore(configuration: .inMemory) }
    }
}
