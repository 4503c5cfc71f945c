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

@Suite("Search ranking (BM25 computed by the store)")
struct SearchRankingTests {
    /// Messages of 1–24 words drawn from a small vocabulary with very unequal frequencies, so that queries
    /// differ in term frequency, length and document frequency; some capitalized, some with accented words (which
    /// take the general word-splitting path). Deterministic.
    static func corpus(count: Int) -> [String] {
        var state: UInt64 = 42
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let vocabulary = (0..<40).map { "w\($0)" } + ["harbour", "harbours", "lights", "dawn"]
        return (0..<count).map { number in
            let length = 1 + next(24)
            let body = (0..<length).map { _ in
                // Squaring skews the draw towards the first words: w0 is in most messages, w35 in few, dawn in none.
                let index = next(vocabulary.count) * next(vocabulary.count) / vocabulary.count
                return vocabulary[index]
            }.joined(separator: next(3) == 0 ? ", " : " ")
            switch number % 11 {
            case 3: return body.uppercased()
            case 7: return body + (next(2) == 0 ? " Café crème" : " au café, café noir")
            default: return body
            }
        }
    }

    @Test("the order is FTS5's bm25() order, ties newest first")
    func matchesFTS5() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        for body in Self.corpus(count: 400) { try await fixture.send(body, from: alice, to: chat) }
        _ = try await store.search("w0", as: bob, in: nil, limit: 1)  // brings the index up to date

        let queries = ["w0", "w1", "w7", "w35", "harbour", "harbour*", "w1 w2", "w0 w35", "w3 w5 w11", "w1 harb*", "cafe", "CAFÉ w0", "crème"]
        for query in queries {
            let ours = try await store.search(query, as: bob, in: nil, limit: 2000).map(\.message.id.rawValue)
            // FTS5's own prefix queries, not the store's rewriting of them (`PrefixExpansion`).
            let pattern = SearchText(query: query).terms
                .map { "\"\($0.word)\"" + ($0.isPrefix ? " *" : "") }
                .joined(separator: " ")
            let fts5 = try await store.writer.read { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT m.id FROM messageSearch JOIN message m ON m.rowNumber = messageSearch.rowid
                        WHERE messageSearch MATCH ? ORDER BY bm25(messageSearch), messageSearch.rowid DESC
                        """,
                    arguments: [pattern]
                )
            }
            #expect(!ours.isEmpty, "query \(query) finds nothing: a test with no meaning")
            #expect(ours == fts5, "query \(query)")
        }
    }

    @Test("a term's document frequency is counted up to the limit and estimated from its density above")
    func estimatesCommonTerms() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        // "even" is in every other message, "rare" in every tenth.
        for index in 0..<400 {
            let body = (index % 2 == 0 ? "even " : "odd ") + (index % 10 == 0 ? "rare" : "plain")
            try await fixture.send(body, from: alice, to: group)
        }
        _ = try await store.search("even", as: alice, in: nil, limit: 1)
        try await store.writer.read { db in
            let totals = try #require(try SearchRanking.totals(db))
            #expect(totals.rows == 400)
            // Two words of body and one scope character a message (`Schema.v11`), as FTS5's `bm25()` counts them.
            #expect(totals.words == 1200)
            #expect(totals.otherColumnsWords == 400)
            let even = try PrefixExpansion.pattern(SearchText(query: "even").terms[0], .current, db).text
            let rare = try PrefixExpansion.pattern(SearchText(query: "rare").terms[0], .current, db).text
            #expect(try SearchRanking.documentFrequency(db, matching: rare, rowCount: 400, exactCountLimit: 100) == 40)
            #expect(try SearchRanking.documentFrequency(db, matching: even, rowCount: 400, exactCountLimit: 1000) == 200)
            let estimate = try SearchRanking.documentFrequency(db, matching: even, rowCount: 400, exactCountLimit: 50)
            #expect(abs(estimate - 200) <= 5, "estimated \(estimate) of 200")
        }
    }

    @Test("SQLite varints decode as SQLite writes them")
    func varints() {
        func decode(_ bytes: [UInt8]) -> UInt64? {
            var data = Data(bytes)[...]
            return SearchRanking.readVarint(&data)
        }
        #expect(decode([0x00]) == 0)
        #expect(decode([0x7F]) == 127)
        #expect(decode([0x81, 0x00]) == 128)
        #expect(decode([0x81, 0x80, 0x00]) == 16_384)
        #expect(decode(Array(repeating: 0xFF, count: 9)) == UInt64.max)
        #expect(decode([0x81]) == nil, "a truncated varint")
    }
}
