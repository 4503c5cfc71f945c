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

/// The positions each opening of the store skips (`streamGap`, `PositionFloor`).
@Suite("Stream positions skipped at opening")
struct StreamGapTests {
    /// The gaps the database at `path` records, oldest first.
    func gaps(at path: String) throws -> [[Int64]] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT afterPosition, throughPosition FROM streamGap ORDER BY rowid")
                .map { [$0[0], $0[1]] }
        }
    }

    @Test("each opening that writes records its gap once, however many writes come before its first event")
    func oneGapPerOpening() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let opened = Date(timeIntervalSince1970: 1_800_000_000)
            var store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { opened }))
            var fixture = StoreFixture(store)
            // Sign-ups, logins and refreshes write without handing out a position; each used to record the gap.
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            for number in 0..<5 {
                try await store.createSession(
                    AuthSession(
                        id: SessionID(rawValue: "session-\(number)"), userID: alice, refreshTokenHash: "hash-\(number)",
                        createdAt: opened, expiresAt: opened.addingTimeInterval(3600)
                    )
                )
            }
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send("hello", from: alice, to: chat)
            let first = try await store.latestPosition()
            try store.close()
            #expect(try gaps(at: path) == [[0, 1_800_000_000_000_000]])

            let reopened = opened.addingTimeInterval(10)
            store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { reopened }))
            fixture = StoreFixture(store)
            _ = try await fixture.user("carol")
            try await store.revokeSession("session-0")
            try await fixture.send("again", from: bob, to: chat)
            #expect(try await store.resumePosition(after: first) == first)
            try store.close()
            #expect(try gaps(at: path) == [[0, 1_800_000_000_000_000], [first.rawValue, 1_800_000_010_000_000]])
        }
    }

    @Test("a second store opened on the live file, writing nothing, makes no cursor look lost")
    func aReaderOpeningTheFileRecordsNoGap() async throws {
        // Positions an opening skips are recorded when a write skips them: recorded at opening, a process that
        // only reads (a backup job, an admin tool) left a gap that the running store's next positions fell into.
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let opened = Date(timeIntervalSince1970: 1_800_000_000)
            let store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { opened }))
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            let reader = try SQLiteChatStore(
                configuration: .init(location: .file(path), now: { opened.addingTimeInterval(60) })
            )
            defer { try? reader.close() }
            for number in 0..<5 { try await fixture.send("while the reader is open \(number)", from: alice, to: chat) }
            let cursor = try await store.latestPosition()
            #expect(try await store.resumePosition(after: cursor) == cursor)
            #expect(try await reader.resumePosition(after: cursor) == cursor)
        }
    }

    @Test("a second store that writes without events (an admin tool) on the live file makes no cursor look lost")
    func aSecondStoreWritingNoEvents() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            let opened = Date(timeIntervalSince1970: 1_800_000_000)
            let store = try SQLiteChatStore(configuration: .init(location: .file(path), now: { opened }))
            defer { try? store.close() }
            let fixture = StoreFixture(store)
            let (alice, bob) = (try await fixture.user("alice"), try await fixture.user("bob"))
            let chat = try await fixture.direct(alice, bob)
            try await fixture.send("before the tool", from: alice, to: chat)
            let gapsBefore = try gaps(at: path)

            // An admin tool opens the file a minute later, adds a user and ends someone's sessions.
            let tool = try SQLiteChatStore(
                configuration: .init(location: .file(path), now: { opened.addingTimeInterval(60) })
            )
            _ = try await StoreFixture(tool).user("carol")
            try await tool.revokeSessions(of: bob)
            try tool.close()

            // The serving store goes on numbering from where it was, below the tool's floor: its clients' cursors
            // are not taken for positions the database lost.
            try await fixture.send("after the tool", from: alice, to: chat)
            let cursor = try await store.latestPosition()
            #expect(try await store.resumePosition(after: cursor) == cursor)
            #expect(try gaps(at: path) == gapsBefore)
        }
    }
}
