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

/// The append path of `Schema.v3`: messages that are their own `messageCreated` events, search indexing in
/// batches, time-ordered message IDs.
@Suite("Append path")
struct AppendPathTests {
    @Test("a message's created event keeps the original through edits and reactions; deleting it leaves no copy")
    func createdEventFollowsChanges() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        let message = try await fixture.send("original words", from: alice, to: chat)
        func created() async throws -> StoredEvent? {
            try await store.events(for: bob, after: .start, limit: 100).events.first { $0.kind == .messageCreated }
        }
        #expect(try await created()?.message == message)
        #expect(try await store.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM event WHERE kind = 'messageCreated'") } == 0)

        _ = try await store.editMessage(message.id, body: "edited words", by: alice)
        _ = try await store.addReaction("🎉", to: message.id, by: bob)
        #expect(try await created()?.message == message, "the created event shows the message as created")
        #expect(try await store.allEvents(after: .start, limit: 100).first { $0.kind == .messageCreated }?.message == message)

        _ = try await store.deleteMessage(message.id, by: alice)
        let tombstone = try #require(try await created()?.message)
        #expect(tombstone.isDeleted && tombstone.body.isEmpty && tombstone.reactions.isEmpty)
        let payloads = try await store.writer.read { try Data.fetchAll($0, sql: "SELECT payload FROM event") }
        #expect(!payloads.contains { String(decoding: $0, as: UTF8.self).contains("original words") })
    }

    @Test("sync and allEvents merge message rows and stored events in position order, page by page")
    func mergesBothPlaces() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let group = try await fixture.group(alice, [bob])
        let other = try await fixture.group(bob, [alice])
        for round in 0..<30 {
            let message = try await fixture.send("round \(round)", from: round.isMultiple(of: 2) ? alice : bob, to: round.isMultiple(of: 3) ? other : group)
            if round.isMultiple(of: 4) { _ = try await store.markRead(message.conversationID, upTo: message.seq, by: bob) }
            if round.isMultiple(of: 5) { _ = try await store.editMessage(message.id, body: "round \(round)!", by: message.senderID) }
        }
        let all = try await store.allEvents(after: .start, limit: 1000)
        // Consecutive from where this opening of the store started (its `PositionFloor`).
        let first = try #require(all.first).position.rawValue
        #expect(all.map(\.position.rawValue) == Array(first..<first + Int64(all.count)))
        for pageSize in [1, 3, 7, 100] {
            var paged: [StoredEvent] = []
            var cursor = StreamPosition.start
            while true {
                let page = try await store.events(for: bob, after: cursor, limit: pageSize)
                paged += page.events
                cursor = page.cursor
                if !page.hasMore { break }
            }
            #expect(paged == all, "sync pages of \(pageSize)")
            var tail: [StoredEvent] = []
            cursor = .start
            while case let page = try await store.allEvents(after: cursor, limit: pageSize), !page.isEmpty {
                tail += page
                cursor = page.last!.position
            }
            #expect(tail == all, "allEvents pages of \(pageSize)")
        }
        #expect(try await store.latestPosition() == all.last?.position)
    }

    @Test("messages not indexed when a store closes are found after it reopens")
    func indexesLeftoversAfterReopening() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            var store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            try await fixture.send(count: 20, from: alice, to: group, prefix: "leftover")
            try store.close()
            // Unindexed, as a crash before the batch leaves them (on a loaded machine the batch may have run).
            let queue = try Fixtures.openWithSearchIndex(path)
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                        SELECT 'delete', rowNumber, body, searchScope FROM messageSearchSource
                        WHERE rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1);
                        UPDATE searchProgress SET indexedUpTo = 0 WHERE id = 1;
                        """
                )
            }
            let unindexed = try await queue.read { try SearchIndex.progress($0) }
            try queue.close()
            #expect(unindexed.lastRow > unindexed.indexedUpTo)

            store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            #expect(try await store.search("leftover", as: alice, in: nil, limit: 100).count == 20)
            let indexed = try await store.writer.read { try SearchIndex.progress($0) }
            #expect(indexed.lastRow == indexed.indexedUpTo)
        }
    }

    @Test("a search matches unindexed messages by scanning them when the index cannot be written")
    func scansWhenIndexingFails() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        let indexed = try await fixture.send("harbour one", from: alice, to: group)
        _ = try await store.search("anything", as: alice, in: nil, limit: 1)  // indexes it
        // Make the index unwritable: indexing now fails like on a full disk.
        try await store.refuseIndexWrites()
        let pending = try await fixture.send("the harbour two", from: alice, to: group)
        let hits = try await store.search("HARBOUR", as: alice, in: nil, limit: 10)
        #expect(hits.map(\.message.id) == [indexed.id, pending.id])
        #expect(hits.last?.snippet == "the [harbour] two")
    }

    @Test("message IDs are UUIDs that grow with time, and stay unique within a millisecond")
    func timeOrderedIDs() {
        let generator = MessageIDGenerator()
        let now = Date(timeIntervalSince1970: 1_764_000_000.123)
        let ids = (0..<5000).map { _ in generator.next(at: now).rawValue }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { UUID(uuidString: $0) != nil && $0 == $0.lowercased() })
        #expect(ids[0].hasPrefix("019ab697-e87b-7"), "\(ids[0])")  // 1,764,000,000,123 ms = 0x19ab697e87b
        let later = generator.next(at: now.addingTimeInterval(0.001)).rawValue
        #expect(later > ids.last!)
    }
}
