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

/// The `searchWord` table (`SearchWords`): the words prefix searches are expanded into must be exactly the search
/// index's, or a prefix search misses messages.
@Suite("Search words")
struct SearchWordsTests {
    /// Bodies whose words the ASCII path and FTS5's tokenizer must agree on, and some only the tokenizer splits.
    static let bodies = [
        "Meet at the Harbour, 10:30 sharp; bring snake_case & CamelCase2 notes!",
        "x42y... e-mail: someone@example.org #tag (parenthesized) [brackets] 'quoted'",
        "Un café, s'il vous plaît; crème brûlée à volonté",
        "Ünïcödé NAÏVE Straße ﬁne",
        "日本語のテキスト and Привет мир, Ελληνικά",
        "emoji 🎉 between🙂words and tabs\tand\nnewlines",
        String(repeating: "a", count: 40) + " " + String(repeating: "Z9", count: 30),
    ]

    /// The index's own words of message bodies, as FTS5 lists them (not the scope characters of `Schema.v11`).
    static func indexWords(_ db: Database) throws -> Set<String> {
        // In the index's own file since `Schema.v20` (attached as `search`), in the database before.
        let schemas = try String.fetchAll(db, sql: "SELECT name FROM pragma_database_list")
        let schema = schemas.contains(SearchFile.schemaName) ? SearchFile.schemaName : "main"
        try db.execute(
            sql: "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocabulary USING fts5vocab(\(schema), messageSearch, 'col')"
        )
        return Set(try String.fetchAll(db, sql: "SELECT term FROM temp.vocabulary WHERE col = 'body'"))
    }

    static func tableWords(_ db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT word FROM searchWord"))
    }

    @Test("the table holds exactly the index's words, ASCII or not, once new messages are indexed")
    func holdsTheIndexWords() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("words.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            for body in Self.bodies { _ = try await fixture.send(body, from: alice, to: chat) }
            try await store.searchIndex.catchUp()
            let (index, table) = try await store.writer.read { db in (try Self.indexWords(db), try Self.tableWords(db)) }
            #expect(index.contains("cafe") && index.contains("日本語のテキスト") && index.contains("snake"))
            #expect(table == index)
        }
    }

    @Test("an edited message's new words are listed for prefix searches; words that left the index leave the list")
    func followsEdits() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("edits.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let zebra = try await fixture.send("a zebrafish crossing", from: alice, to: chat)
            let edited = try await fixture.send("nothing much", from: alice, to: chat)
            let quiet = try await fixture.send("still quiet", from: alice, to: chat)
            try await store.searchIndex.catchUp()
            // An indexed row: the update trigger re-indexes it. A prefix of 5 letters or more is the OR of the
            // words the table lists: with "zebra*" listing only "zebrafish", the edit's new word would be missed.
            _ = try await store.editMessage(edited.id, body: "the Zebrawood has landed", by: alice)
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 10).map(\.message.id))
            }
            #expect(try await found("zebra*") == [zebra.id, edited.id])
            #expect(try await found("nothi*").isEmpty)

            // A row appended and edited before its batch: the batch indexes (and lists) the current body.
            let late = try await fixture.send("draft", from: alice, to: chat)
            _ = try await store.editMessage(late.id, body: "zebraline reached", by: alice)
            _ = try await store.deleteMessage(quiet.id, by: alice)
            #expect(try await found("zebra*") == [zebra.id, edited.id, late.id])
            let (index, table) = try await store.writer.read { db in (try Self.indexWords(db), try Self.tableWords(db)) }
            // The words of the edited-away and deleted texts ("nothing much", "still quiet", "draft" if the
            // background batch indexed it before its edit) are no longer listed.
            #expect(table == index, "\(table.symmetricDifference(index))")
        }
    }

    @Test("a v4 database gets the table, filled from its index; an unindexed row's words are added by its batch")
    func migratesFourthVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v4.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v4)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            for body in Self.bodies { _ = try await fixture.send(body, from: alice, to: chat) }
            // Without the table, prefix searches keep FTS5's own prefix query.
            #expect(try await old.search("harbo*", as: bob, in: nil, limit: 10).count == 1)
            // One row the old version appended but did not index before it stopped (no background batch either).
            old.searchIndex.close()
            try await old.insertUnindexedMessage(id: "late", body: "Harbinger of spring", in: chat, from: alice)
            try old.close()

            // Up to v5 only: v6 makes the index (and the table) again from every row, late ones too.
            let store = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v5)
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.last == Schema.v5)
            // A batch (the search's catch-up, or the one the store schedules when it opens on unindexed rows)
            // indexes the late row and lists its words, which "harb*" then expands to.
            let hits = try await store.search("harb*", as: bob, in: nil, limit: 10)
            #expect(Set(hits.map(\.message.body.first)) == ["M", "H"])
            let (index, table) = try await store.writer.read { db in (try Self.indexWords(db), try Self.tableWords(db)) }
            #expect(table == index)
            #expect(table.contains("harbinger"))
        }
    }
}

extension SQLiteChatStore {
    /// Inserts a message row as a store that stopped before indexing it left it: no search index entry, no words,
    /// no event. Close the store's ``SearchIndex`` first, so that no background batch indexes it.
    func insertUnindexedMessage(id: String, body: String, in conversation: ConversationID, from sender: UserID)
        async throws
    {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO message (id, conversationID, seq, senderID, clientMessageID, body, createdAt)
                    VALUES (?, ?, 100, ?, ?, ?, 1)
                    """,
                arguments: [id, conversation.rawValue, sender.rawValue, id + "-client", body]
            )
        }
    }
}
