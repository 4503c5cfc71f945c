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
import ChatKitSQLite
import ChatKitTesting
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Bad input")
struct BadInputTests {
    /// Expects a ``ChatError`` `.storageFailure` with a reason.
    func expectStorageFailure(
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            Issue.record("\(what): expected ChatError.storageFailure, but it succeeded", sourceLocation: sourceLocation)
        } catch let error as ChatError {
            #expect(error.code == .storageFailure, "\(what): \(error)", sourceLocation: sourceLocation)
            #expect(error.reason != nil, sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): expected a ChatError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Creates a database with some content, closes it and checkpoints it, so that everything is in the main
    /// file and no write-ahead log masks what the test does to the file.
    func makeDatabase(at path: String, messages: Int) async throws {
        let store = try SQLiteChatStore(path: path)
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        try await fixture.send(count: messages, from: alice, to: group, prefix: "some words to index")
        try store.close()
        let queue = try DatabaseQueue(path: path)
        try await queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test("a file that is not an SQLite database")
    func notADatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("notes.txt").path
            try Data(String(repeating: "This is a text file, not a database.\n", count: 2000).utf8)
                .write(to: URL(fileURLWithPath: path))
            await expectStorageFailure("opening a text file") { _ = try SQLiteChatStore(path: path) }
            #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("This is a text file"))
        }
    }

    @Test("another application's SQLite database is refused, with its tables and journal mode left as they were")
    func anotherApplicationsDatabase() async throws {
        try await withTemporaryDirectory { directory in
            // One made with GRDB's migrator (its `grdb_migrations` read as a newer ChatKit's), one without.
            let grdbApp = directory.appendingPathComponent("app.sqlite").path
            let app = try DatabaseQueue(path: grdbApp)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("app-v1") { try $0.execute(sql: "CREATE TABLE note (id INTEGER PRIMARY KEY)") }
            try migrator.migrate(app)
            try app.close()
            let plain = directory.appendingPathComponent("plain.sqlite").path
            let other = try DatabaseQueue(path: plain)
            try await other.write { db in
                try db.execute(sql: "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('x')")
            }
            try other.close()

            for path in [grdbApp, plain] {
                do {
                    _ = try SQLiteChatStore(path: path)
                    Issue.record("\(path): opened as a ChatKit database")
                } catch let error as ChatError {
                    #expect(error.code == .storageFailure)
                    #expect(error.reason?.contains("not one of ChatKit's") == true, "\(error)")
                }
                // Opening a pool would have switched the file to WAL for good (the other application may not
                // expect `-wal` files, or share the file over a network where WAL does not work).
                #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "\(path) got a write-ahead log")
                let queue = try DatabaseQueue(path: path)
                let (tables, journalMode) = try await queue.read { db in
                    (
                        try String.fetchAll(
                            db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"
                        ),
                        try String.fetchOne(db, sql: "PRAGMA journal_mode")
                    )
                }
                try queue.close()
                #expect(!tables.contains("message"), "ChatKit's schema was written into \(path): \(tables)")
                #expect(journalMode == "delete", "\(path)'s journal mode became \(journalMode ?? "?")")
            }
            // An empty file is a new database.
            let empty = directory.appendingPathComponent("empty.sqlite").path
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            try SQLiteChatStore(path: empty).close()
        }
    }

