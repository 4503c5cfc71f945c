//===----------------------------------------------------------------------===//
//
// This source file is part of the ChatKit open source project
//
// Copyright (c) 2026 the ChatKit project authors
// Licensed under Apache License v2.0 (see LICENSE)
//
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AuditedChatStore
import ChatKitCore
import ChatKitSQLite
import ChatKitTesting
import Foundation
import Synchronization
import Testing

/// An adapter's own test: ChatKit's conformance suite, run against the adapter over two different base stores,
/// plus the tests of what the adapter adds.
@Suite("AuditedChatStore (the custom storage adapter example)")
struct AuditedChatStoreTests {
    @Test("conformance over an in-memory store", arguments: ChatStoreConformance.cases)
    func conformanceInMemory(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { AuditedChatStore(InMemoryChatStore(), record: { _ in }) }
    }

    @Test("conformance over a SQLite file", arguments: ChatStoreConformance.cases)
    func conformanceOnSQLite(_ check: ChatStoreConformance.Case) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audited-\(UUID().uuidString).sqlite")
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path.path + suffix) }
        }
        try await check.run { AuditedChatStore(try SQLiteChatStore(path: path.path), record: { _ in }) }
    }

    @Test func recordsChangesAndRefusalsWithoutBodies() async throws {
        let trail = Trail()
        let store = AuditedChatStore(InMemoryChatStore(), record: { trail.append($0) })
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
        let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil)
        let mallory = try await store.createUser(NewUser(username: "mallory"), passwordHash: nil)
        let group = try await store.createConversation(
            NewConversation(kind: .group, title: "Plans", createdBy: alice.id, memberIDs: [bob.id])
        )
        let message = try await store.append(
            NewMessage(conversationID: group.id, senderID: bob.id, clientMessageID: "k", body: "secret plan")
        )
        _ = try await store.editMessage(message.id, body: "the edited secret", by: bob.id)
        await #expect(throws: ChatError.self) {
            try await store.renameConversation(group.id, to: "Mine now", by: mallory.id)
        }
        try await store.removeMember(bob.id, from: group.id, by: alice.id)

        let records = trail.records
        #expect(records.map(\.action) == ["createConversation", "editMessage", "renameConversation", "removeMember"])
        #expect(records[0].target == group.id.rawValue && records[0].outcome == nil)
        #expect(records[1].actor == bob.id && records[1].target == message.id.rawValue)
        #expect(records[2].actor == mallory.id && records[2].outcome == .notFound)
        #expect(records[3].detail == bob.id.rawValue)
        // Appends are not audited, and no record carries a body.
        #expect(!records.contains { "\($0)".contains("secret") })
    }
}

/// The audit records received, from any task.
final class Trail: Sendable {
    private let stored = Mutex<[AuditRecord]>([])
    func append(_ record: AuditRecord) { stored.withLock { $0.append(record) } }
    var records: [AuditRecord] { stored.withLock { $0 } }
}
