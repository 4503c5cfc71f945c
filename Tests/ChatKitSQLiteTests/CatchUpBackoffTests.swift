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

@Suite("The search index's catch-ups back off after failing")
struct CatchUpBackoffTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("each failure in a row doubles the wait, up to 30 s; a success ends it")
    func waitsDoubleUpToTheMaximum() {
        let delays = (1...10).map { CatchUpBackoff.delay(afterFailures: $0) }
        #expect(Array(delays[0..<8]) == [200, 400, 800, 1600, 3200, 6400, 12800, 25600].map { .milliseconds($0) })
        #expect(Array(delays[8...]) == [.seconds(30), .seconds(30)])
        #expect(CatchUpBackoff.delay(afterFailures: 1_000) == .seconds(30))

        var backoff = CatchUpBackoff()
        #expect(backoff.allowsAttempt(at: Self.start))
        backoff.recordFailure(at: Self.start)
        backoff.recordFailure(at: Self.start)
        #expect(!backoff.allowsAttempt(at: Self.start.addingTimeInterval(0.399)))
        #expect(backoff.remainingWait(at: Self.start.addingTimeInterval(0.1)) == .milliseconds(300))
        #expect(backoff.allowsAttempt(at: Self.start.addingTimeInterval(0.4)))
        #expect(backoff.remainingWait(at: Self.start.addingTimeInterval(0.4)) == .zero)
        backoff.recordSuccess()
        #expect(backoff.failures == 0)
        #expect(backoff.allowsAttempt(at: Self.start))
    }

    @Test("a clock set back past the last failure ends the wait instead of stretching it")
    func aClockSetBackEndsTheWait() {
        var backoff = CatchUpBackoff()
        backoff.recordFailure(at: Self.start)
        #expect(!backoff.allowsAttempt(at: Self.start))
        #expect(backoff.allowsAttempt(at: Self.start.addingTimeInterval(-3600)))
    }

    @Test("after a failed catch-up, searches find unindexed messages by scanning, and try again after the back-off")
    func searchesDoNotRetryDuringTheBackoff() async throws {
        let clock = ManualClock()
        var configuration = SQLiteChatStore.Configuration.inMemory
        configuration.now = {
            let offset = clock.now.offset.components
            return Self.start.addingTimeInterval(Double(offset.seconds) + Double(offset.attoseconds) / 1e18)
        }
        let store = try SQLiteChatStore(configuration: configuration)
        defer { try? store.close() }
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        let indexed = try await fixture.send("harbour one", from: alice, to: group)
        try await store.searchIndex.catchUp()
        // The index unwritable, as on a full disk: every catch-up fails at its first write.
        try await store.refuseIndexWrites()
        let unindexed = try await fixture.send("harbour two", from: alice, to: group)
        let expected = [indexed.id, unindexed.id]
        #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id) == expected)
        // The search's catch-up (or the background's, 0.2 s after the append) failed.
        let attempts = store.searchIndex.attemptCount
        #expect(attempts >= 2)

        // The store's clock stands still: no search tries again, each scans what is unindexed; nor does the
        // background, which looks again every 0.2-0.4 s (waited for below: at least twice more than the searches).
        let deferrals = store.searchIndex.deferralCount
        for _ in 1...3 {
            #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id) == expected)
        }
        try await waitUntil { store.searchIndex.deferralCount >= deferrals + 5 }
        #expect(store.searchIndex.attemptCount == attempts)

        // Once the back-off is over, a search tries again (and fails again).
        clock.advance(by: CatchUpBackoff.maximumDelay)
        #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id) == expected)
        #expect(store.searchIndex.attemptCount > attempts)

        // The index writable again: the first catch-up after the back-off indexes the message.
        try await store.acceptIndexWrites()
        clock.advance(by: CatchUpBackoff.maximumDelay)
        let found = try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id)
        #expect(Set(found) == Set(expected))
        let progress = try await store.writer.read { db in try SearchIndex.progress(db) }
        #expect(progress.indexedUpTo == progress.lastRow)
    }
}