    @Test("a database whose schema page is corrupt")
    func corruptSchema() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await makeDatabase(at: path, messages: 50)
            try overwrite(path, at: 100, count: 3900)
            await expectStorageFailure("opening a database with a corrupt first page") {
                _ = try SQLiteChatStore(path: path)
            }
        }
    }

    @Test("a database whose data pages are corrupt fails on use, never crashes")
    func corruptData() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await makeDatabase(at: path, messages: 2000)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            // Every page but the first (the schema) is garbage.
            try overwrite(path, at: 4096, count: size - 4096)
            await expectStorageFailure("using a database with corrupt data pages") {
                let store = try SQLiteChatStore(path: path)
                defer { try? store.close() }
                let alice = try #require(try await store.user(username: "alice"))
                let group = try #require(try await store.conversations(of: alice.id).first).conversation.id
                _ = try await store.messages(in: group, .latest(), as: alice.id)
                _ = try await store.append(NewMessage(conversationID: group, senderID: alice.id, body: "x"))
                _ = try await store.search("words", as: alice.id, in: nil, limit: 10)
            }
        }
    }

    @Test("a record whose NOT NULL column reads NULL fails on use with storageFailure, never crashes")
    func damagedRecord() async throws {
        // SQLite does not check NOT NULL on reads: one changed byte in a record's header makes a column read NULL,
        // and only an integrity check notices. GRDB's row subscripts trap on it; the store must throw instead.
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await makeDatabase(at: path, messages: 3)
            try await setSchemaOfMessage(at: path, from: "createdAt INTEGER NOT NULL", to: "createdAt INTEGER")
            let queue = try DatabaseQueue(path: path)
            try await queue.write { try $0.execute(sql: "UPDATE message SET createdAt = NULL WHERE seq = 2") }
            try queue.close()
            try await setSchemaOfMessage(at: path, from: "createdAt INTEGER", to: "createdAt INTEGER NOT NULL")

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let alice = try #require(try await store.user(username: "alice"))
            let group = try #require(try await store.conversations(of: alice.id).first).conversation.id
            await expectStorageFailure("reading a page holding the damaged message") {
                _ = try await store.messages(in: group, .latest(), as: alice.id)
            }
            await expectStorageFailure("searching words of the damaged message") {
                _ = try await store.search("words", as: alice.id, in: nil, limit: 10)
            }
            // The records around it are still read.
            let first = try await store.messages(in: group, .before(2, limit: 1), as: alice.id)
            #expect(first.map(\.seq) == [1])
        }
    }

    /// A resend whose stored message could not be read threw a decoding error out of the batch's transaction: every
    /// other message of the batch (other users' too) failed with it. It now fails alone.
    @Test("a resend of a message whose row cannot be read fails alone, not the appends in its batch")
    func aResendOfAnUnreadableMessageFailsAlone() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await makeDatabase(at: path, messages: 3)
            let queue = try DatabaseQueue(path: path)
            let key = try await queue.write { db in
                try db.execute(sql: "UPDATE message SET reactions = 'not JSON' WHERE seq = 2")
                return try String.fetchOne(db, sql: "SELECT clientMessageID FROM message WHERE seq = 2")
            }
            try queue.close()

            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let alice = try #require(try await store.user(username: "alice")).id
            let group = try #require(try await store.conversations(of: alice).first).conversation.id
            let sends = [("n1", "before"), (try #require(key), "resent"), ("n2", "after")]
            let results = await store.append(
                contentsOf: sends.map { key, body in
                    NewMessage(
                        conversationID: group, senderID: alice, clientMessageID: ClientMessageID(rawValue: key),
                        body: body
                    )
                }
            )
            #expect((try? results[0].get())?.body == "before")
            #expect((try? results[2].get())?.body == "after")
            await expectStorageFailure("the resend of the unreadable message") { _ = try results[1].get() }
            let history = try await store.messages(in: group, .after(3, limit: 10), as: alice)
            #expect(history.map(\.body) == ["before", "after"])
            #expect(history.map(\.seq) == [4, 5])
        }
    }

    /// Rewrites the `message` table's declaration in the schema (`PRAGMA writable_schema`), to store what the real
    /// one forbids.
    private func setSchemaOfMessage(at path: String, from old: String, to new: String) async throws {
        let queue = try DatabaseQueue(path: path)
        try await queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA writable_schema = ON")
            try db.execute(
                sql: "UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'message'",
                arguments: [old, new]
            )
            #expect(db.changesCount == 1)
            try db.execute(sql: "PRAGMA writable_schema = OFF")
        }
        try queue.close()
    }

    @Test("a location where the database cannot be created")
    func readOnlyLocation() async throws {
        try await withTemporaryDirectory { directory in
            let path: String
            if getuid() == 0 {
                // Permissions do not stop root; /proc refuses new files to everyone.
                path = "/proc/chatkit-\(UUID().uuidString).sqlite"
            } else {
                let readOnly = directory.appendingPathComponent("read-only")
                try FileManager.default.createDirectory(at: readOnly, withIntermediateDirectories: false)
                try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: readOnly.path)
                path = readOnly.appendingPathComponent("chat.sqlite").path
            }
            await expectStorageFailure("creating a database in a read-only location") {
                _ = try SQLiteChatStore(path: path)
            }
            await expectStorageFailure("backing up to a read-only location") {
                try await SQLiteChatStore(configuration: .inMemory).backup(to: path)
            }
        }
    }

    @Test("a database written by a newer schema version is refused, and left untouched")
    func newerSchema() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await makeDatabase(at: path, messages: 3)
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            try queue.close()
            do {
                _ = try SQLiteChatStore(path: path)
                Issue.record("opened a database of a newer schema")
            } catch let error as ChatError {
                #expect(error.code == .storageFailure)
                #expect(error.reason?.contains("newer version") == true, "\(error)")
            }
            let check = try DatabaseQueue(path: path)
            #expect(try await check.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM message") } == 3)
            try check.close()
        }
    }

    @Test("a full database refuses the append that does not fit and keeps every other one whole")
    func fullDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let configuration = SQLiteChatStore.Configuration(
                location: .file(path),
                limits: .init(maximumDatabaseSize: 256 * 1024)
            )
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            var stored = 0
            var failure: ChatError?
            for number in 0..<10_000 {
                let body = "message \(number) " + String(repeating: "filler\(number) ", count: 200)
                do {
                    _ = try await fixture.send(body, from: alice, to: group)
                    stored += 1
                } catch let error as ChatError {
                    failure = error
                    break
                }
            }
            let error = try #require(failure, "the database never filled up")
            #expect(error.code == .storageFailure)
            #expect(error.reason?.contains("full") == true, "\(error)")
            #expect(!(error.reason ?? "").contains("filler"), "the reason must not quote the message")
            // Nothing of the refused message is left, and what was acknowledged is whole and gapless.
            let history = try await store.messages(in: group, .after(0, limit: stored + 10), as: alice)
            #expect(history.count == stored)
            #expect(history.map(\.seq) == (0..<Int64(stored)).map { $0 + 1 })
            #expect(try await store.search("filler\(stored)", as: alice, in: nil, limit: 10).isEmpty)
            #expect(try await store.search("filler\(stored - 1)", as: alice, in: nil, limit: 10).count == 1)
            // Concurrent appends into the full database all fail cleanly.
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for writer in 0..<8 {
                    tasks.addTask {
                        await #expect(throws: ChatError.self) {
                            try await fixture.send(String(repeating: "w\(writer) ", count: 2000), from: alice, to: group)
                        }
                    }
                }
                try await tasks.waitForAll()
            }
            #expect(try await store.messages(in: group, .latest(limit: 1), as: alice).first?.seq == Int64(stored))
        }
    }

    /// Group commit puts concurrent appends into one transaction, and a storage error on one message (here, one
    /// larger than the database may grow) rolled back the others with it: every caller of the batch got the error.
    @Test("a message that does not fit fails alone, not the appends committed in its batch")
    func aFullBatchFailsOnlyTheMessageThatDoesNotFit() async throws {
        try await withTemporaryDirectory { directory in
            let configuration = SQLiteChatStore.Configuration(
                location: .file(directory.appendingPathComponent("chat.sqlite").path),
                limits: .init(maximumDatabaseSize: 256 * 1024)
            )
            let store = try SQLiteChatStore(configuration: configuration)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            let huge = String(repeating: "too large for the file ", count: 20_000)
            let results = await store.append(
                contentsOf: ["before", huge, "after"].enumerated().map { index, body in
                    NewMessage(
                        conversationID: group, senderID: alice, clientMessageID: ClientMessageID(rawValue: "m\(index)"),
                        body: body
                    )
                }
            )
            #expect(results.count == 3)
            #expect((try? results[0].get())?.body == "before")
            #expect((try? results[2].get())?.body == "after")
            #expect(throws: ChatError.self) { try results[1].get() }
            let history = try await store.messages(in: group, .after(0, limit: 10), as: alice)
            #expect(history.map(\.body) == ["before", "after"])
            #expect(history.map(\.seq) == [1, 2])
        }
    }

    /// Overwrites `count` bytes of a file at `offset` with a fixed garbage pattern.
    func overwrite(_ path: String, at offset: Int, count: Int) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        handle.write(Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
    }
}
