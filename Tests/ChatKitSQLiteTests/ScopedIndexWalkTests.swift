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

/// Searches answered by walking FTS5's matches against the scope's rows (`ScopedIndexWalk`), and the plan that
/// chooses that way (`SearchPlan`).
@Suite("Scoped index walk")
struct ScopedIndexWalkTests {
    @Test("the walk finds what the plain walk finds: the same newest matches, the same hits")
    func findsWhatThePlainWalkFinds() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("walk.sqlite").path
            var walking = SQLiteChatStore.Configuration(path: path)
            walking.searchWays.scopedWalk = .alwaysWalk
            walking.searchWays.scopeScan.messageLimit = 0
            walking.searchWays.scopeFilter.isEnabled = false
            let store = try SQLiteChatStore(configuration: walking)
            defer { try? store.close() }
            let made = try await SearchScopes(store)
            let (alice, bob, carol, dave) = (made.alice, made.bob, made.carol, made.dave)
            let (big, small, direct) = (made.big, made.small, made.direct)

            let index = try SQLiteChatStore(configuration: SearchScopes.plainWalk(path))
            defer { try? index.close() }
            // The plan's own choices, its word counts handed to the ranking.
            var planned = SQLiteChatStore.Configuration(path: path)
            planned.searchWays.scopeFilter.isEnabled = false
            let planning = try SQLiteChatStore(configuration: planned)
            defer { try? planning.close() }
            let scopes: [(UserID, ConversationID?)] = [
                (carol, nil), (carol, small), (carol, direct), (alice, small), (alice, nil), (dave, nil), (bob, big),
            ]
            for query in ScopeScanTests.queries + ["apple grape", "cherry banana apple", "fig apple"] {
                for (user, conversation) in scopes {
                    let walked = try await store.search(query, as: user, in: conversation, limit: 10)
                    let found = try await index.search(query, as: user, in: conversation, limit: 10)
                    #expect(
                        walked == found,
                        "\(query): \(walked.map(\.message.body)) against \(found.map(\.message.body))"
                    )
                    let chosen = try await planning.search(query, as: user, in: conversation, limit: 10)
                    #expect(chosen == found, "\(query), the plan's way: \(chosen.map(\.message.body))")
                    // The candidates themselves, with a limit that cuts them short as well as one that does not.
                    for candidateLimit in [3, SQLiteChatStore.searchCandidateLimit] {
                        let (walkedRows, plainRows) = try await Self.candidates(
                            query, store, user, conversation, candidateLimit: candidateLimit
                        )
                        #expect(walkedRows == plainRows, "\(query), \(candidateLimit) candidates")
                    }
                }
            }
            #expect(try await store.search("apple", as: carol, in: nil, limit: 100).count > 5)
            #expect(try await store.search("edited", as: carol, in: nil, limit: 10).isEmpty)
            #expect(try await store.search("deleted", as: carol, in: nil, limit: 10).isEmpty)
            // A member of no conversation with messages finds nothing; one outside the conversation is refused.
            let fixture = StoreFixture(store)
            let erin = try await fixture.user("erin")
            _ = try await fixture.group(erin, [], title: "Empty")
            #expect(try await store.search("apple", as: erin, in: nil, limit: 10).isEmpty)
            await #expect(throws: ChatError.self) { try await store.search("apple", as: carol, in: big, limit: 10) }
        }
    }

    /// The row numbers the walk and the plain walk find for `query`, newest first.
    static func candidates(
        _ query: String, _ store: SQLiteChatStore, _ user: UserID, _ conversation: ConversationID?,
        candidateLimit: Int
    ) async throws -> (walked: [Int64], plain: [Int64]) {
        let text = SearchText(query: query)
        return try await store.writer.read { db in
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db).text }
            let walked = try ScopedIndexWalk.newestMatches(
                db, patterns: patterns, user: user, conversation: conversation, candidateLimit: candidateLimit,
                rowConversations: store.rowConversations
            ).candidates.map(\.rowNumber)
            let statement = try SQLiteChatStore.newestMatchesStatement(
                db, patterns, user, conversation, limit: candidateLimit
            )
            return (walked, try Int64.fetchAll(statement))
        }
    }

    @Test("the walk reads a chunk of matches at a time and leaves deleted messages out without coming up short")
    func fillsCandidatesPastChunksAndDeletions() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let other = try await fixture.group(bob, [], title: "Other")
        var ours: [Int64] = []
        for index in 0..<1_300 {
            try await fixture.send("pear \(index)", from: bob, to: other)
            if index.isMultiple(of: 2) { ours.append(try await fixture.send("pear", from: alice, to: chat).seq) }
        }
        try await store.searchIndex.catchUp()
        // A message the index still holds though it is deleted (as a trigger failure could leave it): left out.
        let newest = try #require(ours.last)
        try await store.writer.write { db in
            try db.execute(
                sql: "UPDATE message SET deletedAt = 1 WHERE conversationID = ? AND seq = ?",
                arguments: [chat.rawValue, newest]
            )
        }
        let seqs = try await store.writer.read { db in
            let pattern = try PrefixExpansion.pattern(SearchText(query: "pear").terms[0], .current, db).text
            let found = try ScopedIndexWalk.newestMatches(
                db, patterns: [pattern], user: alice, conversation: nil, candidateLimit: 600,
                rowConversations: store.rowConversations
            )
            return try found.candidates.map { candidate in
                try Int64.fetchOne(
                    db, sql: "SELECT seq FROM message WHERE rowNumber = ?", arguments: [candidate.rowNumber]
                ) ?? 0
            }
        }
        #expect(seqs == Array(ours.dropLast().reversed().prefix(600)))
    }

    @Test("on a store, the plan walks a modest scope's common and rare words and short prefixes, not long prefixes")
    func plansOnAStore() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob, carol) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
        )
        let big = try await fixture.group(alice, [bob], title: "Big")
        let small = try await fixture.group(alice, [carol], title: "Small")
        for index in 0..<300 { try await fixture.send("common pear commonplace \(index)", from: bob, to: big) }
        for index in 0..<30 {
            try await fixture.send(index % 10 == 0 ? "common plum rare" : "common plum", from: carol, to: small)
        }
        try await store.searchIndex.catchUp()
        /// The plan for `query`, wanting 20 candidates, with a scan that reads at most `scanLimit` messages.
        func plan(_ query: String, _ user: UserID, _ conversation: ConversationID?, scanLimit: Int) async throws
            -> (walksFirst: Bool, walksBeforePlain: Bool)
        {
            let text = SearchText(query: query)
            return try await store.writer.read { db in
                let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
                let plan = try SearchPlan.make(
                    db, text, patterns: patterns, user: user, conversation: conversation, candidateLimit: 20,
                    scanLimit: scanLimit, policy: .cheapest
                )
                return (plan.walksFirst, plan.walksBeforePlain)
            }
        }
        // A word in every message, in a scope of a tenth of them: 20 candidates are 200 matches into the plain
        // walk. A scan of 10 messages would give up: the walk goes first.
        for conversation in [nil, small] {
            #expect(try await plan("common", carol, conversation, scanLimit: 10) == (true, true))
            // Two words, both in every message of the scope: a scan of 20 finds the candidates and goes first,
            // whatever the estimate of the walk (FTS5's work for two words is not in it).
            #expect(try await plan("common plum", carol, conversation, scanLimit: 100) == (false, true))
            #expect(try await plan("common plum", carol, conversation, scanLimit: 10) == (true, true))
            // Three matches among all messages: every way is short, the walk the shortest.
            #expect(try await plan("rare", carol, conversation, scanLimit: 10) == (true, true))
            // A prefix the index holds as one list (Schema.v12: up to 6 letters) is priced as a word.
            #expect(try await plan("comm*", carol, conversation, scanLimit: 10) == (true, true))
            // A longer one (the OR of its words; 300 matches, none in the scope): FTS5's cost for it is not known
            // without merging its words' lists.
            #expect(try await plan("commonp*", carol, conversation, scanLimit: 10) == (false, false))
        }
        // Alice's scope is every message: the plain walk meets her matches at once.
        #expect(try await plan("common", alice, nil, scanLimit: 10) == (false, false))
        #expect(try await plan("pear", alice, big, scanLimit: 10) == (false, false))
        // The words' counts go to the scan, which would count them otherwise: exact below 10,000.
        let counts = try await store.writer.read { db in
            let text = SearchText(query: "common rare")
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
            return try SearchPlan.make(
                db, text, patterns: patterns, user: carol, conversation: nil, candidateLimit: 20, scanLimit: 10,
                policy: .cheapest
            ).termMatches
        }
        #expect(counts == [330, 3])
        // A rare word first: the walk is the cheaper way whatever the other words; they are not counted.
        let rareFirst = try await store.writer.read { db in
            let text = SearchText(query: "rare common")
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
            return try SearchPlan.make(
                db, text, patterns: patterns, user: carol, conversation: nil, candidateLimit: 20, scanLimit: 10,
                policy: .cheapest
            )
        }
        #expect(rareFirst.termMatches == [3] && rareFirst.walksFirst && rareFirst.walksBeforePlain)
        #expect(rareFirst.densities.isEmpty, "the ranking counts what the plan did not")
        // Counts handed to the scan decide as its own count does: "rare" has 3 matches.
        for (limit, scans) in [(2, true), (3, false)] {
            let found = try await store.writer.read { db in
                let text = SearchText(query: "rare")
                let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
                return try ScopeScan.newestMatches(
                    db, text, patterns: patterns, user: carol, conversation: nil, candidateLimit: 20,
                    limits: ScopeScan.Limits(messageLimit: 100, rareTermPostings: limit), termMatches: [3]
                )
            }
            #expect((found != nil) == scans, "rare-term limit \(limit)")
        }
        // The search itself, by every plan, finds the newest matches.
        let hits = try await store.search("common rare", as: carol, in: nil, limit: 10)
        #expect(hits.map(\.message.seq) == [21, 11, 1])
    }

    @Test("the plan walks a modest scope with a word common elsewhere, and leaves the other cases as they were")
    func plansByCost() {
        let limit = Double(SQLiteChatStore.searchCandidateLimit)
        func costs(scope: Double, matches: Double) -> SearchPlan.Costs {
            SearchPlan.Costs(
                scope: scope, indexed: 1_000_000, matches: matches, candidateLimit: limit, scanLimit: 10_000
            )
        }
        // 20,000 messages in the scope, a word in 5 % of a million: the scan gives up, the plain walk is long.
        let modest = costs(scope: 20_000, matches: 50_000)
        #expect(modest.walk < modest.plain && !modest.scanSucceeds)
        // A word in 38 % of the messages, in a conversation of 10,000: the scan reads 5,300 and is done.
        let common = costs(scope: 10_000, matches: 380_000)
        #expect(common.scanSucceeds && common.scan < common.walk)
        // A word in a quarter of the messages, in a scope of 20,000: the scan would read 8,000, the walk is cheaper.
        let quarter = costs(scope: 20_000, matches: 250_000)
        #expect(quarter.scanSucceeds && quarter.walk < quarter.scan)
        // A rare word: both walks are short, the walk reads no other conversation's rows.
        let rare = costs(scope: 20_000, matches: 1_000)
        #expect(rare.walk < rare.plain)
        // A scope of most messages is left to the plain walk before any cost (on a store, above: alice).
    }
}
