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

/// `SQLiteChatStore.backup(databaseAt:to:)`: a database file copied from outside the serving process, as it is.
@Suite("Backing up a database file without opening it as a store")
struct FileBackupTests {
    /// The migrations a database file has applied, in the order applied.
    func migrations(at path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid") }
    }

    @Test("a database of the first schema version is copied as it is: neither it nor the copy is migrated")
    func anOlderVersionIsNotMigrated() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("old.sqlite").path
            let copyPath = directory.appendingPathComponent("copy.sqlite").path
            try Fixtures.restore(Fixtures.firstVersion, to: path)
            let wal = try DatabaseQueue(path: path)  // as a store leaves it: in WAL mode
            try await wal.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
            try wal.close()
            let bytesBefore = try Data(contentsOf: URL(fileURLWithPath: path))

            try await SQLiteChatStore.backup(databaseAt: path, to: copyPath)

            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytesBefore, "the source was written to")
            #expect(try migrations(at: path) == ["v1-core"])
            #expect(try migrations(at: copyPath) == ["v1-core"])
            // The copy is the old database: this version's store migrates it when it opens it, data intact.
            let store = try SQLiteChatStore(path: copyPath)
            defer { try? store.close() }
            let alice = try #require(try await store.user(username: "alice"))
            let group = try #require(try await store.conversations(of: alice.id).first).conversation
            let history = try await store.messages(in: group.id, .after(0, limit: 10), as: alice.id)
            #expect(history.map(\.body) == ["Un café, s'il vous plaît", "Crème brûlée", "See you at the cafe"])
            #expect(try await store.search("creme", as: alice.id, in: nil, limit: 5).map(\.message.seq) == [2])
        }
    }

    @Test("a database of a newer schema version, which this version's store refuses, is copied with its migrations")
    func aNewerVersionIsCopied() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("new.sqlite").path
            let copyPath = directory.appendingPathComponent("copy.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send("from a newer server", from: alice, to: chat)
            try store.close()
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
            try queue.close()

            try await SQLiteChatStore.backup(databaseAt: path, to: copyPath)

            #expect(try migrations(at: copyPath) == migrations(at: path))
            #expect(try migrations(at: copyPath).last == "v99-from-the-future")
            let copy = try DatabaseQueue(path: copyPath)
            defer { try? copy.close() }
            #expect(try await copy.read { try String.fetchAll($0, sql: "SELECT body FROM message") } == [
                "from a newer server"
            ])
        }
    }

    @Test("a copy taken while a store appends is a consistent snapshot, and the store goes on appending")
    func aLiveDatabaseIsCopiedConsistently() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let copyPath = directory.appendingPathComponent("copy.sqlite").path
            let store = try SQLiteChatStore(path: path)
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            let (acknowledgedBefore, total) = try await appendingConcurrently(fixture, from: alice, to: group) {
                try await SQLiteChatStore.backup(databaseAt: path, to: copyPath)
            }

            let check = try DatabaseQueue(path: copyPath)
            #expect(try await check.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
            try check.close()
            let copy = try SQLiteChatStore(path: copyPath)
            defer { try? copy.close() }
            let copied = try #require(try await copy.conversations(of: alice).first).conversation
            let history = try await copy.messages(in: group, .after(0, limit: total), as: alice)
            #expect(history.map(\.seq) == (0..<Int64(history.count)).map { $0 + 1 })
            #expect(Int64(history.count) == copied.lastSeq)
            #expect(history.count >= acknowledgedBefore && history.count < total)
            let live = try await store.messages(in: group, .after(0, limit: total), as: alice)
            #expect(live.count == total)
            #expect(Array(live.prefix(history.count)) == history)
        }
    }

    @Test("no database, not SQLite, not ChatKit's, the database or its log, or nowhere to write: a clear error each")
    func badSources() async throws {
        try await withTemporaryDirectory { directory in
            let copyPath = directory.appendingPathComponent("copy.sqlite").path
            func expectRefusal(
                _ source: String, to destination: String = copyPath, _ code: ChatError.Code, saying words: String,
                sourceLocation: SourceLocation = #_sourceLocation
            ) async {
                do {
                    try await SQLiteChatStore.backup(databaseAt: source, to: destination)
                    Issue.record("backed up \(source)", sourceLocation: sourceLocation)
                } catch let error as ChatError {
                    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
                    #expect(error.reason?.contains(words) == true, "\(error)", sourceLocation: sourceLocation)
                } catch {
                    Issue.record("expected a ChatError, got \(error)", sourceLocation: sourceLocation)
                }
                #expect(!FileManager.default.fileExists(atPath: copyPath), sourceLocation: sourceLocation)
            }

            await expectRefusal(
                directory.appendingPathComponent("missing.sqlite").path, .storageFailure, saying: "no database at"
            )

            let text = directory.appendingPathComponent("notes.txt").path
            try Data(String(repeating: "not a database\n", count: 400).utf8).write(to: URL(fileURLWithPath: text))
            await expectRefusal(text, .storageFailure, saying: "not an SQLite database")

            let other = directory.appendingPathComponent("other.sqlite").path
            let queue = try DatabaseQueue(path: other)
            try await queue.write { try $0.execute(sql: "CREATE TABLE note (text TEXT)") }
            try queue.close()
            await expectRefusal(other, .storageFailure, saying: "not one of ChatKit's")

            let database = directory.appendingPathComponent("chat.sqlite").path
            try SQLiteChatStore(path: database).close()
            let sameFile = directory.appendingPathComponent("./sub/../chat.sqlite").path
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("sub"), withIntermediateDirectories: true
            )
            await expectRefusal(database, to: sameFile, .invalidArgument, saying: "the database itself")
            for suffix in ["-wal", "-shm", "-journal"] {
                await expectRefusal(database, to: sameFile + suffix, .invalidArgument, saying: "\(suffix) file")
                #expect(!FileManager.default.fileExists(atPath: database + suffix))
            }
            try SQLiteChatStore(path: database).close()  // untouched: it still opens
            let nowhere = directory.appendingPathComponent("no-such-folder/copy.sqlite").path
            await expectRefusal(database, to: nowhere, .storageFailure, saying: "could not be created")
        }
    }

    @Test("a copy is its owner's only, or keeps the replaced file's permissions; a link is followed; old partials go")
    func permissionsLinksAndLeftovers() async throws {
        try await withTemporaryDirectory { directory in
            let database = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: database)
            defer { try? store.close() }
            _ = try await StoreFixture(store).user("alice")
            let files = FileManager.default
            func mode(_ path: String) throws -> Int {
                try #require(try files.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
            }

            let fresh = directory.appendingPathComponent("fresh.sqlite").path
            try await SQLiteChatStore.backup(databaseAt: database, to: fresh)
            #expect(try mode(fresh) == 0o600)
            let shared = directory.appendingPathComponent("shared.sqlite").path
            try Data("an older backup".utf8).write(to: URL(fileURLWithPath: shared))
            try files.setAttributes([.posixPermissions: 0o640], ofItemAtPath: shared)
            try await store.backup(to: shared)
            #expect(try mode(shared) == 0o640)

            // A link to the backup file: the file it points to is replaced, the link stays.
            let link = directory.appendingPathComponent("latest.sqlite").path
            try files.createSymbolicLink(atPath: link, withDestinationPath: fresh)
            try await SQLiteChatStore.backup(databaseAt: database, to: link)
            #expect(try files.destinationOfSymbolicLink(atPath: link) == fresh)
            let copy = try SQLiteChatStore(path: fresh)
            #expect(try await copy.user(username: "alice") != nil)
            try copy.close()

            // A partial copy an hour old (a killed backup) is removed by the next backup into the folder, whatever
            // its name (backups named by date never come again); a newer one is not, nor other files.
            let stale = directory.appendingPathComponent(".fresh.sqlite.partial-1").path
            let staleOfAnother = directory.appendingPathComponent(".chat-2026-12-01.sqlite.partial-77").path
            let staleLog = staleOfAnother + "-journal"
            let recent = directory.appendingPathComponent(".fresh.sqlite.partial-2").path
            let notOurs = directory.appendingPathComponent(".notes.partial-draft").path
            for partial in [stale, staleOfAnother, staleLog, recent, notOurs] {
                try Data("half a copy".utf8).write(to: URL(fileURLWithPath: partial))
            }
            for old in [stale, staleOfAnother, staleLog, notOurs] {
                try files.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: old)
            }
            try await SQLiteChatStore.backup(databaseAt: database, to: fresh)
            for removed in [stale, staleOfAnother, staleLog] {
                #expect(!files.fileExists(atPath: removed), "\(removed)")
            }
            #expect(files.fileExists(atPath: recent))
            #expect(files.fileExists(atPath: notOurs))

            // A refused backup leaves the earlier copy as it was.
            let before = try Data(contentsOf: URL(fileURLWithPath: shared))
            let other = directory.appendingPathComponent("other.sqlite").path
            let queue = try DatabaseQueue(path: other)
            try await queue.write { try $0.execute(sql: "CREATE TABLE note (text TEXT)") }
            try queue.close()
            await #expect(throws: ChatError.self) { try await SQLiteChatStore.backup(databaseAt: other, to: shared) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: shared)) == before)
        }
    }

    @Test("the database under another name (a symbolic or a hard link) is refused as the destination")
    func linksToTheDatabase() async throws {
        try await withTemporaryDirectory { directory in
            let database = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: database)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send("still here", from: alice, to: chat)
            let symbolic = directory.appendingPathComponent("symbolic.sqlite").path
            let hard = directory.appendingPathComponent("hard.sqlite").path
            try FileManager.default.createSymbolicLink(atPath: symbolic, withDestinationPath: database)
            try FileManager.default.linkItem(atPath: database, toPath: hard)
            for link in [symbolic, hard] {
                for backup in [
                    { try await SQLiteChatStore.backup(databaseAt: database, to: link) },
                    { try await store.backup(to: link) },
                ] {
                    await #expect(throws: ChatError.self) { try await backup() }
                }
            }
            try await fixture.send("after the refusals", from: bob, to: chat)
            try store.close()
            let reopened = try SQLiteChatStore(path: database)
            defer { try? reopened.close() }
            #expect(try await reopened.messages(in: chat, .after(0, limit: 10), as: alice).map(\.body) == [
                "still here", "after the refusals",
            ])
        }
    }

    @Test("a copy replaces an existing file only when whole; one that cannot be put in place leaves no partial file")
    func theCopyReplacesWhole() async throws {
        try await withTemporaryDirectory { directory in
            let database = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: database)
            defer { try? store.close() }
            _ = try await StoreFixture(store).user("alice")
            let files = FileManager.default
            let older = directory.appendingPathComponent("older.sqlite").path
            try Data("yesterday's backup, say".utf8).write(to: URL(fileURLWithPath: older))
            try await SQLiteChatStore.backup(databaseAt: database, to: older)
            let copy = try SQLiteChatStore(path: older)
            #expect(try await copy.user(username: "alice") != nil)
            try copy.close()

            // A directory in the way: the copy is made, cannot be renamed over it, and is removed.
            let inTheWay = directory.appendingPathComponent("in-the-way.sqlite").path
            try files.createDirectory(atPath: inTheWay, withIntermediateDirectories: false)
            for backup in [
                { try await SQLiteChatStore.backup(databaseAt: database, to: inTheWay) },
                { try await store.backup(to: inTheWay) },
            ] {
                do {
                    try await backup()
                    Issue.record("backed up over a directory")
                } catch let error as ChatError {
                    #expect(error.code == .storageFailure)
                    #expect(error.reason?.contains("could not be moved") == true, "\(error)")
                }
            }
            let left = try files.contentsOfDirectory(atPath: directory.path).filter { $0.contains("partial") }
            #expect(left.isEmpty, "partial copies left: \(left)")
        }
    }
}
