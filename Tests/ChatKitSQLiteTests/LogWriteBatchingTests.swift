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
import GRDBSQLite
import Testing

@testable import ChatKitSQLite

@Suite("Each commit reaches the log in one write")
struct LogWriteBatchingTests {
    @Test("the VFS is available with this SQLite")
    func isAvailable() {
        #expect(LogWriteBatching.isAvailable)
    }

    @Test(
        "a commit of many pages is one write to the log, and a connection of SQLite's own VFS reads it at once",
        arguments: ["NORMAL", "FULL", "OFF"]
    )
    func commitsAreOneWriteEach(synchronous: String) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("batched.sqlite").path
            let batched = try Self.openBatched(path, synchronous: synchronous)
            let plain = try DatabaseQueue(path: path)
            try await batched.write { db in
                try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, key TEXT NOT NULL, body TEXT NOT NULL)")
                try db.execute(sql: "CREATE INDEX itemKey ON item (key)")
            }
            let before = try await batched.read { try Self.counts($0) }
            let commits = 40
            for commit in 1...commits {
                // Several pages a commit: rows of 1,000 bytes, and index entries in random places.
                try await batched.write { db in
                    for row in 0..<20 {
                        try db.execute(
                            sql: "INSERT INTO item (key, body) VALUES (?, ?)",
                            arguments: [
                                UUID().uuidString,
                                String(repeating: "\(commit)-\(row) ", count: 200).prefix(1000).description,
                            ]
                        )
                    }
                }
                let count = try await plain.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM item") }
                #expect(count == commit * 20)
            }
            let after = try await batched.read { try Self.counts($0) }
            let asked = after.writesAsked - before.writesAsked
            let made = after.writesMade - before.writesMade
            #expect(asked >= commits * 2 * 5, "SQLite wrote \(asked) times")
            // One write a commit; the first may not continue the previous one.
            #expect(made <= commits + 1, "\(made) writes reached the file for \(commits) commits")
            try await Self.expectIntact(path, rows: commits * 20)
            try await Self.expectRecovered(path, rows: commits * 20, in: directory)
        }
    }

    @Test("a transaction larger than the page cache (pages written twice, frame headers rewritten) commits intact")
    func largeTransactionsCommitIntact() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("batched.sqlite").path
            let batched = try Self.openBatched(path)
            try await batched.write { db in
                try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL, touched INTEGER)")
            }
            try await batched.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = 10")
                try db.inTransaction {
                    for row in 0..<3000 {
                        try db.execute(
                            sql: "INSERT INTO item (body, touched) VALUES (?, 0)",
                            arguments: [String(repeating: "row \(row) ", count: 40)]
                        )
                    }
                    // Pages spilled to the log during the inserts change again, in this same transaction.
                    for pass in 1...3 {
                        try db.execute(sql: "UPDATE item SET touched = ? WHERE id % 7 = 0", arguments: [pass])
                    }
                    return .commit
                }
            }
            try await Self.expectIntact(path, rows: 3000)
            try await Self.expectRecovered(path, rows: 3000, in: directory)
            let touched = try await DatabaseQueue(path: path).read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item WHERE touched = 3")
            }
            #expect(touched == 3000 / 7)
            let counts = try await batched.read { try Self.counts($0) }
            #expect(counts.writesMade < counts.writesAsked)
        }
    }

    @Test("a commit whose write fails fails with the error, and nothing of it is read; the next commit is")
    func aFailedWriteFailsItsCommit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("batched.sqlite").path
            let batched = try Self.openBatched(path)
            let plain = try DatabaseQueue(path: path)
            try await batched.write { db in
                try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
                try db.execute(sql: "INSERT INTO item (body) VALUES ('before')")
            }
            await #expect {
                try await batched.write { db in
                    #expect(LogWriteBatching.failNextGatheredWrite(of: try Self.logFile(db), with: SQLITE_FULL))
                    for row in 0..<50 {
                        try db.execute(sql: "INSERT INTO item (body) VALUES (?)", arguments: ["lost \(row)"])
                    }
                }
            } throws: { error in
                (error as? DatabaseError)?.resultCode == .SQLITE_FULL
            }
            #expect(try await plain.read { try String.fetchAll($0, sql: "SELECT body FROM item") } == ["before"])
            try await batched.write { db in try db.execute(sql: "INSERT INTO item (body) VALUES ('after')") }
            #expect(
                try await plain.read { try String.fetchAll($0, sql: "SELECT body FROM item ORDER BY id") }
                    == ["before", "after"]
            )
            try await Self.expectIntact(path, rows: 2)
        }
    }

    @Test("a rolled-back transaction's gathered frames are dropped, not written over another connection's commit")
    func rolledBackFramesAreDropped() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("batched.sqlite").path
            let batched = try Self.openBatched(path)
            // SQLite's own VFS, as another process writes the file.
            let other = try DatabaseQueue(path: path)
            try await batched.write { db in
                try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            }
            try await batched.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = 10")
                // Spills frames to the log (some gathered, none committed), then rolls back.
                try db.inTransaction {
                    for row in 0..<250 {
                        try db.execute(
                            sql: "INSERT INTO item (body) VALUES (?)",
                            arguments: [String(repeating: "x\(row)", count: 100)]
                        )
                    }
                    return .rollback
                }
            }
            // The other connection commits where the rolled-back frames were.
            try await other.write { db in
                for row in 0..<20 {
                    try db.execute(sql: "INSERT INTO item (body) VALUES (?)", arguments: ["other \(row)"])
                }
            }
            try await batched.write { db in try db.execute(sql: "INSERT INTO item (body) VALUES ('batched')") }
            try await Self.expectIntact(path, rows: 21)
            try await Self.expectRecovered(path, rows: 21, in: directory)
        }
    }

    @Test("a log without power-safe overwrites (psow=0) is written as SQLite's own VFS writes it")
    func noPowerSafeOverwriteMeansNoGathering() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("batched.sqlite").path
            let queue = try DatabaseQueue(path: LogWriteBatching.fileName(forPath: path) + "&psow=0")
            try await queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: "CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            }
            for row in 0..<10 {
                try await queue.write { db in
                    try db.execute(
                        sql: "INSERT INTO item (body) VALUES (?)",
                        arguments: [String(repeating: "y", count: 3000 + row)])
                }
            }
            let counts = try await queue.read { try Self.counts($0) }
            #expect(counts.writesMade == counts.writesAsked)
            try await Self.expectIntact(path, rows: 10)
        }
    }

    @Test("a store writes through the VFS by default, and not when told not to")
    func storesUseIt() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            _ = try await fixture.send("hello", from: alice, to: try await fixture.direct(alice, bob))
            #expect(try await store.writer.write { try Self.counts($0) }.writesMade > 0)
            try store.close()

            var configuration = SQLiteChatStore.Configuration(path: path)
            configuration.batchesLogWrites = false
            let unbatched = try SQLiteChatStore(configuration: configuration)
            defer { try? unbatched.close() }
            let logFile = try unbatched.writer.read { try Self.logFile($0) }
            #expect(LogWriteBatching.counts(of: logFile) == nil)
        }
    }

    @Test("a path with the characters a URI file name escapes opens the same file", arguments: ["a?b#c%d", "50%3f"])
    func escapedPaths(_ name: String) async throws {
        try await withTemporaryDirectory { directory in
            let folder = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let path = folder.appendingPathComponent("chat?.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            _ = try await fixture.send("kept", from: alice, to: chat)
            try store.close()
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
                    == ["chat?.sqlite", "chat?.sqlite-search"]
            )
            let bodies = try await DatabaseQueue(path: path).read { db in
                try String.fetchAll(db, sql: "SELECT body FROM message")
            }
            #expect(bodies == ["kept"])
        }
    }

    /// A connection through the VFS, the log on, at the store's default durability unless told (with `FULL`, SQLite
    /// syncs the log at each commit, which writes what was gathered anyway: `NORMAL` and `OFF` rely on the commit
    /// frame alone).
    static func openBatched(_ path: String, synchronous: String = "NORMAL") throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: LogWriteBatching.fileName(forPath: path))
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        return queue
    }

    /// The connection's log file.
    static func logFile(_ db: Database) throws -> UnsafeMutablePointer<sqlite3_file> {
        var file: UnsafeMutablePointer<sqlite3_file>?
        let result = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file)
        #expect(result == SQLITE_OK)
        return try #require(file)
    }

    static func counts(_ db: Database) throws -> LogWriteBatching.Counts {
        try #require(LogWriteBatching.counts(of: try logFile(db)), "the log is not a file of the VFS")
    }

    /// Copies the database and its log as a crash would leave them (the log's index, in shared memory, is not
    /// copied), and checks the copy: SQLite recovers its commits from the log alone, by the frames' checksums.
    static func expectRecovered(_ path: String, rows: Int, in directory: URL) async throws {
        let copy = directory.appendingPathComponent("crashed-\(UUID().uuidString).sqlite").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        try FileManager.default.copyItem(atPath: path + "-wal", toPath: copy + "-wal")
        try await expectIntact(copy, rows: rows)
    }

    /// Checks the file with SQLite's own VFS: intact, with `rows` rows in `item`.
    static func expectIntact(_ path: String, rows: Int) async throws {
        let plain = try DatabaseQueue(path: path)
        let (check, count) = try await plain.read { db in
            (
                try String.fetchAll(db, sql: "PRAGMA integrity_check"),
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item")
            )
        }
        #expect(check == ["ok"])
        #expect(count == rows)
    }
}
