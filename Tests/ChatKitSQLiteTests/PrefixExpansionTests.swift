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

/// Prefix terms rewritten as the `OR` of their indexed words (`PrefixExpansion`). That searches rank as FTS5
/// does with its own prefix queries is checked by `SearchRankingTests`.
@Suite("Prefix expansion")
struct PrefixExpansionTests {
    @Test("a prefix becomes the OR of its indexed words; none, or too many, keep FTS5's prefix query")
    func rewritesPrefixes() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        _ = try await fixture.send("The harbour, two harbours and a harbinger; \"harb\"quoted", from: alice, to: chat)
        let many = (1...(PrefixExpansion.maximumWords + 1)).map { String(format: "w%04d", $0) }
        _ = try await fixture.send(many.joined(separator: " "), from: alice, to: chat)
        _ = try await store.search("harbour", as: bob, in: nil, limit: 1)  // brings the index up to date

        func pattern(_ query: String) async throws -> String {
            let term = try #require(SearchText(query: query).terms.first)
            return try await store.writer.read { try PrefixExpansion.pattern(term, hasWordTable: true, $0) }
        }
        #expect(try await pattern("harb*") == #"("harb" OR "harbinger" OR "harbour" OR "harbours")"#)
        #expect(try await pattern("HARBO*") == #"("harbour" OR "harbours")"#)
        #expect(try await pattern("harbour") == #""harbour""#)
        #expect(try await pattern("zebra*") == #""zebra" *"#)
        #expect(try await pattern("w0*") == #""w0" *"#, "more words than the limit")
        #expect(try await pattern("日本*") == #""日本" *"#, "not ASCII: FTS5 folds the prefix itself")
        #expect(try await pattern("w000*") == "(" + many.prefix(9).map { "\"\($0)\"" }.joined(separator: " OR ") + ")")
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
            _ = try await fixture.send("nothing to see", from: bob, to: chat)
            let many = (1...(PrefixExpansion.maximumWords + 1)).map { String(format: "w%04d", $0) }
            let crowded = try await fixture.send(many.joined(separator: " "), from: alice, to: chat)
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 10).map(\.message.id))
            }
            #expect(try await found("harb*") == [harbour.id, harbinger.id])
            #expect(try await found("harbo*") == [harbour.id])
            #expect(try await found("spring harb*") == [harbinger.id])
            #expect(try await found("w02*") == [crowded.id])
            #expect(try await found("w*") == [crowded.id], "more words than the limit: FTS5's own prefix query")
            #expect(try await found("zebra*").isEmpty)
        }
    }
}
