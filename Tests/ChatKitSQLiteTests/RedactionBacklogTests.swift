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
import ChatKitTesting
import Foundation
import GRDB
import Testing

@testable import ChatKitSQLite

/// A message with more copies in events (reactions added and removed again and again) than one transaction rewrites:
/// its deletion rewrote every copy while holding the writer. It now rewrites a bounded number, and the rest in the
/// background or after a restart.
@Suite("Deleting a message copied into many events")
struct RedactionBacklogTests {
    /// A group with a message of alice's that bob reacted to and unreacted `toggles` times (two copies each).
    func muchCopiedMessage(_ store: SQLiteChatStore, toggles: Int) async throws -> (Message, UserID) {
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let group = try await fixture.group(alice, [bob])
        let message = try await fixture.send("the secret plan", from: alice, to: group)
        for _ in 0..<toggles {
            _ = try await store.addReaction("👀", to: message.id, by: bob)
            _ = try await store.removeReaction("👀", from: message.id, by: bob)
        }
        return (message, bob)
    }

    /// How many stored events hold `text`, and how many backlog entries wait.
    func copiesAndBacklog(of text: String, _ store: SQLiteChatStore) async throws -> (copies: Int, backlog: Int) {
        try await store.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE instr(payload, ?) > 0", arguments: [text])
                    ?? 0,
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM redactionBacklog") ?? 0
            )
        }
    }

    @Test("the deletion rewrites a bounded number of copies, the background the rest; readers never see the text")
    func theBackgroundRewritesTheRest() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let held = try SQLiteChatStore(
                configuration: .init(path: path), migratingUpTo: nil, redactsInBackground: false
            )
            let toggles = EventRedactions.candidatesPerTransaction * 2
            let (message, bob) = try await muchCopiedMessage(held, toggles: toggles)
            // Each reaction event, and the copy of the message as created that its first change stored.
            #expect(try await copiesAndBacklog(of: "secret", held).copies == toggles * 2 + 1)

            _ = try await held.deleteMessage(message.id, by: message.senderID)
            let left = try await copiesAndBacklog(of: "secret", held)
            #expect(left.copies == toggles * 2 - EventRedactions.candidatesPerTransaction, "one transaction's worth")
            #expect(left.backlog == 1)
            // What readers get shows the tombstone in every event meanwhile.
            let events = try await held.events(for: bob, after: .start, limit: .max).events
            #expect(events.filter { $0.message?.id == message.id }.allSatisfy { $0.message?.isDeleted == true })
            #expect(events.count >= toggles * 2)
            try held.close()

            // The same, with the background work: every copy goes, and the backlog with them.
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            await store.redactions.waitUntilIdle()
            let done = try await copiesAndBacklog(of: "secret", store)
            #expect(done.copies == 0)
            #expect(done.backlog == 0)
        }
    }

    @Test("without a backlog left, a store at work redacts a much-copied message in the background")
    func aLiveDeletionFinishesInTheBackground() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let (message, _) = try await muchCopiedMessage(store, toggles: EventRedactions.candidatesPerTransaction)
            let other = try await StoreFixture(store).send(
                "the public plan", from: message.senderID, to: message.conversationID
            )
            _ = try await store.deleteMessage(message.id, by: message.senderID)
            await store.redactions.waitUntilIdle()
            let done = try await copiesAndBacklog(of: "secret", store)
            #expect(done.copies == 0)
            #expect(done.backlog == 0)
            // Other messages' events are untouched, and the store goes on taking writes.
            #expect(try await copiesAndBacklog(of: "public plan", store).copies == 0)  // its own row is its event
            _ = try await store.addReaction("👍", to: other.id, by: message.senderID)
            let copies = try await copiesAndBacklog(of: "public plan", store).copies
            #expect(copies == 2, "its creation's copy and the reaction")
        }
    }

    @Test("a backlog whose message is gone or no longer deleted is dropped")
    func aStaleEntryIsDropped() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let (message, _) = try await muchCopiedMessage(store, toggles: 1)
            try await store.writer.write { db in
                try db.execute(
                    sql: "INSERT INTO redactionBacklog (messageID, afterPosition) VALUES (?, 0), ('gone', 0)",
                    arguments: [message.id.rawValue]
                )
            }
            store.redactions.noteBacklog()
            await store.redactions.waitUntilIdle()
            #expect(try await copiesAndBacklog(of: "secret", store) == (copies: 3, backlog: 0))
        }
    }
}
