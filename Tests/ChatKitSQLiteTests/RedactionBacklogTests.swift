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
    /// A group with a message of alice's that bob reacted to and unreacted `toggles` times (two copies each); the
    /// users' names start with `prefix`.
    func muchCopiedMessage(
        _ store: SQLiteChatStore, toggles: Int, prefix: String = ""
    ) async throws -> (Message, UserID) {
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user(prefix + "alice"), try await fixture.user(prefix + "bob"))
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
            try await withTimeout(.seconds(60)) { await store.redactions.waitUntilIdle() }
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
            try await withTimeout(.seconds(60)) { await store.redactions.waitUntilIdle() }
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

    @Test("an entry whose message cannot be read is dropped and holds up no other; a restored backlog is finished")
    func anUnreadableEntryIsDropped() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let held = try SQLiteChatStore(
                configuration: .init(path: path), migratingUpTo: nil, redactsInBackground: false
            )
            let (message, bob) = try await muchCopiedMessage(
                held, toggles: EventRedactions.candidatesPerTransaction
            )
            let damaged = try await StoreFixture(held).send("damaged", from: bob, to: message.conversationID)
            _ = try await held.deleteMessage(message.id, by: message.senderID)
            try await held.writer.write { db in
                // A row that no longer decodes, with an entry of its own (as a damaged file could hold).
                try db.execute(
                    sql: """
                        UPDATE message SET reactions = 'not a list' WHERE id = ?;
                        INSERT INTO redactionBacklog (messageID, afterPosition, beforePosition) VALUES (?, 0, ?);
                        """,
                    arguments: [damaged.id.rawValue, damaged.id.rawValue, Int64.max]
                )
            }
            #expect(try await copiesAndBacklog(of: "secret", held).backlog == 2)
            try held.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            try await withTimeout(.seconds(60)) { await store.redactions.waitUntilIdle() }
            #expect(try await copiesAndBacklog(of: "secret", store) == (copies: 0, backlog: 0))
        }
    }

    @Test("a backup rewrites the waiting copies first; a store closed at once keeps its backlog for the next opening")
    func aBackupHoldsNoDeletedText() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let held = try SQLiteChatStore(
                configuration: .init(path: path), migratingUpTo: nil, redactsInBackground: false
            )
            let (message, _) = try await muchCopiedMessage(held, toggles: EventRedactions.candidatesPerTransaction)
            _ = try await held.deleteMessage(message.id, by: message.senderID)
            #expect(try await copiesAndBacklog(of: "secret", held).backlog == 1)
            let copyPath = directory.appendingPathComponent("backup.sqlite").path
            try await held.backup(to: copyPath)
            #expect(try await copiesAndBacklog(of: "secret", held) == (copies: 0, backlog: 0))
            try held.close()
            let copy = try SQLiteChatStore(
                configuration: .init(path: copyPath), migratingUpTo: nil, redactsInBackground: false
            )
            #expect(try await copiesAndBacklog(of: "secret", copy) == (copies: 0, backlog: 0))
            try copy.close()

            // Opened with background work and closed at once: whatever it did, the next opening finishes.
            let second = try SQLiteChatStore(
                configuration: .init(path: path), migratingUpTo: nil, redactsInBackground: false
            )
            let (other, _) = try await muchCopiedMessage(
                second, toggles: EventRedactions.candidatesPerTransaction, prefix: "second-"
            )
            _ = try await second.deleteMessage(other.id, by: other.senderID)
            #expect(try await copiesAndBacklog(of: "secret", second).backlog == 1)
            try second.close()
            try SQLiteChatStore(path: path).close()
            let third = try SQLiteChatStore(path: path)
            defer { try? third.close() }
            try await withTimeout(.seconds(60)) { await third.redactions.waitUntilIdle() }
            #expect(try await copiesAndBacklog(of: "secret", third) == (copies: 0, backlog: 0))
        }
    }

    @Test("finishRedactions() works off the backlog before the store closes")
    func finishingBeforeClosing() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let held = try SQLiteChatStore(
                configuration: .init(path: path), migratingUpTo: nil, redactsInBackground: false
            )
            defer { try? held.close() }
            let (message, _) = try await muchCopiedMessage(held, toggles: EventRedactions.candidatesPerTransaction * 3)
            _ = try await held.deleteMessage(message.id, by: message.senderID)
            #expect(try await copiesAndBacklog(of: "secret", held).backlog == 1)
            try await held.finishRedactions()
            #expect(try await copiesAndBacklog(of: "secret", held) == (copies: 0, backlog: 0))
        }
    }
}
