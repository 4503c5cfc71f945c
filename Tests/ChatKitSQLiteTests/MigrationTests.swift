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

@Suite("Migrations")
struct MigrationTests {
    @Test("a database written by the first schema version migrates with its data intact")
    func migratesFirstVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v1.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let before = try DatabaseQueue(path: path)
            #expect(try await before.read { try Schema.migrator.appliedMigrations($0) } == [Schema.v1])
            #expect(try await before.read { try $0.tableExists("messageSearch") } == false)
            try before.close()

            let alice: UserID = "e5168e21-b0c4-41c8-8553-691758b06299"
            let bob: UserID = "18d5136d-dd01-414b-a9da-76d8c84995d0"
            let group: ConversationID = "11a1cb44-03c0-4db4-acc1-f7535fe8b06c"
            let written = [
                ("018f67ba-da74-4145-a534-d9348c0ca0ef", "fe3eae17-3072-4055-bbf7-8c8d66416e58",
                    "Un café, s'il vous plaît", 1_764_000_004_000),
                ("fe96cdea-92ab-4911-9851-43237429ad19", "cab9a2c2-0ce6-4d89-9107-33cc739e3645", "Crème brûlée",
                    1_764_000_005_000),
                ("ffa18780-5656-4535-8a2f-499a2d3bc413", "0b8d4b74-5aa3-4563-8f9e-244421c26b46", "See you at the cafe",
                    1_764_000_006_000),
            ].enumerated().map { index, fields in
                Message(
                    id: MessageID(rawValue: fields.0), conversationID: group, seq: Int64(index + 1), senderID: alice,
                    clientMessageID: ClientMessageID(rawValue: fields.1), body: fields.2,
                    createdAt: Codec.date(Int64(fields.3))
                )
            }

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            #expect(try await store.user(username: "alice")?.id == alice)
            #expect(try await store.credentials(of: alice)?.passwordHash == "hash")
            #expect(try await store.messages(in: group, .latest(), as: bob) == written)
            #expect(try await store.markers(of: group, as: alice).first { $0.userID == bob }?.readSeq == 2)
            let events = try await store.events(for: bob, after: .start, limit: 100).events
            #expect(
                events.map(\.kind) == [
                    .conversationCreated, .messageCreated, .messageCreated, .messageCreated, .markerUpdated,
                ]
            )
            #expect(events.compactMap(\.message) == written)
            // The search index was filled from the messages already there.
            let hits = try await store.search("cafe", as: bob, in: nil, limit: 10)
            #expect(Set(hits.map(\.message.id)) == [written[0].id, written[2].id])
            // And the store carries on where the old version stopped.
            let next = try await store.append(NewMessage(conversationID: group, senderID: bob, body: "Un autre café"))
            #expect(next.seq == 4)
            #expect(try await store.search("cafe", as: bob, in: group, limit: 10).count == 3)
            let later = try await store.events(for: bob, after: events.last!.position, limit: 10).events
            #expect(later.map(\.kind) == [.messageCreated] && later.first?.message == next)
        }
    }

    @Test("v8 indexes the event audience by position, which deleting an edited message's copied event checks")
    func eventAudienceIsIndexedByPosition() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("audience.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let store = try SQLiteChatStore(path: path)
            try store.close()
            let database = try DatabaseQueue(path: path)
            defer { try? database.close() }
            // The foreign key's check of a deleted event looks the position up in it instead of reading the table.
            let (applied, plan) = try await database.read { db -> ([String], [String]) in
                let applied = try Schema.migrator.appliedMigrations(db)
                let plan = try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN SELECT 1 FROM eventAudience WHERE position = 41"
                ).map { row -> String in row["detail"] }
                return (applied, plan)
            }
            #expect(applied == Schema.all)
            #expect(plan.contains { $0.contains("eventAudience_position") }, "\(plan)")
        }
    }

    @Test("v9 keeps each conversation's member count: filled from the members, then in step with them")
    func memberCountsAreKeptWithConversations() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("counts.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let alice: UserID = "e5168e21-b0c4-41c8-8553-691758b06299"
            let group: ConversationID = "11a1cb44-03c0-4db4-acc1-f7535fe8b06c"
            func counts() async throws -> (kept: Int, counted: Int) {
                try await store.writer.read { db in
                    let kept = try Int.fetchOne(
                        db, sql: "SELECT memberCount FROM conversation WHERE id = ?", arguments: [group.rawValue]
                    )
                    let counted = try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM member WHERE conversationID = ?", arguments: [group.rawValue]
                    )
                    return (kept ?? -1, counted ?? -2)
                }
            }
            var (kept, counted) = try await counts()
            #expect(kept == counted && counted > 0, "filled by the migration: \(kept) of \(counted)")
            let carol = try await store.createUser(NewUser(username: "carol"), passwordHash: nil).id
            _ = try await store.addMembers([carol], to: group, role: .member, by: alice)
            (kept, counted) = try await counts()
            #expect(kept == counted, "after an addition: \(kept) of \(counted)")
            try await store.removeMember(carol, from: group, by: alice)
            (kept, counted) = try await counts()
            #expect(kept == counted, "after a removal: \(kept) of \(counted)")
            let memberships = try await store.memberships(of: alice)
            #expect(memberships.first { $0.conversationID == group }?.memberCount == counted)
        }
    }

    @Test("v10 indexes each conversation's owners, which leaving and removing members count")
    func ownersAreIndexed() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("owners.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let alice: UserID = "e5168e21-b0c4-41c8-8553-691758b06299"
            let group: ConversationID = "11a1cb44-03c0-4db4-acc1-f7535fe8b06c"
            // On the writer, which counts owners (inside the write that removes a member). EXPLAIN on a reader that
            // loaded the schema before the migration shows the old plan: it never checks the schema's version.
            let (applied, plan, owners) = try await store.writer.write { db -> ([String], [String], Int) in
                let sql = "SELECT COUNT(*) FROM member WHERE conversationID = ? AND role = 'owner'"
                let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: [group.rawValue])
                    .map { row -> String in row["detail"] }
                return (try Schema.migrator.appliedMigrations(db), plan, try Lookups.ownerCount(db, group))
            }
            #expect(applied == Schema.all)
            #expect(plan.contains { $0.contains("member_owner") }, "\(plan)")
            #expect(owners == 1)
            // The index follows role changes: a second owner may let the first leave, the last may not.
            let bob = try await store.createUser(NewUser(username: "bobby"), passwordHash: nil).id
            _ = try await store.addMembers([bob], to: group, role: .member, by: alice)
            await #expect(throws: ChatError.self) { try await store.removeMember(alice, from: group, by: alice) }
            _ = try await store.setRole(.owner, of: bob, in: group, by: alice)
            try await store.removeMember(alice, from: group, by: alice)
            let refused = await #expect(throws: ChatError.self) {
                try await store.removeMember(bob, from: group, by: bob)
            }
            #expect(refused?.code == .conflict)
        }
    }

    @Test("a cancelled task's read or write is a CancellationError, not a storage failure")
    func cancellationIsNotAStorageFailure() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("cancel.sqlite").path)
            defer { try? store.close() }
            let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
            let read = await Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await store.conversations(of: alice)
            }.result
            #expect(throws: CancellationError.self) { try read.get() }
            let write = await Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await store.createUser(NewUser(username: "bob"), passwordHash: nil)
            }.result
            #expect(throws: CancellationError.self) { try write.get() }
        }
    }

    @Test("a database written before v3 migrates; its old messages are found, synced and edited as before")
    func migratesSecondVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v2.sqlite").path
            try Fixtures.restore(Fixtures.secondVersion, to: path)
            let alice: UserID = "a5f8b60a-80b4-447a-a20f-fa7670d9b13f"
            let bob: UserID = "ae069514-9e14-4b31-a531-854b013ae8d4"
            let group: ConversationID = "d37d59c1-fbc9-4dc1-a635-3e5d94b83fa8"
            let direct: ConversationID = "a12860ee-1776-49a7-bb20-562fe70d88cb"
            let (cafe, seeYou, reply, edited, deleted, privateChat): (MessageID, MessageID, MessageID, MessageID, MessageID, MessageID) = (
                "4079bef9-5e3a-45f6-82d2-e4b0fd850c4d", "f7c7782e-4934-4ead-9ab1-73896e561340",
                "a69ecf98-5a6d-4ffe-b048-08a44a242ec9", "43db1c70-f992-481e-a4d1-22a52ad5204f",
                "bb6993e7-dfdc-45f3-956f-aa5b119799a5", "ac25cb90-aac0-40f2-8379-6a3e1b04a3ee"
            )

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            #expect(
                try await store.writer.read { try Schema.migrator.appliedMigrations($0) }
                    == Schema.all
            )

            // Search finds the old messages by their current text, never a deleted one.
            func found(_ query: String, _ user: UserID = alice) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: user, in: nil, limit: 10).map(\.message.id))
            }
            #expect(try await found("cafe") == [cafe, seeYou, reply, privateChat])
            #expect(try await found("wording") == [edited])
            #expect(try await found("draft").isEmpty)
            #expect(try await found("secret").isEmpty)
            #expect(try await found("4711").isEmpty)

            // The old events read as before: the created event of the edited message shows the original, the
            // deleted message shows as a tombstone everywhere.
            let events = try await store.events(for: bob, after: .start, limit: 100).events
            #expect(events.map(\.position.rawValue) == Array(1...13))
            #expect(
                events.map(\.kind) == [
                    .conversationCreated, .messageCreated, .messageCreated, .messageCreated, .markerUpdated,
                    .messageCreated, .messageCreated, .messageEdited, .messageCreated, .messageDeleted, .reactionAdded,
                    .conversationCreated, .messageCreated,
                ]
            )
            #expect(events[5].message?.replyTo == cafe && events[5].message?.mentions == [alice])
            #expect(events[6].message?.body == "draft wording of the agenda")
            #expect(events[7].message?.body == "final wording of the agenda")
            #expect(events[8].message?.id == deleted && events[8].message?.isDeleted == true)
            #expect(events[8].message?.body == "")
            #expect(events[10].message?.reactions.map(\.emoji) == ["👍"])
            #expect(try await store.allEvents(after: .start, limit: 100) == events)

            // Old messages are edited like new ones, and the index follows.
            _ = try await store.editMessage(seeYou, body: "See you at the bistro", by: alice)
            #expect(try await found("bistro") == [seeYou])
            #expect(try await found("cafe") == [cafe, reply, privateChat])
            // The store carries on where the old version stopped.
            let next = try await store.append(NewMessage(conversationID: group, senderID: bob, body: "Un autre café"))
            #expect(next.seq == 7)
            #expect(try await found("cafe", bob) == [cafe, reply, privateChat, next.id])
            // Positions go on above the old ones (from this opening's `PositionFloor`).
            let later = try await store.events(for: bob, after: StreamPosition(13), limit: 10).events
            #expect(later.map(\.kind) == [.messageEdited, .messageCreated])
            #expect(later.last?.message == next)
            #expect(later.last?.position == (later.first?.position).map { StreamPosition($0.rawValue + 1) })
            #expect(try #require(later.first).position > StreamPosition(13))
            #expect(try await store.latestPosition() == later.last?.position)
            #expect(try await store.messages(in: direct, .latest(), as: bob).map(\.id) == [privateChat])
        }
    }

    @Test("a v3 database migrates to the client-ID-first index; messages, events, search and resends carry on")
    func migratesThirdVersion() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v3.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v3)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let group = try await fixture.group(alice, [bob])
            var sent: [Message] = []
            for index in 0..<40 {
                sent.append(
                    try await old.append(
                        NewMessage(
                            conversationID: group, senderID: index.isMultiple(of: 2) ? alice : bob,
                            clientMessageID: ClientMessageID(rawValue: "client-\(index)"),
                            body: "harbour note \(index)"
                        )
                    )
                )
            }
            // Index every row for search, so that the rebuild must keep the row numbers the index refers to; a
            // row removed from the middle leaves a gap in them.
            #expect(try await old.search("harbour", as: alice, in: nil, limit: 100).count == 40)
            let removed = sent[20].id.rawValue
            try await old.writer.write { try $0.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [removed]) }
            _ = try await old.editMessage(sent[3].id, body: "lighthouse note", by: bob)
            _ = try await old.addReaction("👍", to: sent[4].id, by: bob)
            _ = try await old.deleteMessage(sent[5].id, by: bob)
            let eventsBefore = try await old.allEvents(after: .start, limit: 1000)
            let historyBefore = try await old.messages(in: group, .latest(limit: 100), as: bob)
            let rowsBefore = try await old.writer.read { db in
                try String.fetchAll(db, sql: "SELECT rowNumber || ' ' || id FROM message ORDER BY rowNumber")
            }
            try old.close()

            let store = try SQLiteChatStore(configuration: .init(path: path))
            defer { try? store.close() }
            #expect(
                try await store.writer.read { try Schema.migrator.appliedMigrations($0) }
                    == Schema.all
            )
            let uniqueIndexes = try await store.writer.read { db in
                try db.indexes(on: "message").filter(\.isUnique).map(\.columns)
            }
            #expect(Set(uniqueIndexes) == [["id"], ["conversationID", "seq"], ["clientMessageID", "senderID"]])
            let foreignKeys = try await store.writer.read { try $0.foreignKeys(on: "message") }
            #expect(Set(foreignKeys.map { "\($0.originColumns)→\($0.destinationTable)" }) == ["[\"conversationID\"]→conversation", "[\"senderID\"]→user"])
            let rowsAfter = try await store.writer.read { db in
                try String.fetchAll(db, sql: "SELECT rowNumber || ' ' || id FROM message ORDER BY rowNumber")
            }
            #expect(rowsAfter == rowsBefore)
            #expect(try await store.allEvents(after: .start, limit: 1000) == eventsBefore)
            #expect(try await store.messages(in: group, .latest(limit: 100), as: bob) == historyBefore)

            // A resend of a message from before the migration returns it; a client ID used by another sender is
            // still that sender's own.
            let resent = try await store.append(
                NewMessage(conversationID: group, senderID: alice, clientMessageID: "client-10", body: "harbour note 10")
            )
            #expect(resent == sent[10])
            let bobsOwn = try await store.append(
                NewMessage(conversationID: group, senderID: bob, clientMessageID: "client-10", body: "bob's own")
            )
            #expect(bobsOwn.seq == 41)
            // The search triggers were made again: edits of migrated (indexed) rows reach the index.
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: alice, in: nil, limit: 100).map(\.message.id))
            }
            #expect(try await found("lighthouse") == [sent[3].id])
            _ = try await store.editMessage(sent[7].id, body: "lighthouse again", by: bob)
            #expect(try await found("lighthouse") == [sent[3].id, sent[7].id])
            #expect(try await found("harbour").count == 36)
            #expect(try await found("harbour note 20").isEmpty)
        }
    }

    @Test("a v3 database over half its size limit still migrates, and keeps its limit")
    func migratesUnderSizeLimit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("limited.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v3)
            let fixture = StoreFixture(old)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            let body = String(repeating: "a long message body ", count: 20)
            _ = await old.append(contentsOf: (0..<1000).map { NewMessage(conversationID: group, senderID: alice, body: "\($0) " + body) })
            try old.close()
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)

            // The rebuild copies the message table (most of the file) before it drops the old one.
            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.limits = .init(maximumDatabaseSize: size + 64 * 1024)
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.last == Schema.all.last)
            let next = try await store.append(NewMessage(conversationID: group, senderID: alice, body: "after"))
            #expect(next.seq == 1001)
            let pageLimit = try await store.writer.write { try Int64.fetchOne($0, sql: "PRAGMA max_page_count") }
            let pageCount = try await store.writer.read { try Int64.fetchOne($0, sql: "PRAGMA page_count") }
            #expect(try #require(pageLimit) < 4_294_967_294, "the limit is back")
            #expect(try #require(pageLimit) <= max(try #require(pageCount), (size + 64 * 1024) / 4096 + 1))
        }
    }

    /// v2 (the search index built over every message), v3 and v13 took pages under the size limit: a database of
    /// the first versions near its limit could not open.
    @Test("a first-version database near its size limit migrates, and keeps its limit")
    func migratesFirstVersionUnderSizeLimit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("limited-v1.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let alice = "e5168e21-b0c4-41c8-8553-691758b06299"
            let group = "11a1cb44-03c0-4db4-acc1-f7535fe8b06c"
            // Messages as the first version stored them (their events are not needed here), with many distinct
            // words, so that the search index v2 builds is a good part of the file.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                for number in 4...1003 {
                    try db.execute(
                        sql: """
                            INSERT INTO message (id, conversationID, seq, senderID, clientMessageID, body, createdAt)
                            VALUES (?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            "m-\(number)", group, number, alice, "k-\(number)",
                            (0..<20).map { "w\(number * 20 + $0)x\($0)" }.joined(separator: " "),
                            1_764_000_010_000 + number,
                        ]
                    )
                }
            }
            try await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try queue.close()
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64)

            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.limits = .init(maximumDatabaseSize: size + 16 * 1024)
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.last == Schema.all.last)
            let hits = try await store.search("w20000x0", as: UserID(rawValue: alice), in: nil, limit: 10)
            #expect(hits.map(\.message.seq) == [1000])
            let pageLimit = try await store.writer.write { try Int64.fetchOne($0, sql: "PRAGMA max_page_count") }
            #expect(try #require(pageLimit) < 4_294_967_294, "the limit is back")
        }
    }

    @Test("a v5 database near its size limit still gets its prefix indexes, and keeps its limit")
    func migratesToPrefixIndexesUnderSizeLimit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("limited-v5.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v5)
            let fixture = StoreFixture(old)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            // Many distinct words, so that the search index is a good part of the file.
            let messages = (0..<1000).map { number in
                NewMessage(
                    conversationID: group, senderID: alice,
                    body: (0..<20).map { "w\(number * 20 + $0)x\($0)" }.joined(separator: " ")
                )
            }
            _ = await old.append(contentsOf: messages)
            try await old.searchIndex.catchUp()
            try old.close()
            // The database's size with what its log may still hold (the file alone: when a connection was still
            // reading as the store closed, the log is left for the next open to apply, and the limit below was
            // then under the size the database already had, which SQLite refuses to write past).
            let measuring = try DatabaseQueue(path: path)
            let size = try await measuring.read { db in
                try #require(
                    try Int64.fetchOne(db, sql: "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")
                )
            }
            try measuring.close()

            // The new index, with its prefixes, is larger than the old one whose pages it reuses.
            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.limits = .init(maximumDatabaseSize: size + 16 * 1024)
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.last == Schema.all.last)
            #expect(try await store.search("w12345x*", as: alice, in: nil, limit: 5).count == 1)
            #expect(try await store.search("w1*", as: alice, in: nil, limit: 5).count == 5)
            let pageLimit = try await store.writer.write { try Int64.fetchOne($0, sql: "PRAGMA max_page_count") }
            #expect(try #require(pageLimit) < 4_294_967_294, "the limit is back")
        }
    }

    @Test("a v10 database gets its scope characters and an index that holds them, indexed rows or not")
    func migratesToScopeCharacters() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v10.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v10)
            let fixture = StoreFixture(old)
            let (alice, bob, carol) = (
                try await fixture.user("alice"), try await fixture.user("bob"), try await fixture.user("carol")
            )
            let big = try await fixture.group(alice, [bob])
            let small = try await fixture.group(alice, [carol])
            for index in 0..<60 { try await fixture.send("harbour \(index)", from: bob, to: big) }
            var smallMessages: [Message] = []
            for index in 0..<6 {
                smallMessages.append(try await fixture.send("harbour small \(index)", from: carol, to: small))
            }
            try await old.searchIndex.catchUp()
            // A row the old index does not hold yet (a crash before the catch-up), with a word of its own.
            let late = try await fixture.send("zephyrine harbour", from: carol, to: small)
            let mark = try await old.writer.write { db -> Int64 in
                let row = try #require(
                    try Int64.fetchOne(
                        db, sql: "SELECT rowNumber FROM message WHERE id = ?", arguments: [late.id.rawValue]
                    )
                )
                try db.execute(
                    sql: "INSERT INTO messageSearch(messageSearch, rowid, body) VALUES ('delete', ?, ?)",
                    arguments: [row, late.body]
                )
                try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = ?", arguments: [row - 1])
                try db.execute(sql: "DELETE FROM searchWord WHERE word = 'zephyrine'")
                return row - 1
            }
            try old.close()

            // Searches filtered as a large store's would be (only rare words left out).
            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.searchWays.scopeFilter = ScopeFilterTests.smallStore
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            try await store.searchIndex.catchUp()  // the index's own file, made from the messages (`Schema.v20`)
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) } == Schema.all)
            let (characters, indexedUpTo, words) = try await store.writer.read { db in
                (
                    try String?.fetchAll(db, sql: "SELECT searchScope FROM conversation"),
                    try Int64.fetchOne(db, sql: "SELECT indexedUpTo FROM searchProgress") ?? 0,
                    try String.fetchAll(db, sql: "SELECT word FROM searchWord WHERE word LIKE 'zephyr%'")
                )
            }
            #expect(characters.count == 2 && characters.allSatisfy { $0?.unicodeScalars.count == 1 })
            #expect(indexedUpTo > mark, "the rebuilt index holds every row")
            #expect(words == ["zephyrine"], "the words of the rows the old index lacked")
            // carol's scope is small: her searches go through the filter, and find what is there.
            let restriction = try await ScopeFilterTests.restriction(store, "harbour", carol, nil)
            guard case .filter = restriction else {
                Issue.record("carol's search is not filtered: \(String(describing: restriction))")
                return
            }
            #expect(try await store.search("harbour", as: carol, in: nil, limit: 100).count == 7)
            #expect(try await store.search("zephyr*", as: carol, in: nil, limit: 10).map(\.message.id) == [late.id])
            // The triggers were made again with the character: edits of migrated rows reach the index.
            _ = try await store.editMessage(smallMessages[2].id, body: "lighthouse", by: carol)
            #expect(try await store.search("lighthouse", as: carol, in: small, limit: 10).map(\.message.id) == [
                smallMessages[2].id
            ])
            #expect(try await store.search("harbour", as: carol, in: nil, limit: 100).count == 6)
            // A row the rebuild indexed, removed: the delete trigger gives FTS5 the character it indexed.
            let removed = smallMessages[4].id.rawValue
            try await store.writer.write { db in
                try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [removed])
            }
            #expect(try await store.search("harbour", as: carol, in: nil, limit: 100).count == 5)
            // New conversations get their character, and their messages are found through it.
            let migrated = StoreFixture(store)
            let later = try await migrated.direct(bob, carol)
            let fresh = try await migrated.send("harbour later", from: bob, to: later)
            #expect(try await store.search("later", as: carol, in: later, limit: 5).map(\.message.id) == [fresh.id])
            try await store.searchIndexWriter.writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
            }
        }
    }

    @Test("a v11 database gets prefix indexes of 5 and 6 letters; rows the old index lacked are indexed too")
    func migratesToLongerPrefixes() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v11.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v11)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            var sent: [Message] = []
            for body in ["harbour lights", "harbours at dusk", "the harbinger", "harbo the dog"] {
                sent.append(try await fixture.send(body, from: alice, to: chat))
            }
            try await old.searchIndex.catchUp()
            #expect(old.searchIndex.prefixLengths == Schema.v6PrefixLengths)
            // A row the old index does not hold yet (a crash before the catch-up), with a word of its own.
            let late = try await fixture.send("harboured zephyrine", from: bob, to: chat)
            try await old.writer.write { db in
                try Self.unindexLastRow(late.id, db)
                try db.execute(sql: "DELETE FROM searchWord WHERE word IN ('harboured', 'zephyrine')")
            }
            try old.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            try await store.searchIndex.catchUp()  // the index's own file, made from the messages (`Schema.v20`)
            let (applied, indexSQL, words) = try await store.writer.read { db in
                (
                    try Schema.migrator.appliedMigrations(db),
                    try String.fetchOne(db, sql: "SELECT sql FROM search.sqlite_master WHERE name = 'messageSearch'") ?? "",
                    try String.fetchAll(db, sql: "SELECT word FROM searchWord WHERE word IN ('harboured', 'zephyrine')")
                )
            }
            #expect(applied == Schema.all)
            #expect(indexSQL.contains("prefix='1 2 3 4 5 6'"), "\(indexSQL)")
            #expect(store.searchIndex.prefixLengths == Schema.v12PrefixLengths)
            #expect(words == ["harboured", "zephyrine"], "the words of the rows the old index lacked")
            // A 5- and a 6-letter prefix are one list each now, and find what the words would.
            let pattern = try await store.writer.read { db in
                try PrefixExpansion.pattern(SearchText(query: "harbou*").terms[0], .current, db)
            }
            #expect(pattern.isIndexedPrefix)
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 20).map(\.message.id))
            }
            #expect(try await found("harbo*") == [sent[0].id, sent[1].id, sent[3].id, late.id])
            #expect(try await found("harbou*") == [sent[0].id, sent[1].id, late.id])
            #expect(try await found("harboured*") == [late.id])
            // The triggers were made again: an edit of a migrated row reaches the index.
            _ = try await store.editMessage(sent[3].id, body: "a lighthouse", by: alice)
            #expect(try await found("harbo*") == [sent[0].id, sent[1].id, late.id])
            #expect(try await found("lighth*") == [sent[3].id])
            try await store.searchIndexWriter.writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
            }
        }
    }

    @Test("a v12 database's sessions get refresh times: none for those from before, the time of each refresh after")
    func v13KeepsRefreshTimes() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v12.sqlite").path
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            let old = try SQLiteChatStore(
                configuration: .init(location: .file(path), now: { start }), migratingUpTo: Schema.v12
            )
            let alice = try await StoreFixture(old).user("alice")
            let session = AuthSession(
                id: "phone", userID: alice, refreshTokenHash: "hash-1", createdAt: start,
                expiresAt: start.addingTimeInterval(3600)
            )
            try await old.createSession(session)
            let rotated = try await old.rotateRefreshToken(
                of: session.id, from: "hash-1", to: "hash-2", expiresAt: session.expiresAt
            )
            #expect(rotated.refreshedAt == nil)
            try old.close()

            let later = start.addingTimeInterval(60)
            let store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { later }))
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.contains(Schema.v13))
            let migrated = try #require(try await store.session(session.id))
            #expect(migrated.refreshTokenHash == "hash-2")
            #expect(migrated.refreshedAt == nil)
            #expect(migrated.credentialsVersion == nil, "a session from before v15 names no credentials version")
            let next = try await store.rotateRefreshToken(
                of: session.id, from: "hash-2", to: "hash-3", expiresAt: later.addingTimeInterval(3600)
            )
            #expect(next.refreshedAt == later)
            #expect(try await store.session(session.id)?.refreshedAt == later)
        }
    }

    @Test("a v13 database's search finds Greek and Cyrillic words written without their diacritics")
    func v14FoldsIndexedWords() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v13.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v13)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let athens = try await fixture.send("Πάμε Αθήνα αύριο", from: alice, to: chat)
            let tree = try await fixture.send("Купи ёлку", from: alice, to: chat)
            try await old.searchIndex.catchUp()
            #expect(try await old.search("αθηνα", as: bob, in: nil, limit: 5).isEmpty, "FTS5 keeps the tonos")
            // A row not indexed at the migration (a crash before its batch): its batch adds its words' foldings.
            let later = try await fixture.send("Straße αύριο", from: bob, to: chat)
            try await old.searchIndex.catchUp()
            old.searchIndex.close()  // no background batch indexes it again before the store closes
            try await old.writer.write { db in
                try Self.unindexLastRow(later.id, db)
                try db.execute(sql: "DELETE FROM searchWord WHERE word = 'straße'")
            }
            try old.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            try await store.searchIndex.catchUp()  // the index's own file, made from the messages (`Schema.v20`)
            func foldings() async throws -> [String] {
                try await store.writer.read { db in
                    try Row.fetchAll(db, sql: "SELECT folded, word FROM searchWordFolding ORDER BY folded, word").map {
                        "\(try $0.decode(String.self, atIndex: 0)) \(try $0.decode(String.self, atIndex: 1))"
                    }
                }
            }
            // Those of the indexed rows; the last row's ("straße") come with its batch (at the first search, or
            // sooner in the background).
            let migrated = Set(try await foldings())
            #expect(migrated.isSuperset(of: ["αθηνα αθήνα", "αυριο αύριο", "παμε πάμε", "елку ёлку"]), "\(migrated)")
            func found(_ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 20).map(\.message.id))
            }
            #expect(try await found("αθηνα") == [athens.id])
            #expect(try await found("ΑΘΗΝΑ") == [athens.id])
            #expect(try await found("αθη*") == [athens.id])
            #expect(try await found("елку") == [tree.id])
            #expect(try await found("αυριο") == [athens.id, later.id])
            #expect(try await found("strasse") == [later.id])
            #expect(try await foldings() == ["strasse straße", "αθηνα αθήνα", "αυριο αύριο", "παμε πάμε", "елку ёлку"])
            try await store.searchIndexWriter.writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
            }
        }
    }

    @Test("a v15 database's conversations carry on; creations with a key are made once from then on")
    func v16KeepsCreationKeys() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v15.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v15)
            let fixture = StoreFixture(old)
            let ids = try await fixture.users("alice", "bob")
            let (alice, bob) = (ids[0], ids[1])
            let before = try await old.createConversation(.group("Team", createdBy: alice, members: [bob]))
            _ = try await fixture.send("hello", from: alice, to: before.id)
            try old.close()

            let store = try SQLiteChatStore(configuration: .init(path: path))
            defer { try? store.close() }
            #expect(try await store.writer.read { try Schema.migrator.appliedMigrations($0) }.contains(Schema.v16))
            #expect(try await store.conversation(before.id, as: bob).title == "Team")
            #expect(try await store.messages(in: before.id, .latest(), as: bob).map(\.body) == ["hello"])
            let first = try await store.createConversation(.group("Team", createdBy: alice, creationKey: "k"))
            let again = try await store.createConversation(.group("Team", createdBy: alice, creationKey: "k"))
            #expect(again.id == first.id)
            #expect(first.id != before.id)
            #expect(try await store.conversations(of: alice).count == 2)
        }
    }

    @Test("v17 indexes the events that carry message copies: a deletion reads those, not every marker move after")
    func v17IndexesMessageCopies() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v16.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v16)
            let fixture = StoreFixture(old)
            let ids = try await fixture.users("alice", "bob")
            let (alice, bob) = (ids[0], ids[1])
            let chat = try await fixture.direct(alice, bob)
            let message = try await fixture.send("secret plans", from: alice, to: chat)
            _ = try await old.editMessage(message.id, body: "secret plans, edited", by: alice)
            // Read markers moving with every message: most of a conversation's events.
            for index in 1...300 {
                let reply = try await fixture.send("reply \(index)", from: bob, to: chat)
                _ = try await old.markRead(chat, upTo: reply.seq, by: alice)
            }
            try old.close()

            let store = try SQLiteChatStore(configuration: .init(path: path))
            defer { try? store.close() }
            let plan = try await store.writer.write { db in
                try db.execute(sql: "ANALYZE")
                let rows = try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + EventRedactions.candidatesSQL,
                    arguments: ["m", chat.rawValue, 0, Int64.max, EventRedactions.candidatesPerTransaction]
                )
                return rows.map { $0["detail"] as String? ?? "" }.joined(separator: "; ")
            }
            #expect(plan.contains("event_messageCopy"), "\(plan)")
            // The deletion still finds the edit's copy and redacts it.
            _ = try await store.deleteMessage(message.id, by: alice)
            let payloads = try await store.writer.read { db in
                try Data.fetchAll(
                    db, sql: "SELECT payload FROM event WHERE conversationID = ?", arguments: [chat.rawValue]
                )
            }
            #expect(!payloads.contains { String(decoding: $0, as: UTF8.self).contains("secret plans") })
        }
    }

    @Test("a v17 database's search finds words with vowel signs whole, and words next to emoji")
    func v18TokenizesAsSearchTextDoes() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("v17.sqlite").path
            let old = try SQLiteChatStore(configuration: .init(path: path), migratingUpTo: Schema.v17)
            let fixture = StoreFixture(old)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let book = try await fixture.send("मेरी किताब", from: alice, to: chat)
            let home = try await fixture.send("मेरा घर", from: alice, to: chat)
            let smile = try await fixture.send("ok🙂 lol🤣 Αθήνα Ⓐlice", from: bob, to: chat)
            try await old.searchIndex.catchUp()
            func found(_ store: SQLiteChatStore, _ query: String) async throws -> Set<MessageID> {
                Set(try await store.search(query, as: bob, in: nil, limit: 20).map(\.message.id))
            }
            #expect(try await found(old, "मेरी") == [book.id, home.id], "the old index splits at vowel signs")
            #expect(try await found(old, "ok").isEmpty, "the old index joins words with later emoji")
            // A row not indexed at the migration (a crash before its batch), with a nukta and vowel signs.
            let late = try await fixture.send("दरवाज़ा खोलो", from: bob, to: chat)
            try await old.searchIndex.catchUp()
            old.searchIndex.close()  // no background batch indexes it again before the store closes
            try await old.writer.write { db in
                try Self.unindexLastRow(late.id, db)
                // The word table as a v17 store leaves it: the old index's words (this build's store adds the new
                // tokenizer's), and their foldings.
                try db.execute(sql: "DELETE FROM searchWord")
                try db.execute(sql: "DELETE FROM searchWordFolding")
                let oldWords = try SearchWordsTests.indexWords(db)
                for word in oldWords {
                    try db.execute(sql: "INSERT INTO searchWord (word) VALUES (?)", arguments: [word])
                }
                try SearchWords.addFoldings(of: oldWords, db)
                // "lice" of "Ⓐlice": an ASCII word of text that is not ASCII, which the new tokenizer does not make.
                #expect(
                    oldWords.contains("म") && oldWords.contains("ok🙂") && oldWords.contains("lice"),
                    "\(oldWords.sorted())"
                )
            }
            try old.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            try await store.searchIndex.catchUp()  // the index's own file, made from the messages (`Schema.v20`)
            let (applied, indexSQL) = try await store.writer.read { db in
                (
                    try Schema.migrator.appliedMigrations(db),
                    try String.fetchOne(db, sql: "SELECT sql FROM search.sqlite_master WHERE name = 'messageSearch'")
                        ?? ""
                )
            }
            #expect(applied == Schema.all)
            #expect(indexSQL.contains("tokenize=\(IndexTokenizer.declaration)"))
            #expect(try await found(store, "मेरी") == [book.id])
            #expect(try await found(store, "मेरा") == [home.id])
            #expect(try await found(store, "म").isEmpty)
            #expect(try await found(store, "ok") == [smile.id])
            #expect(try await found(store, "lol") == [smile.id])
            #expect(try await found(store, "αθηνα") == [smile.id], "a folding of a word listed again")
            #expect(try await found(store, "दरवाज़ा") == [late.id])
            #expect(try await found(store, "दरवा*") == [late.id])
            // The word table holds the new index's words, the old tokenizer's of text that is not ASCII gone.
            try await store.searchIndex.catchUp()
            let (index, table, foldings) = try await store.writer.read { db in
                (
                    try SearchWordsTests.indexWords(db), try SearchWordsTests.tableWords(db),
                    try String.fetchAll(db, sql: "SELECT folded || ' ' || word FROM searchWordFolding ORDER BY 1")
                )
            }
            #expect(table == index, "\(table.symmetricDifference(index).sorted())")
            #expect(foldings.contains("αθηνα αθήνα") && !foldings.contains { $0.hasSuffix(" ok🙂") }, "\(foldings)")
            try await store.searchIndexWriter.writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
            }
        }
    }

    @Test("every migration is applied to a new database")
    func newDatabaseIsCurrent() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        let applied = try await store.writer.read { try Schema.migrator.appliedMigrations($0) }
        #expect(applied == Schema.all)
    }

    /// Takes the last message row, `id`'s, out of the search index and moves the index's mark below it: the file as a
    /// crash before its indexing batch leaves it.
    static func unindexLastRow(_ id: MessageID, _ db: Database) throws {
        let row = try #require(
            try Int64.fetchOne(db, sql: "SELECT rowNumber FROM message WHERE id = ?", arguments: [id.rawValue])
        )
        try db.execute(
            sql: """
                INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                SELECT 'delete', rowNumber, body, searchScope FROM messageSearchSource WHERE rowNumber = ?
                """,
            arguments: [row]
        )
        try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = ?", arguments: [row - 1])
    }
}
