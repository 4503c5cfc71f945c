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

/// The background checkpoints of the write-ahead log, and closing while they run.
@Suite("Background checkpoints")
struct CheckpointerTests {
    @Test("a closed store leaves its files without their logs: each log is folded in and removed, and the data is there")
    func closingLeavesNoLog() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            _ = try await fixture.send("kept", from: alice, to: chat)
            _ = try await store.messages(in: chat, .latest(), as: bob)  // a reader connection opened too
            try store.close()
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            // The database and its search index's file (`SearchFile`), each without its log.
            #expect(files == ["chat.sqlite", "chat.sqlite-search"], "left beside the closed database: \(files)")
            let reopened = try SQLiteChatStore(path: path)
            defer { try? reopened.close() }
            #expect(try await reopened.messages(in: chat, .latest(), as: bob).map(\.body) == ["kept"])
        }
    }

    /// A long read (a search) used to hand its connection back while GRDB's block still held it: closed right after,
    /// the store closed that reader after its writer, and a read-only connection closing last leaves the log (about
    /// one close in a hundred, so the check is repeated; it cannot fail by chance, only miss a regression by chance).
    @Test("a store closed right after a search leaves no log, round after round")
    func closingRightAfterASearchLeavesNoLog() async throws {
        try await withTemporaryDirectory { directory in
            var roundsThatLeftALog: [Int] = []
            for round in 0..<150 {
                let path = directory.appendingPathComponent("chat\(round).sqlite").path
                let store = try SQLiteChatStore(path: path)
                let fixture = StoreFixture(store)
                let alice = try await fixture.user("alice")
                let group = try await fixture.group(alice, [])
                _ = try await fixture.send("harbour lights", from: alice, to: group)
                #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).count == 1)
                try store.close()
                if FileManager.default.fileExists(atPath: path + "-wal") { roundsThatLeftALog.append(round) }
            }
            #expect(roundsThatLeftALog.isEmpty)
        }
    }

    /// SQLite's checkpoint function crashes on a closed (`NULL`) connection, so a checkpoint that ran after
    /// `close()` would end the process; with no delay, checkpoint tasks race with `close()` at every step.
    @Test("closing while checkpoints are scheduled and running never checkpoints the closed connection")
    func closeRacesWithCheckpoints() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let pool = try DatabasePool(path: path)
            defer { try? pool.close() }
            try await pool.write { db in try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
            for _ in 0..<100 {
                let checkpointer = try Checkpointer(path: path, configuration: GRDB.Configuration(), delay: .zero)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            for _ in 0..<20 {
                                checkpointer.noteCommit()
                                await Task.yield()
                            }
                        }
                    }
                    group.addTask {
                        await Task.yield()
                        try checkpointer.close()
                    }
                    try await group.waitForAll()
                }
                await checkpointer.finished()
                checkpointer.noteCommit()  // ignored once closed
                await checkpointer.finished()
            }
        }
    }

    @Test("a store closed while appends commit and checkpoints are due closes cleanly")
    func storeClosesDuringAppends() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            for round in 0..<5 {
                let store = try SQLiteChatStore(path: path)
                let fixture = StoreFixture(store)
                let alice = try await fixture.user("alice\(round)")
                let group = try await fixture.group(alice, [])
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for sender in 0..<4 {
                        tasks.addTask {
                            for index in 0..<25 {
                                // Appends after the close fail with `.storageFailure`; that is expected here.
                                _ = try? await fixture.send(
                                    "round \(round): \(sender).\(index)", from: alice, to: group
                                )
                            }
                        }
                    }
                    tasks.addTask {
                        await Task.yield()
                        try store.close()
                    }
                    try await tasks.waitForAll()
                }
                await store.checkpointer?.finished()
            }
        }
    }
}
