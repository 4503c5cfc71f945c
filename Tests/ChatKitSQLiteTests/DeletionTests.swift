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
@testable import ChatKitSQLite
import ChatKitTesting
import Foundation
import GRDB
import Testing

/// What a deletion leaves in the database file: the message's text goes from its row and from the stored events.
@Suite("Deleted messages in the file")
struct DeletionTests {
    /// The stored event payloads and message bodies of the database at `path` that contain `text`.
    func places(of text: String, at path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT position, payload FROM event")
            let payloads = rows.compactMap { row -> String? in
                let payload: Data = row[1]
                let position: Int64 = row[0]
                return String(decoding: payload, as: UTF8.self).contains(text) ? "event \(position)" : nil
            }
            let bodies = try String.fetchAll(
                db, sql: "SELECT id FROM message WHERE instr(body, ?) > 0", arguments: [text]
            )
            return payloads + bodies.map { "message \($0)" }
        }
    }

    @Test("a deleted message's text, as sent and as edited, leaves its row and every stored event")
    func deletedTextLeavesTheEventLog() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let group = try await fixture.group(alice, [bob])
            let message = try await fixture.send("the secret plan", from: alice, to: group)
            _ = try await store.editMessage(message.id, body: "the secret plan, amended", by: alice)
            _ = try await store.addReaction("👀", to: message.id, by: bob)
            _ = try await store.removeReaction("👀", from: message.id, by: bob)
            _ = try await store.addReaction("🙈", to: message.id, by: bob)
            let kept = try await fixture.send("the public plan", from: bob, to: group)
            _ = try await store.addReaction("👍", to: kept.id, by: alice)
            #expect(try places(of: "secret", at: path).count >= 5)

            _ = try await store.deleteMessage(message.id, by: alice)
            #expect(try places(of: "secret", at: path) == [])
            #expect(try places(of: "public plan", at: path).count >= 2, "another message's events were touched")
            // Readers see the deletion everywhere, as before.
            let events = try await store.events(for: bob, after: .start, limit: 100).events
            #expect(events.filter { $0.message?.id == message.id }.allSatisfy { $0.message?.isDeleted == true })
            try store.close()
        }
    }

    @Test("deleted and edited-away words leave the search index's word list, and the file after the documented purge")
    func deletedWordsLeaveTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let group = try await fixture.group(alice, [bob])
            let secret = try await fixture.send("zebracode 4711 is the plan, κωδικός", from: alice, to: group)
            _ = try await fixture.send("the plan stays", from: bob, to: group)
            let draft = try await fixture.send("quagmirish wording", from: alice, to: group)
            // A search indexes what is pending: the words are in the list.
            #expect(try await store.search("plan", as: alice, in: nil, limit: 10).count == 2)
            func listed(_ words: [String]) throws -> [String] {
                let queue = try Fixtures.openWithSearchIndex(path)
                defer { try? queue.close() }
                return try queue.read { db in
                    try words.filter {
                        try Bool.fetchOne(db, sql: "SELECT 1 FROM searchWord WHERE word = ?", arguments: [$0]) != nil
                    }
                }
            }
            #expect(try listed(["zebracode", "4711", "quagmirish"]) == ["zebracode", "4711", "quagmirish"])
            func foldings() throws -> [String] {
                let queue = try Fixtures.openWithSearchIndex(path)
                defer { try? queue.close() }
                return try queue.read { db in try String.fetchAll(db, sql: "SELECT folded FROM searchWordFolding") }
            }
            // Folded in full: without the accent, and with the final sigma as any other.
            #expect(try foldings() == ["κωδικοσ"])

            _ = try await store.deleteMessage(secret.id, by: alice)
            _ = try await store.editMessage(draft.id, body: "final wording", by: alice)
            // The index applies them in its next catch-up (in the background, or before a search).
            try await store.searchIndex.catchUp()
            #expect(try listed(["zebracode", "4711", "quagmirish"]) == [])
            #expect(try foldings() == [], "the deleted word's folding")
            // Words another message (or the edit) holds stay listed, and prefixes still find them.
            #expect(try listed(["plan", "the", "wording", "final"]) == ["plan", "the", "wording", "final"])
            #expect(try await store.search("wor*", as: alice, in: nil, limit: 10).map(\.message.id) == [draft.id])
            #expect(try await store.search("zebra*", as: alice, in: nil, limit: 10).isEmpty)
            try store.close()

            // Operations.md's purge: nothing of the deleted text is left in the database file, and the search index's
            // file (made again from the messages at the next opening) is removed. (Edited-away text stays in the
            // stored events that showed it: edits keep their history, deletions do not.)
            let queue = try DatabaseQueue(path: path)
            try await queue.writeWithoutTransaction { db in
                try db.execute(sql: "DELETE FROM searchChange; VACUUM;")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            try queue.close()
            try SearchFile.removeFiles(atDatabasePath: path)
            let reopened = try SQLiteChatStore(path: path)
            #expect(try await reopened.search("plan", as: alice, in: nil, limit: 10).count == 1)
            #expect(try await reopened.search("zebracode", as: alice, in: nil, limit: 10).isEmpty)
            try reopened.close()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.range(of: Data("zebracode".utf8)) == nil, "the deleted text is still in the file")
            #expect(bytes.range(of: Data("κωδικ".utf8)) == nil, "the deleted text's folding is still in the file")
            #expect(bytes.range(of: Data("the plan stays".utf8)) != nil)
        }
    }

    @Test("a message stored before schema v3, whose creation is an event of its own, leaves it when deleted")
    func aFirstVersionMessage() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            #expect(try places(of: "Crème brûlée", at: path).count >= 1)
            let store = try SQLiteChatStore(path: path)
            let alice = try #require(try await store.user(username: "alice"))
            let group = try #require(try await store.conversations(of: alice.id).first).conversation
            let history = try await store.messages(in: group.id, .after(0, limit: 10), as: alice.id)
            let creme = try #require(history.first { $0.body == "Crème brûlée" })
            _ = try await store.deleteMessage(creme.id, by: alice.id)
            try store.close()
            #expect(try places(of: "Crème brûlée", at: path) == [])
            #expect(try places(of: "See you at the cafe", at: path).count >= 1)
        }
    }
}
