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
import GRDB
import Testing

@testable import ChatKitSQLite

@Suite("Row conversations")
struct RowConversationsTests {
    /// Each message row's conversation ID, as the database has it.
    static func conversations(_ store: SQLiteChatStore) async throws -> [Int64: String] {
        try await store.writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT rowNumber, conversationID FROM message")
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as Int64, $0[1] as String) })
        }
    }

    @Test("the map tells each row's conversation, grows to the rows asked for, and a snapshot keeps its rows")
    func mapsRowsAsTheyGrow() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob, carol) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
        )
        let chats = [try await fixture.direct(alice, bob), try await fixture.group(bob, [carol])]
        for index in 0..<300 { try await fixture.send("message \(index)", from: bob, to: chats[index % 3 % 2]) }
        let map = RowConversations(chunkSize: 256)
        let (first, firstEnd) = try await store.writer.read { db in
            let snapshot = try map.snapshot(upTo: 200, db)
            return (snapshot, snapshot.end)
        }
        #expect(firstEnd == 200)
        // More rows than two chunks hold: the map grows past its first chunks.
        for index in 0..<300 { try await fixture.send("more \(index)", from: carol, to: chats[1]) }
        let expected = try await Self.conversations(store)
        let last = try #require(expected.keys.max())
        let second = try await store.writer.read { db in try map.snapshot(upTo: last, db) }
        #expect(second.end == last)
        let numbers = chats.map { second.number(of: $0.rawValue) }
        #expect(numbers.allSatisfy { $0 != nil } && Set(numbers).count == 2, "one number per conversation")
        for rowNumber in 1...last {
            guard second.conversation(of: rowNumber) == expected[rowNumber].flatMap(second.number(of:)) else {
                let wanted = String(describing: expected[rowNumber])
                Issue.record("row \(rowNumber): \(second.conversation(of: rowNumber)), not \(wanted)")
                return
            }
        }
        // The earlier snapshot still answers for its rows, and for no others.
        #expect((1...200).allSatisfy { first.conversation(of: $0) == expected[$0].flatMap(first.number(of:)) })
        #expect(first.conversation(of: 201) == 0 && second.conversation(of: last + 1) == 0)
        // Asked for fewer rows than it has, the map reads nothing and keeps them all.
        let again = try await store.writer.read { db in try map.snapshot(upTo: 10, db) }
        #expect(again.end == last)
    }

    @Test("appends between walks are found as the plain walk finds; a row deleted in the middle maps to nothing")
    func gapsAndAppends() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob, carol) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
        )
        let ours = try await fixture.direct(alice, bob)
        let other = try await fixture.group(carol, [], title: "Other")
        var middle: Message?
        for index in 0..<40 {
            let ourTurn = index % 4 == 0
            let (sender, chat) = ourTurn ? (alice, ours) : (carol, other)
            let message = try await fixture.send("pear \(index)", from: sender, to: chat)
            if index == 20 { middle = message }
        }
        try await store.searchIndex.catchUp()
        for round in 0..<3 {
            let (walked, plain) = try await ScopedIndexWalkTests.candidates(
                "pear", store, alice, nil, candidateLimit: 100
            )
            #expect(walked == plain && walked.count == 10 + 5 * round, "round \(round)")
            for index in 0..<20 {
                let ourTurn = index % 4 == 0
                _ = try await fixture.send("pear more", from: ourTurn ? bob : carol, to: ourTurn ? ours : other)
            }
            try await store.searchIndex.catchUp()
        }
        let removed = try #require(middle)
        try await store.writer.write { db in
            try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [removed.id.rawValue])
        }
        let expected = try await Self.conversations(store)
        let last = try #require(expected.keys.max())
        let gap = try #require((1...last).first { expected[$0] == nil })
        let fresh = RowConversations(chunkSize: 7)
        let snapshot = try await store.writer.read { db in try fresh.snapshot(upTo: last, db) }
        #expect(snapshot.conversation(of: gap) == 0)
        #expect((1...last).allSatisfy { row in
            row == gap || snapshot.conversation(of: row) == expected[row].flatMap(snapshot.number(of:))
        })
    }

    @Test("a row number reused by another conversation's message never comes into a search through the map")
    func staleRowsDoNotLeak() async throws {
        let store = try SQLiteChatStore(configuration: {
            var configuration = SQLiteChatStore.Configuration.inMemory
            configuration.searchWays.scopeFilter.isEnabled = false
            configuration.searchWays.scopedWalk = .alwaysWalk
            return configuration
        }())
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let ours = try await fixture.direct(alice, bob)
        let theirs = try await fixture.group(bob, [], title: "Bob alone")
        _ = try await fixture.send("kiwi first", from: alice, to: ours)
        let removed = try await fixture.send("kiwi second", from: alice, to: ours)
        // The search maps the rows (the last one to alice's conversation).
        #expect(try await store.search("kiwi", as: alice, in: nil, limit: 10).count == 2)
        // The last row deleted by hand; SQLite gives its number to the next row, in bob's conversation.
        try await store.writer.write { db in
            try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [removed.id.rawValue])
            // The index's mark back below the row, so that the next search indexes the row that takes its number.
            try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = 1")
        }
        let reused = try await fixture.send("kiwi secret", from: bob, to: theirs)
        // A later message of alice's: her walk passes the reused row.
        let third = try await fixture.send("kiwi third", from: alice, to: ours)
        let rowNumbers = try await store.writer.read { db in
            try Int64.fetchAll(db, sql: "SELECT rowNumber FROM message ORDER BY rowNumber")
        }
        #expect(rowNumbers == [1, 2, 3], "the row number was reused")
        let found = try await store.search("kiwi", as: alice, in: nil, limit: 10).map(\.message.id)
        #expect(!found.contains(reused.id), "bob's message came into alice's search")
        #expect(found.count == 2 && found.first == third.id)
        #expect(try await store.search("secret", as: bob, in: nil, limit: 10).map(\.message.id) == [reused.id])
    }
}
