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

/// Prefix terms as FTS5 prefix queries or rewritten as the `OR` of their indexed words (`PrefixExpansion`). That
/// searches rank as FTS5 does with its own prefix queries is checked by `SearchRankingTests`.
@Suite("Prefix expansion")
struct PrefixExpansionTests {
    @Test("a prefix of 1 to 4 characters is FTS5's; a longer one becomes the OR of its words, unless too many")
    func rewritesPrefixes() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        _ = try await fixture.send("The harbour, two harbours and a harbinger; \"harb\"quoted", from: alice, to: chat)
        let many = (1...(PrefixExpansion.maximumWords + 1)).map { String(format: "quayxyz%04d", $0) }
        _ = try await fixture.send(many.joined(separator: " "), from: alice, to: chat)
        _ = try await store.search("harbour", as: bob, in: nil, limit: 1)  // brings the index up to date

        func pattern(_ query: String, _ capabilities: PrefixExpansion.Capabilities = .current) async throws -> String {
            let term = try #require(SearchText(query: query).terms.first)
            return try await store.writer.read { try PrefixExpansion.pattern(term, capabilities, $0).text }
        }
        // Prefixes the index holds (Schema.v12PrefixLengths: 1 to 6 characters).
        #expect(try await pattern("h*") == #""h" *"#)
        #expect(try await pattern("ha*") == #""ha" *"#)
        #expect(try await pattern("harb*") == #""harb" *"#)
        #expect(try await pattern("HARBO*") == #""harbo" *"#)
        #expect(try await pattern("harbou*") == #""harbou" *"#)
        #expect(try await pattern("日本*") == #""日本" *"#)
        let indexed = try await store.writer.read { db in
            try PrefixExpansion.pattern(SearchText(query: "harbou*").terms[0], .current, db)
        }
        #expect(indexed.isIndexedPrefix, "one posting list: taken like a word")
        // Longer ones.
        #expect(try await pattern("HARBOUR*") == #"("harbour" OR "harbours")"#)
        #expect(try await pattern("harbour") == #""harbour""#)
        #expect(try await pattern("zebra*") == #""zebra" *"#, "no such word")
        #expect(try await pattern("quayxyz*") == #""quayxyz" *"#, "more words than the limit")
        let broad = try await store.writer.read {
            try PrefixExpansion.pattern(SearchText(query: "quayxyz*").terms[0], .current, $0)
        }
        #expect(broad.isBroad, "a prefix of more words than the limit is broad")
        #expect(try await pattern("日本語のテ*") == #""日本語のテ" *"#, "not ASCII: FTS5 folds the prefix itself")
        #expect(
            try await pattern("quayxyz000*") == "(" + many.prefix(9).map { "\"\($0)\"" }.joined(separator: " OR ") + ")"
        )
        // A database with the prefixes of v6 to v11 (1 to 4 characters) expands those of 5 and 6.
        let v6Prefixes = PrefixExpansion.Capabilities(hasWordTable: true, prefixLengths: Schema.v6PrefixLengths)
        #expect(try await pattern("harbo*", v6Prefixes) == #"("harbour" OR "harbours")"#)
        #expect(try await pattern("harb*", v6Prefixes) == #""harb" *"#)
        // A database without prefix indexes (migrated up to v5) expands short prefixes too.
        let withoutPrefixIndex = PrefixExpansion.Capabilities(hasWordTable: true, prefixLengths: nil)
        #expect(
            try await pattern("harb*", withoutPrefixIndex) == #"("harb" OR "harbinger" OR "harbour" OR "harbours")"#
        )
    }

    /// More than `maximumWords` indexed words that fold to a prefix but do not begin with it ("άλφα1" for "α*":
    /// FTS5 keeps the tonos) were dropped from the search: it found only the words spelled as the prefix.
    @Test("a prefix that too many other spellings fold to asks for their beginnings, and finds every message")
    func manyOtherSpellingsOfAPrefix() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        var sent: Set<MessageID> = []
        for index in 1...(PrefixExpansion.maximumWords + 20) {
            let word = (index % 2 == 0 ? "άλφα" : "ἀλφα") + String(index)
            sent.insert(try await fixture.send("\(word) here", from: alice, to: chat).id)
        }
        sent.insert(try await fixture.send("αλφα plain", from: alice, to: chat).id)
        try await store.searchIndex.catchUp()
        let term = try #require(SearchText(query: "α*").terms.first)
        let others = try await store.writer.read { try PrefixExpansion.otherSpellings(of: term, $0) }
        #expect(others == .init(forms: ["ά", "ἀ"], areWords: false))
        let pattern = try await store.writer.read { try PrefixExpansion.pattern(term, .current, $0).text }
        #expect(pattern == #"("α" * OR "ά" * OR "ἀ" *)"#)
        for query in ["α*", "αλ*", "ΑΛΦ*", "αλφα*"] {
            let found = Set(try await store.search(query, as: bob, in: nil, limit: .max).map(\.message.id))
            #expect(found == sent, "\(query): \(found.count) of \(sent.count)")
        }
        // A prefix longer than the index's prefixes keeps its own pattern when too many words fold to it.
        let long = try #require(SearchText(query: "αλφα1*").terms.first)
        let longOthers = try await store.writer.read { try PrefixExpansion.otherSpellings(of: long, $0) }
        #expect(longOthers.areWords)
    }

    @Test("prefix searches find the same messages on a file database, whose readers open read-only")
    func searchesOnFile() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("prefix.sqlite").path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let harbour = try await fixture.send("meet at the harbour", from: alice, to: chat)
            let harbinger = try await fixture.send("a harbinger of spring", from: bob, to: chat)
            let nothing = try await fixture.send("nothing to see", from: bob, to: chat)
            let many = (1...(PrefixExpansion.maximumWords + 1)).map { String(format: "w%04d", $0) }
            let crowded = try await fixture.send(many.joined(separator: " "), from: alice, to: chat)
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 10).map(\.message.id))
            }
            #expect(try await found("ha*") == [harbour.id, harbinger.id])
            #expect(try await found("harb*") == [harbour.id, harbinger.id])
            #expect(try await found("harbo*") == [harbour.id])
            #expect(try await found("spring harb*") == [harbinger.id])
            #expect(try await found("spring harbi*") == [harbinger.id])
            #expect(try await found("w02*") == [crowded.id])
            #expect(try await found("w0002*") == [crowded.id])
            #expect(try await found("w*") == [crowded.id])
            #expect(try await found("s*") == [harbinger.id, nothing.id])
            #expect(try await found("zebra*").isEmpty)
        }
    }

    @Test("a v5 database gets the prefix indexes; its unindexed messages are indexed once, and edits follow")
    func migratesFifthVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v5.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v5)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let harbour = try await fixture.send("harbour lights", from: alice, to: chat)
            #expect(try await old.search("harbo*", as: bob, in: nil, limit: 10).map(\.message.id) == [harbour.id])
            // A row the old version appended but did not index before it stopped (no background batch either).
            old.searchIndex.close()
            try await old.insertUnindexedMessage(id: "late", body: "Harbinger of spring", in: chat, from: alice)
            try old.close()

            let store = try SQLiteChatStore(configuration: .init(path: path))
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) } == Schema.all)
            func found(_ query: String) async throws -> [MessageID] {
                try await store.search(query, as: bob, in: nil, limit: 10).map(\.message.id)
                    .sorted { $0.rawValue < $1.rawValue }
            }
            let late = MessageID(rawValue: "late")
            let both = [harbour.id, late].sorted { $0.rawValue < $1.rawValue }
            // Once each: the migration indexed the late row and moved the mark past it.
            #expect(try await found("harb*") == both)
            #expect(try await found("ha*") == both)
            #expect(try await found("harbinger") == [late])
            _ = try await store.editMessage(late, body: "nothing here", by: alice)
            #expect(try await found("harb*") == [harbour.id])
            #expect(try await found("nothing") == [late])
        }
    }
}
