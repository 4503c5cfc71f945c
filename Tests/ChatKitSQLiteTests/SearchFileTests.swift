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

@Suite("The search index in a file of its own")
struct SearchFileTests {
    @Test("appends commit while another connection holds the index file's write lock")
    func appendsDoNotWaitForTheIndex() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            // The index file's writer taken, as a long catch-up would take it.
            var holding = Configuration()
            holding.allowsUnsafeTransactions = true  // the transaction spans two accesses
            let holder = try DatabaseQueue(path: SearchFile.path(forDatabase: path), configuration: holding)
            try await holder.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = indexedUpTo")
            }
            for number in 0..<20 { _ = try await fixture.send("while held \(number)", from: alice, to: chat) }
            let edited = try await fixture.send("before the edit", from: bob, to: chat)
            _ = try await store.editMessage(edited.id, body: "after the edit", by: bob)
            #expect(try await store.messages(in: chat, .latest(), as: bob).count == 21)
            try await holder.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            try holder.close()
            // A search then indexes them (and applies the edit) first.
            #expect(try await store.search("held", as: bob, in: nil, limit: 50).count == 20)
            #expect(try await store.search("before", as: bob, in: nil, limit: 5).isEmpty)
            #expect(try await store.search("after", as: bob, in: nil, limit: 5).map(\.message.id) == [edited.id])
        }
    }

    @Test("an edit or a deletion reaches the index at its next catch-up, and then leaves the database's change list")
    func changesAreAppliedThenPruned() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let kept = try await fixture.send("lighthouse keeper", from: alice, to: chat)
            let gone = try await fixture.send("lighthouse secret", from: alice, to: chat)
            try await store.searchIndex.catchUp()
            store.searchIndex.close()  // no background catch-up: this test runs them
            _ = try await store.editMessage(kept.id, body: "harbour keeper", by: alice)
            _ = try await store.deleteMessage(gone.id, by: alice)
            func noted() async throws -> [String] {
                try await store.writer.read { db in try String.fetchAll(db, sql: "SELECT body FROM searchChange") }
            }
            // Noted with the text the index holds, until the index applies them.
            #expect(try await noted().sorted() == ["lighthouse keeper", "lighthouse secret"])
            try await store.searchIndex.catchUp()
            #expect(try await noted().isEmpty)
            #expect(try await store.search("lighthouse", as: bob, in: nil, limit: 5).isEmpty)
            #expect(try await store.search("harbour", as: bob, in: nil, limit: 5).map(\.message.id) == [kept.id])
            let integrity = try await store.searchIndexWriter.writeWithoutTransaction { db in
                try db.execute(sql: "INSERT INTO messageSearch(messageSearch) VALUES ('integrity-check')")
                return try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM searchWord WHERE word IN ('lighthouse', 'secret')")
            }
            #expect(integrity == 0, "the words no message holds left the word list")
        }
    }

    @Test(
        "an index file that is missing, unreadable or another database's is made again when the store opens",
        arguments: ["missing", "not a database", "another database's"]
    )
    func remadeWhenUnusable(_ damage: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let otherPath = directory.appendingPathComponent("other.sqlite").path
            let (alice, chat) = try await Self.fill(path, bodies: ["compass rose", "compass needle"])
            _ = try await Self.fill(otherPath, bodies: ["lantern of another database"])
            let indexPath = SearchFile.path(forDatabase: path)
            try SearchFile.removeFiles(atDatabasePath: path)
            switch damage {
            case "not a database": try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: indexPath))
            case "another database's":
                try FileManager.default.copyItem(atPath: SearchFile.path(forDatabase: otherPath), toPath: indexPath)
            default: break
            }
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let found = try await store.search("compass", as: alice, in: chat, limit: 10).map(\.message.body)
            #expect(found.sorted() == ["compass needle", "compass rose"])
            #expect(try await store.search("lantern", as: alice, in: chat, limit: 10).isEmpty)
        }
    }

    @Test("a database restored from a backup gets its index made again: the index is ahead of it")
    func remadeAfterARestore() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let backup = directory.appendingPathComponent("backup.sqlite").path
            let (alice, chat) = try await Self.fill(path, bodies: ["anchor one", "anchor two"])
            try await SQLiteChatStore.backup(databaseAt: path, to: backup)
            // After the backup: one more message, and an edit of one the backup has.
            var store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            _ = try await fixture.send("anchor three", from: alice, to: chat)
            let first = try await store.messages(in: chat, .latest(), as: alice)[0]
            _ = try await store.editMessage(first.id, body: "rope one", by: alice)
            #expect(try await store.search("anchor", as: alice, in: chat, limit: 10).count == 2)
            try store.close()
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "a closed store leaves no log")
            // The restore replaces the database and leaves the index file as it was.
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: backup, toPath: path)
            store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let found = try await store.search("anchor", as: alice, in: chat, limit: 10).map(\.message.body)
            #expect(found.sorted() == ["anchor one", "anchor two"])
            #expect(try await store.search("rope", as: alice, in: chat, limit: 10).isEmpty)
        }
    }

    @Test("an index file behind changes the database no longer notes (a lost commit, copies of two moments) is remade")
    func remadeWhenChangesWereLost() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let indexPath = SearchFile.path(forDatabase: path)
            let (alice, chat) = try await Self.fill(path, bodies: ["quartz ridge", "quartz valley"])
            let store = try SQLiteChatStore(path: path)
            store.searchIndex.close()  // no background catch-up: the edit stays noted, not applied
            let ridge = try await store.messages(in: chat, .latest(), as: alice)[0]
            _ = try await store.editMessage(ridge.id, body: "basalt ridge", by: alice)
            // The index file as it was before it applied the edit.
            let stale = directory.appendingPathComponent("stale")
            try FileManager.default.createDirectory(at: stale, withIntermediateDirectories: true)
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: indexPath + suffix) {
                try FileManager.default.copyItem(atPath: indexPath + suffix, toPath: stale.path + "/index" + suffix)
            }
            try store.close()  // applies the edit, and removes its note from the database
            try SearchFile.removeFiles(atDatabasePath: path)
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: stale.path + "/index" + suffix) {
                try FileManager.default.copyItem(atPath: stale.path + "/index" + suffix, toPath: indexPath + suffix)
            }
            let reopened = try SQLiteChatStore(path: path)
            defer { try? reopened.close() }
            let quartz = try await reopened.search("quartz", as: alice, in: chat, limit: 10).map(\.message.body)
            #expect(quartz == ["quartz valley"])
            #expect(try await reopened.search("basalt", as: alice, in: chat, limit: 10).map(\.message.id) == [ridge.id])
        }
    }

    @Test("closing a store applies the changes the index has not, and removes their notes (deleted texts)")
    func closingAppliesTheChanges() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let (alice, chat) = try await Self.fill(path, bodies: ["obsidian secret"])
            let store = try SQLiteChatStore(path: path)
            store.searchIndex.close()  // no background catch-up
            let secret = try await store.messages(in: chat, .latest(), as: alice)[0]
            _ = try await store.deleteMessage(secret.id, by: alice)
            _ = try await StoreFixture(store).send("left to the next catch-up", from: alice, to: chat)
            #expect(try await store.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM searchChange") } == 1)
            try store.close()
            // Closing applies the changes only; new rows wait for the next opening's catch-up.
            let progress = try await Fixtures.openWithSearchIndex(path).read { try SearchIndex.progress($0) }
            #expect(progress.indexedUpTo < progress.lastRow)
            let (notes, indexed) = try await Fixtures.openWithSearchIndex(path).read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM searchChange"),
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM searchWord WHERE word = 'obsidian'")
                )
            }
            #expect(notes == 0)
            #expect(indexed == 0)
        }
    }

    @Test("the indexer commits durably, checkpoints its own log, and merges 16 segments at a time")
    func indexerSettings() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            defer { try? store.close() }
            let indexer = try #require(store.searchIndexer)
            let (synchronous, checkpoint, merge) = try await indexer.read { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA main.synchronous"),
                    try Int.fetchOne(db, sql: "PRAGMA main.wal_autocheckpoint"),
                    try Int.fetchOne(db, sql: "SELECT v FROM messageSearch_config WHERE k = 'automerge'")
                )
            }
            #expect(synchronous == 2, "FULL")
            #expect(checkpoint == 1000)
            #expect(merge == 16)
        }
    }

    @Test("an index file made with FTS5's default merging of 4 segments merges 16 from its next opening, kept")
    func olderIndexFilesGetTheMergeSetting() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let (alice, _) = try await Self.fill(path, bodies: ["an older index"])
            do {
                let store = try SQLiteChatStore(path: path)
                try await #require(store.searchIndexer).write { db in
                    try db.execute(sql: "INSERT INTO messageSearch(messageSearch, rank) VALUES ('automerge', 4)")
                    // A mark that making the index anew would erase.
                    try db.execute(sql: "INSERT INTO messageSearch(messageSearch, rank) VALUES ('crisismerge', 20)")
                }
                try store.close()
            }
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let (merge, mark) = try await #require(store.searchIndexer).read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT v FROM messageSearch_config WHERE k = 'automerge'"),
                    try Int.fetchOne(db, sql: "SELECT v FROM messageSearch_config WHERE k = 'crisismerge'")
                )
            }
            #expect(merge == 16)
            #expect(mark == 20, "the index was kept, not made anew")
            #expect(try await store.search("older", as: alice, in: nil, limit: 5).count == 1)
        }
    }

    @Test("the index file gets the database file's permissions")
    func indexFileHasTheDatabasePermissions() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            _ = try await Self.fill(path, bodies: ["private words"])
            try SearchFile.removeFiles(atDatabasePath: path)
            // Group-writable: the process's umask must not narrow it.
            try FileManager.default.setAttributes([.posixPermissions: 0o660], ofItemAtPath: path)
            let store = try SQLiteChatStore(path: path)
            try store.close()
            let attributes = try FileManager.default.attributesOfItem(atPath: SearchFile.path(forDatabase: path))
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
        }
    }

    @Test("when the index cannot be written, an edited or deleted message is matched by its current text only")
    func pendingChangesAreScanned() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        let edited = try await fixture.send("harbour one", from: alice, to: group)
        let deleted = try await fixture.send("harbour two", from: alice, to: group)
        let kept = try await fixture.send("harbour three", from: alice, to: group)
        try await store.searchIndex.catchUp()
        // The index unwritable, as on a full disk: the changes stay noted and unapplied.
        try await store.refuseIndexWrites()
        _ = try await store.editMessage(edited.id, body: "lighthouse one", by: alice)
        _ = try await store.deleteMessage(deleted.id, by: alice)
        #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id) == [kept.id])
        let found = try await store.search("lighthouse", as: alice, in: nil, limit: 10)
        #expect(found.map(\.message.id) == [edited.id])
        #expect(found.first?.snippet == "[lighthouse] one")
    }

    /// Makes a database at `path` with alice's messages `bodies` in a conversation, indexed; returns alice and it.
    static func fill(_ path: String, bodies: [String]) async throws -> (UserID, ConversationID) {
        let store = try SQLiteChatStore(path: path)
        defer { try? store.close() }
        let fixture = StoreFixture(store)
        let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
        let chat = try await fixture.direct(alice, bob)
        for body in bodies { _ = try await fixture.send(body, from: alice, to: chat) }
        try await store.searchIndex.catchUp()
        return (alice, chat)
    }
}
