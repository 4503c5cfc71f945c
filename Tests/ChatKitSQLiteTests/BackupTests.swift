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
import Synchronization
import Testing

final class Counter: Sendable {
    let value = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
}

/// Appends from four writers to `group` (after 300 appends) while `body` runs, and until 100 more have been
/// acknowledged after it; returns how many were acknowledged before `body` began, and in all.
func appendingConcurrently(
    _ fixture: StoreFixture, from sender: UserID, to group: ConversationID, during body: () async throws -> Void
) async throws -> (before: Int, total: Int) {
    let counter = Counter()
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        for writer in 0..<4 {
            tasks.addTask {
                var number = 0
                while !counter.stop.load(ordering: .relaxed) {
                    try await fixture.send("writer \(writer) says hello \(number)", from: sender, to: group)
                    counter.value.add(1, ordering: .relaxed)
                    number += 1
                }
            }
        }
        try await waitUntil { counter.value.load(ordering: .relaxed) >= 300 }
        let before = counter.value.load(ordering: .relaxed)
        try await body()
        // Writes went on while `body` ran and keep going after it.
        let after = counter.value.load(ordering: .relaxed)
        try await waitUntil { counter.value.load(ordering: .relaxed) >= after + 100 }
        counter.stop.store(true, ordering: .relaxed)
        try await tasks.waitForAll()
        return (before, counter.value.load(ordering: .relaxed))
    }
}

@Suite("Online backup")
struct BackupTests {
    @Test("a backup taken while appends continue opens as a consistent copy, and restores")
    func backupUnderConcurrentWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let backupPath = directory.appendingPathComponent("backup.sqlite").path
            let store = try SQLiteChatStore(path: path)
            let fixture = StoreFixture(store)
            let alice = try await fixture.user("alice")
            let group = try await fixture.group(alice, [])
            let (acknowledgedBefore, total) = try await appendingConcurrently(fixture, from: alice, to: group) {
                try await store.backup(to: backupPath)
            }

            let copy = try DatabaseQueue(path: backupPath)
            #expect(try await copy.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
            try copy.close()
            let backup = try SQLiteChatStore(path: backupPath)
            let copied = try #require(try await backup.conversations(of: alice).first).conversation
            let history = try await backup.messages(in: group, .after(0, limit: total), as: alice)
            #expect(history.map(\.seq) == (0..<Int64(history.count)).map { $0 + 1 })
            #expect(Int64(history.count) == copied.lastSeq)
            #expect(history.count >= acknowledgedBefore && history.count < total)
            #expect(try await backup.search("hello", as: alice, in: group, limit: 5).count == 5)
            try backup.close()

            // Restore as documented: stop the store, copy the backup over the file, remove the WAL files, open.
            try store.close()
            let files = FileManager.default
            try files.removeItem(atPath: path)
            for suffix in ["-wal", "-shm"] where files.fileExists(atPath: path + suffix) {
                try files.removeItem(atPath: path + suffix)
            }
            try files.copyItem(atPath: backupPath, toPath: path)
            let restored = try SQLiteChatStore(path: path)
            defer { try? restored.close() }
            #expect(try await restored.messages(in: group, .after(0, limit: total), as: alice) == history)
            let appended = try await restored.append(NewMessage(conversationID: group, senderID: alice, body: "back"))
            #expect(appended.seq == Int64(history.count) + 1)
        }
    }

    @Test("a store restored from a backup hands out positions above those handed out before the restore")
    func positionsAfterARestore() async throws {
        // Clients have seen the positions handed out after the backup; had the restored store counted on from the
        // backup's last position, a client resuming from such a cursor would skip the new events as seen.
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let backup = directory.appendingPathComponent("backup.sqlite").path
            let opened = Date(timeIntervalSince1970: 1_800_000_000)
            let store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { opened }))
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await store.backup(to: backup)
            let backedUp = try await store.latestPosition()
            for number in 0..<20 { try await fixture.send("after the backup \(number)", from: alice, to: chat) }
            let seen = try await store.latestPosition()
            try store.close()

            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.copyItem(atPath: backup, toPath: path)
            let restored = try SQLiteChatStore(
                configuration: .init(location: .file(path), now: { opened.addingTimeInterval(1) })
            )
            defer { try? restored.close() }
            #expect(try await restored.latestPosition() < seen)
            let next = try await StoreFixture(restored).send("after the restore", from: alice, to: chat)
            let events = try await restored.events(for: bob, after: seen, limit: 10).events
            #expect(events.map(\.message?.id) == [next.id])
            // A client holding `seen` received events the restored database does not have, and something was
            // stored since (its position is past `seen`): the store still tells it to resume from the backup's
            // last position (the server then says `rewoundTo`).
            #expect(try await restored.latestPosition() > seen)
            #expect(try await restored.resumePosition(after: seen) == backedUp)
            #expect(try await restored.resumePosition(after: backedUp) == backedUp)
            let current = try await restored.latestPosition()
            #expect(try await restored.resumePosition(after: current) == current)
        }
    }

    @Test("an in-memory store can be backed up to a file")
    func backupInMemory() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(configuration: .inMemory)
            let alice = try await StoreFixture(store).user("alice")
            let path = directory.appendingPathComponent("memory-backup.sqlite").path
            try await store.backup(to: path)
            let copy = try SQLiteChatStore(path: path)
            defer { try? copy.close() }
            #expect(try await copy.user(username: "alice")?.id == alice)
        }
    }
}
