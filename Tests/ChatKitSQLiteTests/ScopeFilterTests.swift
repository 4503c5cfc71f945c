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

/// Searches restricted to their scope inside FTS5 by the scope characters the index holds (`ScopeFilter`,
/// `Schema.v11`).
@Suite("Scope filter")
struct ScopeFilterTests {
    /// Limits under which every search of words is filtered, whatever its scope's share and its words' matches.
    static let alwaysFilter = ScopeFilter.Limits(rareTermMatches: 0, largestScopeShare: .infinity)
    /// Limits under which small stores' searches are filtered as a large store's would be: only rare words are
    /// left to the plain walk's.
    static let smallStore = ScopeFilter.Limits(rareTermMatches: 0)

    /// The restriction `store` would use for `query` by `user` in `conversation`.
    static func restriction(
        _ store: SQLiteChatStore, _ query: String, _ user: UserID, _ conversation: ConversationID?,
        _ limits: ScopeFilter.Limits = smallStore
    ) async throws -> ScopeFilter.Restriction? {
        let text = SearchText(query: query)
        return try await store.writer.read { db in
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db).text }
            return try ScopeFilter.restriction(
                db, patterns: patterns, user: user, conversation: conversation, limits: limits
            )
        }
    }

    @Test("a search in a few conversations finds, through the scope characters, what the plain walk finds")
    func findsWhatThePlainWalkFinds() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("filter.sqlite").path
            var filtering = SQLiteChatStore.Configuration(path: path)
            filtering.searchWays.scopeFilter = Self.smallStore
            let store = try SQLiteChatStore(configuration: filtering)
            defer { try? store.close() }
            let made = try await SearchScopes(store)
            let (alice, bob, carol, dave) = (made.alice, made.bob, made.carol, made.dave)
            let (big, small, direct) = (made.big, made.small, made.direct)
            let quiet = try await StoreFixture(store).group(carol, [dave], title: "Quiet")

            let index = try SQLiteChatStore(configuration: SearchScopes.plainWalk(path))
            defer { try? index.close() }
            // carol's scopes hold a quarter of the messages or less; alice's and bob's more than half.
            let scopes: [(UserID, ConversationID?, filtered: Bool)] = [
                (carol, nil, true), (carol, small, true), (carol, direct, true), (alice, small, true),
                (carol, quiet, false), (alice, nil, false), (bob, big, false),
            ]
            for (user, conversation, filtered) in scopes {
                let restriction = try await Self.restriction(store, "apple", user, conversation)
                if conversation == quiet {
                    #expect(restriction == .empty, "a conversation without messages")
                } else if filtered {
                    guard case .filter = restriction else {
                        Issue.record("\(user), \(String(describing: conversation)): \(String(describing: restriction))")
                        continue
                    }
                } else {
                    #expect(restriction == nil)
                }
                for query in ScopeScanTests.queries + ["apple grape", "app* fig", "cherry banana apple"] {
                    let filteredHits = try await store.search(query, as: user, in: conversation, limit: 10)
                    let plainHits = try await index.search(query, as: user, in: conversation, limit: 10)
                    #expect(
                        filteredHits == plainHits,
                        "\(query): \(filteredHits.map(\.message.body)) against \(plainHits.map(\.message.body))"
                    )
                }
            }
            #expect(try await store.search("apple", as: carol, in: nil, limit: 100).count > 5)
            #expect(try await store.search("edited", as: carol, in: nil, limit: 10).isEmpty)
            #expect(try await store.search("deleted", as: carol, in: nil, limit: 10).isEmpty)
        }
    }

    @Test("a conversation gets its scope character when inserted; the index holds it with each message")
    func indexHoldsEachMessagesCharacter() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let group = try await fixture.group(alice, [bob])
        let direct = try await fixture.direct(alice, bob)
        var sent: [Message] = []
        for index in 0..<10 { sent.append(try await fixture.send("pear \(index)", from: alice, to: group)) }
        for index in 0..<3 { _ = try await fixture.send("pear \(index)", from: bob, to: direct) }
        try await store.searchIndex.catchUp()
        /// How many indexed messages the scope character of `conversation` holds, and the character.
        func indexed(_ conversation: ConversationID) async throws -> (count: Int, character: String) {
            try await store.writer.read { db in
                let character = try #require(
                    try String.fetchOne(
                        db, sql: "SELECT searchScope FROM conversation WHERE id = ?", arguments: [conversation.rawValue]
                    )
                )
                let count = try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM messageSearch WHERE messageSearch MATCH ?",
                    arguments: ["searchScope : \"\(character)\""]
                ) ?? 0
                return (count, character)
            }
        }
        let (groupCount, groupCharacter) = try await indexed(group)
        #expect(groupCount == 10)
        // One private-use character from U+F0000, made from the ID's first four hexadecimal digits.
        let scalars = Array(groupCharacter.unicodeScalars)
        let digits = Int(group.rawValue.prefix(4), radix: 16)
        #expect(scalars.count == 1 && scalars.first?.value == 0xF0000 + UInt32((digits ?? -1) % 65534))
        #expect(try await indexed(direct).count == 3)
        // The triggers give FTS5 the character with the body: an edit and a removed row leave the counts right.
        _ = try await store.editMessage(sent[0].id, body: "plum instead", by: alice)
        let removed = sent[1].id.rawValue
        try await store.writer.write { db in
            try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [removed])
        }
        try await store.searchIndex.catchUp()  // applies the changes, as a search would first
        #expect(try await indexed(group).count == 9)
        #expect(try await store.search("plum", as: bob, in: group, limit: 5).map(\.message.id) == [sent[0].id])
        // FTS5's own check of the index's structure.
        try await store.searchIndexWriter.writeWithoutTransaction { db in
            try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
        }
    }

    @Test("a rare word and a prefix longer than the index's prefixes are left to the plain walk")
    func rareWordsAndPrefixesLeftOut() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let big = try await fixture.group(alice, [bob])
        let small = try await fixture.direct(alice, bob)
        for index in 0..<40 { try await fixture.send("fig \(index)", from: bob, to: big) }
        for index in 0..<4 { try await fixture.send("fig rare \(index)", from: alice, to: small) }
        try await store.searchIndex.catchUp()
        var limits = Self.smallStore
        limits.rareTermMatches = 3
        guard case .filter = try await Self.restriction(store, "rare", alice, small, limits) else {
            Issue.record("4 matches, more than the rare-word limit: filtered")
            return
        }
        limits.rareTermMatches = 4
        #expect(try await Self.restriction(store, "rare", alice, small, limits) == nil)
        // The rarest word decides. A prefix the index holds as one list (up to 6 characters) is taken like a word;
        // a longer one, the OR of its words, leaves the query to the other ways.
        #expect(try await Self.restriction(store, "fig rare", alice, small, limits) == nil)
        func isWorthTrying(_ query: String) async throws -> Bool {
            let text = SearchText(query: query)
            return try await store.writer.read { db in
                ScopeFilter.isWorthTrying(text, try text.terms.map { try PrefixExpansion.pattern($0, .current, db) })
            }
        }
        #expect(try await isWorthTrying("fig rare"))
        #expect(try await isWorthTrying("fig ra*"))
        #expect(try await isWorthTrying("fig rarest*"), "6 letters: indexed")
        #expect(try await isWorthTrying("fig rarities*") == false, "8 letters: not indexed")
    }

    @Test("conversations that share a scope character: the search keeps to the user's own")
    func sharedCharactersStayOutside() async throws {
        let store = try SQLiteChatStore(configuration: {
            var configuration = SQLiteChatStore.Configuration.inMemory
            configuration.searchWays.scopeFilter = Self.alwaysFilter
            return configuration
        }())
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        // Two conversations whose IDs begin alike, made directly: their scope characters are the same.
        let (mine, theirs): (ConversationID, ConversationID) = (
            "abcd0001-0000-4000-8000-000000000001", "abcd0002-0000-4000-8000-000000000002"
        )
        try await store.writer.write { db in
            for (conversation, member) in [(mine, alice), (theirs, bob)] {
                try db.execute(
                    sql: """
                        INSERT INTO conversation (id, kind, title, createdBy, createdAt, activityPosition)
                        VALUES (?, 'group', 'Alike', ?, 0, 0)
                        """,
                    arguments: [conversation.rawValue, member.rawValue]
                )
                try db.execute(
                    sql: "INSERT INTO member (conversationID, userID, role, joinedAt) VALUES (?, ?, 'owner', 0)",
                    arguments: [conversation.rawValue, member.rawValue]
                )
            }
        }
        let characters = try await store.writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT searchScope FROM conversation WHERE title = 'Alike'")
        }
        #expect(characters.count == 1, "one character for both")
        let own = try await fixture.send("secret of mine", from: alice, to: mine)
        for index in 0..<5 { try await fixture.send("secret \(index)", from: bob, to: theirs) }
        try await store.searchIndex.catchUp()
        #expect(try await Self.restriction(store, "secret", alice, nil, Self.alwaysFilter) != nil)
        #expect(try await store.search("secret", as: alice, in: nil, limit: 10).map(\.message.id) == [own.id])
        #expect(try await store.search("secret", as: bob, in: nil, limit: 10).count == 5)
    }

    @Test("the filter is left out for scopes of half the messages or more, and of many conversations")
    func leftOutWhenNotWorthIt() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob, carol) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
        )
        let big = try await fixture.group(alice, [bob])
        for index in 0..<200 { try await fixture.send("kiwi \(index)", from: bob, to: big) }
        var many: [ConversationID] = []
        for index in 0..<(ScopeFilter.Limits().conversationLimit + 1) {
            let conversation = try await fixture.group(carol, [alice], title: "Many \(index)")
            try await fixture.send("kiwi \(index)", from: carol, to: conversation)
            many.append(conversation)
        }
        _ = try await fixture.group(carol, [], title: "Empty")
        try await store.searchIndex.catchUp()
        func restriction(_ user: UserID, _ conversation: ConversationID?) async throws -> ScopeFilter.Restriction? {
            try await Self.restriction(store, "kiwi", user, conversation)
        }
        // Bob's scope is 200 of 265 messages: the plain walk meets his matches early.
        #expect(try await restriction(bob, nil) == nil)
        #expect(try await restriction(bob, big) == nil)
        // carol is in 65 conversations with messages (and one without): more than a filter names.
        #expect(try await restriction(carol, nil) == nil)
        guard case .filter(let one) = try await restriction(carol, many[0]) else {
            Issue.record("one conversation of carol's is filtered")
            return
        }
        #expect(one.hasPrefix("searchScope : ("))
        let left = many[0].rawValue
        try await store.writer.write { db in
            try db.execute(
                sql: "DELETE FROM member WHERE userID = ? AND conversationID = ?", arguments: [carol.rawValue, left]
            )
        }
        // Now 64 conversations with messages: named, each character once.
        guard case .filter(let all) = try await restriction(carol, nil) else {
            Issue.record("carol's 64 conversations are filtered")
            return
        }
        let named = all.filter { $0 == "\"" }.count / 2
        #expect(named >= 60 && named <= 64, "\(named) characters")
        #expect(try await store.search("kiwi", as: carol, in: nil, limit: 100).count == 64)
    }
}
