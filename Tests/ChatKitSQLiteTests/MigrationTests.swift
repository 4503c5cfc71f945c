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

import ChatKitCore
import Foundation
import GRDB
import Testing

@testable import ChatKitSQLite

@Suite("Migrations")
struct MigrationTests {
    @Test("a database written by the first schema version migrates with its data intact")
    func migratesFirstVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v1.sqlite").path
            let old = try await writeFirstVersion(path)
            let before = try DatabaseQueue(path: path)
            #expect(try await before.read { try Schema.migrator.appliedMigrations($0) } == [Schema.v1])
            #expect(try await before.read { try $0.tableExists("messageSearch") } == false)
            try before.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            #expect(try await store.user(username: "alice")?.id == old.alice)
            #expect(try await store.credentials(of: old.alice)?.passwordHash == "hash")
            #expect(try await store.messages(in: old.group, .latest(), as: old.bob) == old.written)
            #expect(try await store.markers(of: old.group, as: old.alice).first { $0.userID == old.bob }?.readSeq == 2)
            let events = try await store.events(for: old.bob, after: .start, limit: 100).events
            #expect(
                events.map(\.kind) == [
                    .conversationCreated, .messageCreated, .messageCreated, .messageCreated, .markerUpdated,
                ]
            )
            // The new search index was filled from the messages already there.
            let hits = try await store.search("cafe", as: old.bob, in: nil, limit: 10)
            #expect(Set(hits.map(\.message.id)) == [old.written[0].id, old.written[2].id])
            // And the store carries on where the old version stopped.
            let next = try await store.append(
                NewMessage(conversationID: old.group, senderID: old.bob, body: "Un autre café")
            )
            #expect(next.seq == 4)
            #expect(try await store.search("cafe", as: old.bob, in: old.group, limit: 10).count == 3)
        }
    }

    @Test("every migration is applied to a new database")
    func newDatabaseIsCurrent() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let applied = try await store.writer.read { try Schema.migrator.appliedMigrations($0) }
        #expect(applied == [Schema.v1, Schema.v2])
    }

    /// Writes a database with only the first migration applied, through the store on that schema.
    private func writeFirstVersion(_ path: String) async throws
        -> (alice: UserID, bob: UserID, group: ConversationID, written: [Message])
    {
        let v1 = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v1)
        defer { try? v1.close() }
        let alice = try await v1.createUser(NewUser(username: "alice"), passwordHash: "hash")
        let bob = try await v1.createUser(NewUser(username: "bob"), passwordHash: nil)
        let group = try await v1.createConversation(.group("Café", createdBy: alice.id, members: [bob.id]))
        var written: [Message] = []
        for body in ["Un café, s'il vous plaît", "Crème brûlée", "See you at the cafe"] {
            written.append(try await v1.append(NewMessage(conversationID: group.id, senderID: alice.id, body: body)))
        }
        _ = try await v1.markRead(group.id, upTo: 2, by: bob.id)
        return (alice.id, bob.id, group.id, written)
    }
}
