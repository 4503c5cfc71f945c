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

/// Searches in a scope that holds a small share of the messages, which `ScopeScan` answers by reading the scope's
/// messages instead of walking FTS5's posting lists.
@Suite("Scope scan")
struct ScopeScanTests {
    /// Limits under which every scope is read, whatever its share and its terms.
    static let alwaysScan = ScopeScan.Limits(messageLimit: 10_000, rareTermPostings: 0, largestScopeShare: .infinity)
    static let words = [
        "apple", "banana", "cherry", "Café", "crème", "naïve", "fig", "grape", "APPLE", "figs", "Straße", "strasse",
        "ﬁne", "fine", "İstanbul", "Привет", "東京", "Ωmega", "किताब", "สวัสดีครับ",
    ]
    /// Queries of words that the index's tokenizer splits into several tokens (at a variation selector after a
    /// letter; before Schema.v18, at combining vowel signs), which a scan cannot match token by token: it leaves
    /// them to FTS5, which finds them as phrases. (A message of the small conversation holds one.)
    static let splitWordQueries = ["ok\u{FE0F}go"]
    /// Queries whose words fold differently in `SearchText` and in the index's tokenizer, among others.
    static let queries = [
        "apple", "cafe", "CRÈME", "naive fig", "app*", "fi*", "grape apple", "edited", "deleted", "strasse",
        "straße", "stra*", "fine", "ﬁne", "ﬁ*", "istanbul", "İstanbul", "привет", "при*", "東京", "ωmega",
        // Prefixes of 5 and 6 characters, which the index holds since Schema.v12.
        "banan*", "cherry*", "straß*", "приве*", "crème*",
        // Words with vowel signs, one token each since Schema.v18.
        "किताब", "สวัสดีครับ", "कि*",
    ] + splitWordQueries

    /// A body of `count` words of ``words`` chosen by `seed`.
    static func body(_ seed: Int, count: Int = 5) -> String {
        (0..<count).map { words[(seed * 7 + $0 * $0 * 3 + $0) % words.count] }.joined(separator: " ")
    }

