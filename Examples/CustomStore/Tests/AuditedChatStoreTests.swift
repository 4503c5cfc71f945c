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
@Suite("AuditedChatStore (the custom storage adapter example)", .serialized)
struct AuditedChatStoreTests {
    @Test("conformance over an in-memory store", arguments: ChatStoreConformance.cases)
    func conformanceInMemory(_ check: ChatStoreConformance.Case) async throws {
        try await check.run { AuditedChatStore(InMemoryChatStore(), record: { _ in }) }
    }

    @Test("conformance over a SQLite file", arguments: ChatStoreConformance.cases)
    func conformanceOnSQLite(_ check: ChatStoreConformance.Case) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audited-\(UUID().uuidString).sqlite")
        defer { removeDatabaseFiles(at: path.path) }
        try await check.run { AuditedChatStore(try SQLiteChatStore(path: path.path), record: { _ in }) }
    }

    @Test("random calls answered as the in-memory reference answers them", arguments: 1...4 as ClosedRange<UInt64>)
    func matchesTheReference(seed: UInt64) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audited-\(UUID().uuidString).sqlite")
        defer { removeDatabaseFiles(at: path.path) }
        try await ReferenceComparison.run(seed: seed) { now in
            AuditedChatStore(
                try SQLiteChatStore(configuration: .init(location: .file(path.path), now: now)), record: { _ in }
            )
        }
    }

    @Test("durability over a SQLite file, closed and opened again", arguments: ChatStoreConformance.durabilityCases)
    func durabilityOnSQLite(_ check: ChatStoreConformance.DurabilityCase) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audited-\(UUID().uuidString).sqlite")
        defer { removeDatabaseFiles(at: path.path) }
        try await check.run {
            ChatStoreConformance.DurableSubject(
                open: { AuditedChatStore(try SQLiteChatStore(path: path.path), record: { _ in }) },
                close: { try (($0 as? AuditedChatStore)?.base as? SQLiteChatStore)?.close() }
            )
        }
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
        let channel = try await store.createConversation(
            NewConversation(kind: .channel, title: "News", createdBy: alice.id, memberIDs: [])
        )
        _ = try await store.joinChannel(channel.id, user: mallory.id)
        await #expect(throws: ChatError.self) { try await store.joinChannel(group.id, user: mallory.id) }

        let records = trail.records
        #expect(
            records.map(\.action) == [
                "createConversation", "editMessage", "renameConversation", "removeMember", "createConversation",
                "joinChannel", "joinChannel",
            ]
        )
        #expect(records[0].target == group.id.rawValue && records[0].outcome == nil)
        #expect(records[1].actor == bob.id && records[1].target == message.id.rawValue)
        #expect(records[2].actor == mallory.id && records[2].outcome == .notFound)
        #expect(records[3].detail == bob.id.rawValue)
        #expect(records[5].actor == mallory.id && records[5].target == channel.id.rawValue && records[5].outcome == nil)
        #expect(records[6].outcome != nil, "joining a group is refused, and the refusal recorded")
        // Appends are not audited, and no record carries a body.
        #expect(!records.contains { "\($0)".contains("secret") })
    }
}

/// An in-memory store that counts the batches of appends it is given.
final class BatchCountingStore: ChatStoreDecorator {
    let base: any ChatStore = InMemoryChatStore()
    let batches = Mutex<[Int]>([])

    func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
        batches.withLock { $0.append(messages.count) }
        return await base.append(contentsOf: messages)
    }
}

extension AuditedChatStoreTests {
    @Test func passesBatchesOfAppendsOnWhole() async throws {
        // The protocol's default appended a batch one message at a time: a SQLite base committed each alone.
        let base = BatchCountingStore()
        let store = AuditedChatStore(base, record: { _ in })
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
        let group = try await store.createConversation(
            NewConversation(kind: .group, title: "Plans", createdBy: alice.id, memberIDs: [])
        )
        let outcomes = await store.append(
            contentsOf: (1...3).map { NewMessage(conversationID: group.id, senderID: alice.id, body: "message \($0)") }
        )
        #expect(try outcomes.map { try $0.get().seq } == [1, 2, 3])
        #expect(base.batches.withLock { $0 } == [3])
    }
}

/// The audit records received, from any task.
final class Trail: Sendable {
    private let stored = Mutex<[AuditRecord]>([])
    func append(_ record: AuditRecord) { stored.withLock { $0.append(record) } }
    var records: [AuditRecord] { stored.withLock { $0 } }
}

/// Removes a SQLite store's database at `path` and the files beside it: its write-ahead log, and the search index's
/// file with its own log (`PATH-search`).
func removeDatabaseFiles(at path: String) {
    for suffix in ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"] {
        try? FileManager.default.removeItem(atPath: path + suffix)
    }
}
