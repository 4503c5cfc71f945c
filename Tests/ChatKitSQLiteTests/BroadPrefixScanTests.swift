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

/// Searches with a prefix of more words than `PrefixExpansion.maximumWords`, which `BroadPrefixScan` answers by
/// reading the newest messages instead of asking FTS5 for the prefix.
@Suite("Broad prefix scan")
struct BroadPrefixScanTests {
    /// More words beginning with "quayxyz" than a prefix is expanded into, in a conversation of their own (7 letters:
    /// longer than the prefixes the index holds).
    private static let crowd = (1...(PrefixExpansion.maximumWords + 1)).map { String(format: "quayxyz%04d", $0) }

    @Test("a broad prefix finds what FTS5 finds: members' messages only, no tombstones, with the other terms")
    func findsTheSameMessages() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("broad.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let chat = try await fixture.direct(alice, bob)
            let team = try await fixture.group(alice, [bob], title: "Team")
            let elsewhere = try await fixture.direct(alice, carol)
            _ = try await fixture.send(Self.crowd.joined(separator: " "), from: alice, to: elsewhere)
            let plain = try await fixture.send("Quayxyz0003 at noon", from: alice, to: chat)
            let both = try await fixture.send("a needle and quayxyz0100", from: bob, to: chat)
            _ = try await fixture.send("a needle alone", from: bob, to: chat)
            let accented = try await fixture.send("Quäyxyz0007 with an umlaut", from: alice, to: team)
            let gone = try await fixture.send("quayxyz0004 to be deleted", from: alice, to: team)
            _ = try await store.deleteMessage(gone.id, by: alice)
            _ = try await fixture.send("quay and x0005 are separate words", from: alice, to: team)

            func found(_ query: String, in conversation: ConversationID? = nil) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: conversation, limit: 20).map(\.message.id))
            }
            #expect(try await found("quayxyz*") == [plain.id, both.id, accented.id])
            let pattern = try await store.writer.read { db in
                try PrefixExpansion.pattern(SearchText(query: "quayxyz*").terms[0], .current, db)
            }
            #expect(pattern.isBroad)
            #expect(try await found("QUAYXYZ*") == [plain.id, both.id, accented.id])
            #expect(try await found("needle quayxyz*") == [both.id])
            #expect(try await found("quayxyz* needle") == [both.id])
            #expect(try await found("quayxyz*", in: chat) == [plain.id, both.id])
            #expect(try await found("quayxyz*", in: team) == [accented.id])
            #expect(try await found("needle quayxyz*", in: team).isEmpty)
            #expect(try await found("quayxyz00*") == [plain.id, accented.id], "99 words: not broad, expanded")
            // Carol sees only the crowded message.
            #expect(try await store.search("quayxyz*", as: carol, in: nil, limit: 5).count == 1)
            let hits = try await store.search("quayxyz*", as: bob, in: chat, limit: 5)
            #expect(hits.first { $0.message.id == plain.id }?.snippet?.contains("[Quayxyz0003]") == true)
        }
    }

    @Test("a scan stops at the candidates it needs and gives way to FTS5 when the newest rows hold too few")
    func boundsItsReading() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let carol = try await fixture.user("carol")
        let chat = try await fixture.direct(alice, bob)
        _ = try await fixture.send(Self.crowd.joined(separator: " "), from: alice, to: chat)
        var matching: [Int64] = []
        for index in 0..<30 {
            let body = index % 10 == 0 ? "quayxyz0001 \(index)" : "plain \(index)"
            let message = try await fixture.send(body, from: bob, to: chat)
            if index % 10 == 0 { matching.append(message.seq) }
        }
        _ = try await store.search("plain", as: alice, in: nil, limit: 1)  // brings the index up to date
        let text = SearchText(query: "quayxyz*")
        func scan(
            in conversation: ConversationID?, candidates: Int, rows: Int, as user: UserID? = nil
        ) async throws -> [Int64]? {
            try await store.writer.read { db in
                let patterns = try text.terms.map { try PrefixExpansion.pattern($0, .current, db) }
                let outcome = try BroadPrefixScan.newestMatches(
                    db, text, patterns: patterns, user: user ?? alice, conversation: conversation,
                    candidateLimit: candidates, examinedRowLimit: rows
                )
                guard let outcome else { return nil }
                if outcome.candidates.isEmpty { return [] }
                let density = try #require(outcome.densities[0])
                #expect(density > 0 && density <= 1)
                let seqs = try outcome.candidates.map { candidate in
                    try Int64.fetchOne(
                        db, sql: "SELECT seq FROM message WHERE rowNumber = ?", arguments: [candidate.rowNumber]
                    ) ?? 0
                }
                return seqs
            }
        }
        for conversation in [nil, chat] {
            // Enough matches among the newest rows: the newest first, no more than asked for.
            let newest = try await scan(in: conversation, candidates: 2, rows: 100)
            #expect(newest == Array(matching.reversed().prefix(2)))
            // Every row read: all matches, the crowded message among them.
            let all = try await scan(in: conversation, candidates: 100, rows: 100)
            #expect(all?.count == matching.count + 1)
            // The newest 25 rows hold 2 matches of the 3 asked for, and older rows remain: FTS5 must answer.
            #expect(try await scan(in: conversation, candidates: 3, rows: 25) == nil)
        }
        // Someone who is not a member finds nothing, in the conversation or anywhere.
        #expect(try await scan(in: chat, candidates: 2, rows: 100, as: carol) == [])
        #expect(try await scan(in: nil, candidates: 2, rows: 100, as: carol) == [])
        // The store's search finds them all either way.
        #expect(try await store.search("quayxyz*", as: alice, in: nil, limit: 10).count == matching.count + 1)
    }
}