    @Test("a small scope's search finds what FTS5 finds, in the same order, with the same snippets")
    func findsWhatTheIndexFinds() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("scope.sqlite").path
            var reading = SQLiteChatStore.Configuration(path: path)
            reading.searchWays.scopeScan = ScopeScan.Limits(rareTermPostings: 0)
            reading.searchWays.scopeFilter.isEnabled = false
            let store = try SQLiteChatStore(configuration: reading)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob, carol, dave) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol"),
                try await fixture.user("dave")
            )
            let big = try await fixture.group(alice, [bob, dave], title: "Big")
            let small = try await fixture.group(alice, [carol], title: "Small")
            let direct = try await fixture.direct(bob, carol)
            for index in 0..<400 {
                try await fixture.send(Self.body(index), from: index % 2 == 0 ? alice : bob, to: big)
            }
            for index in 0..<30 {
                try await fixture.send(Self.body(index + 1000, count: 2 + index % 6), from: carol, to: small)
            }
            for index in 0..<10 { try await fixture.send(Self.body(index + 2000, count: 3), from: bob, to: direct) }
            try await fixture.send("then ok\u{FE0F}go", from: carol, to: small)
            let edited = try await fixture.send("apple to be edited", from: carol, to: small)
            _ = try await store.editMessage(edited.id, body: "grape after the edit", by: carol)
            let deleted = try await fixture.send("apple to be deleted", from: carol, to: small)
            _ = try await store.deleteMessage(deleted.id, by: carol)
            // Brings the index up to date, so that both stores read the same index.
            _ = try await store.search("apple", as: alice, in: nil, limit: 1)

            var walking = SQLiteChatStore.Configuration(path: path)
            walking.searchWays.scopeScan.messageLimit = 0
            let index = try SQLiteChatStore(configuration: walking)
            defer { try? index.close() }
            var scanned = 0
            for query in Self.queries {
                for (user, conversation) in [(carol, nil), (carol, small), (carol, direct), (alice, small)] {
                    let read = try await store.search(query, as: user, in: conversation, limit: 10)
                    let walked = try await index.search(query, as: user, in: conversation, limit: 10)
                    #expect(
                        read == walked,
                        "\(query): \(read.map(\.message.body)) against \(walked.map(\.message.body))"
                    )
                    if try await Self.isScanned(query, store, user, conversation, reading.searchWays.scopeScan) {
                        scanned += 1
                    }
                }
            }
            // All but the words no message holds (any more), which FTS5 answers at once.
            // (Nor the words the index splits.)
            #expect(
                scanned == (Self.queries.count - 2 - Self.splitWordQueries.count) * 4,
                "the scan answers the searches above"
            )
            for query in Self.splitWordQueries {
                #expect(try await !store.search(query, as: carol, in: nil, limit: 10).isEmpty, "\(query) not found")
            }
            // The candidates themselves, not only the best ten: the newest 2,000 matches, as FTS5 lists them.
            for query in Self.queries {
                for (user, conversation) in [(carol, nil), (carol, small), (alice, small)] {
                    let (read, walked) = try await Self.candidates(query, store, user, conversation)
                    #expect(read == nil || read == walked, "\(query): \(read ?? []) against \(walked)")
                }
            }
            #expect(try await store.search("apple", as: carol, in: nil, limit: 100).count > 5)
            #expect(try await store.search("edited", as: carol, in: nil, limit: 10).isEmpty)
        }
    }

    /// The row numbers `ScopeScan` (all limits off) and FTS5 find for `query`, newest first; the scan's `nil` if it
    /// leaves the search to FTS5. Both only among rows up to the index's mark, which is checked too.
    static func candidates(
        _ query: String, _ store: SQLiteChatStore, _ user: UserID, _ conversation: ConversationID?
    ) async throws -> (read: [Int64]?, walked: [Int64]) {
        let text = SearchText(query: query)
        return try await store.writer.read { db in
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
            let read = try ScopeScan.newestMatches(
                db, text, patterns: patterns, user: user, conversation: conversation,
                candidateLimit: SQLiteChatStore.searchCandidateLimit, limits: alwaysScan
            )?.candidates.map(\.rowNumber)
            let statement = try SQLiteChatStore.newestMatchesStatement(
                db, patterns.map(\.text), user, conversation, limit: SQLiteChatStore.searchCandidateLimit
            )
            let walked = try Int64.fetchAll(statement)
            let indexedUpTo = try SearchIndex.progress(db).indexedUpTo
            #expect((read ?? []).allSatisfy { $0 <= indexedUpTo }, "a row above the index's mark")
            return (read, walked)
        }
    }

    @Test("rows above the index's mark are left to the search's own catch-up")
    func readsOnlyIndexedRows() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let indexed = try await fixture.send("apple one", from: alice, to: chat)
        _ = try await store.search("apple", as: alice, in: nil, limit: 1)  // brings the index up to date
        let later = try await fixture.send("apple two", from: bob, to: chat)
        let (read, mark) = try await store.writer.write { db -> ([Int64]?, Int64) in
            // The new row above the mark, as the background catch-up leaves rows for a moment, whatever it did.
            let row = try #require(
                try Int64.fetchOne(
                    db, sql: "SELECT rowNumber FROM message WHERE id = ?", arguments: [indexed.id.rawValue]
                )
            )
            try db.execute(
                sql: """
                    INSERT INTO messageSearch (messageSearch, rowid, body, searchScope)
                    SELECT 'delete', rowNumber, body, searchScope FROM messageSearchSource WHERE rowNumber > ?
                    """,
                arguments: [row]
            )
            try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = ?", arguments: [row])
            let text = SearchText(query: "apple")
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
            let read = try ScopeScan.newestMatches(
                db, text, patterns: patterns, user: alice, conversation: chat, candidateLimit: 10,
                limits: Self.alwaysScan
            )?.candidates.map(\.rowNumber)
            return (read, row)
        }
        #expect(read == [mark], "only the indexed row: \(String(describing: read))")
        // The search itself still finds both: it indexes the rest first.
        let hits = try await store.search("apple", as: alice, in: chat, limit: 10)
        #expect(Set(hits.map(\.message.id)) == [indexed.id, later.id])
    }

    /// Whether `ScopeScan` answers `query` on `store`, under `limits`.
    static func isScanned(
        _ query: String, _ store: SQLiteChatStore, _ user: UserID, _ conversation: ConversationID?,
        _ limits: ScopeScan.Limits, candidateLimit: Int = SQLiteChatStore.searchCandidateLimit
    ) async throws -> Bool {
        try await scan(query, store, user, conversation, limits, candidateLimit: candidateLimit) != nil
    }

    /// The seqs `ScopeScan` finds for `query` on `store`, newest first; `nil` when it leaves the search to FTS5.
    static func scan(
        _ query: String, _ store: SQLiteChatStore, _ user: UserID, _ conversation: ConversationID?,
        _ limits: ScopeScan.Limits, candidateLimit: Int = SQLiteChatStore.searchCandidateLimit
    ) async throws -> [Int64]? {
        let text = SearchText(query: query)
        return try await store.writer.read { db in
            let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
            let found = try ScopeScan.newestMatches(
                db, text, patterns: patterns, user: user, conversation: conversation,
                candidateLimit: candidateLimit, limits: limits
            )
            return try found?.candidates.map { candidate in
                try Int64.fetchOne(
                    db, sql: "SELECT seq FROM message WHERE rowNumber = ?", arguments: [candidate.rowNumber]
                ) ?? 0
            }
        }
    }

    @Test("the scan gives way to FTS5 for rare terms, large scopes and matches it cannot see all of")
    func givesWayToTheIndex() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob, carol) = (
            try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
        )
        let big = try await fixture.group(alice, [bob], title: "Big")
        let small = try await fixture.group(alice, [carol], title: "Small")
        for index in 0..<200 { try await fixture.send("common \(index)", from: bob, to: big) }
        var matching: [Int64] = []
        for index in 0..<20 {
            let message = try await fixture.send(index % 5 == 0 ? "common rare" : "common", from: carol, to: small)
            if index % 5 == 0 { matching.append(message.seq) }
        }
        _ = try await store.search("common", as: alice, in: nil, limit: 1)  // brings the index up to date
        let scan = ScopeScan.Limits(messageLimit: 100, rareTermPostings: 0)
        for conversation in [nil, small] {
            // A small scope, common terms: the newest matches, no more than asked for.
            #expect(try await Self.scan("rare", store, carol, conversation, scan) == matching.reversed())
            #expect(
                try await Self.scan("common rare", store, carol, conversation, scan, candidateLimit: 2)
                    == Array(matching.reversed().prefix(2))
            )
            // A term with fewer matches than the rare-term limit: FTS5's walk is short.
            var rareTerms = scan
            rareTerms.rareTermPostings = 3
            #expect(try await Self.isScanned("rare", store, carol, conversation, rareTerms))
            rareTerms.rareTermPostings = 4
            #expect(try await Self.isScanned("rare", store, carol, conversation, rareTerms) == false)
            // The newest 10 messages hold 2 of the 4 matches asked for, and older ones remain: FTS5 must answer.
            var short = scan
            short.messageLimit = 10
            #expect(try await Self.isScanned("rare", store, carol, conversation, short, candidateLimit: 4) == false)
            #expect(try await Self.scan("rare", store, carol, conversation, short, candidateLimit: 2) == [16, 11])
        }
        // A scope of more than a tenth of the messages: FTS5 meets its messages often enough.
        #expect(try await Self.isScanned("common", store, alice, big, scan) == false)
        #expect(try await Self.isScanned("common", store, alice, nil, scan) == false)
        // A user's scope of more than twice the messages a scan reads.
        var tiny = scan
        tiny.messageLimit = 9
        #expect(try await Self.isScanned("common", store, carol, nil, tiny) == false)
        #expect(try await Self.isScanned("common", store, carol, small, tiny, candidateLimit: 5))
        // Bob is in no conversation with carol's messages: the scan finds nothing of hers.
        #expect(try await Self.scan("rare", store, bob, nil, Self.alwaysScan) == [])
    }
}
