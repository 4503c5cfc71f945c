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

    /// `start` plus `seconds`.
    static func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    @Test("each failure in a row doubles the wait, up to 30 s; a success ends it")
    func waitsDoubleUpToTheMaximum() {
        let delays = (1...10).map { CatchUpBackoff.delay(afterFailures: $0) }
        #expect(Array(delays[0..<8]) == [200, 400, 800, 1600, 3200, 6400, 12800, 25600].map { .milliseconds($0) })
        #expect(Array(delays[8...]) == [.seconds(30), .seconds(30)])
        #expect(CatchUpBackoff.delay(afterFailures: 1_000) == .seconds(30))

        var backoff = CatchUpBackoff()
        #expect(backoff.begin(at: Self.at(0)) == .attempt(1))
        backoff.record(1, succeeded: false, at: Self.at(0))
        #expect(backoff.begin(at: Self.at(0.1)) == .wait(.milliseconds(100)))
        #expect(backoff.begin(at: Self.at(0.2)) == .attempt(2))
        backoff.record(2, succeeded: false, at: Self.at(0.2))
        #expect(backoff.failures == 2)
        #expect(backoff.begin(at: Self.at(0.5)) == .wait(.milliseconds(100)))
        #expect(backoff.begin(at: Self.at(0.6)) == .attempt(3))
        backoff.record(3, succeeded: true, at: Self.at(0.7))
        #expect(backoff.failures == 0)
        #expect(backoff.begin(at: Self.at(0.7)) == .attempt(4))
        #expect(backoff.deferrals == 2)
    }

    @Test("while catch-ups fail, one at a time is tried; without failures, any number")
    func oneAttemptAtATimeWhileFailing() {
        var backoff = CatchUpBackoff()
        #expect(backoff.begin(at: Self.at(0)) == .attempt(1))
        #expect(backoff.begin(at: Self.at(0)) == .attempt(2))
        backoff.record(1, succeeded: false, at: Self.at(0))
        backoff.record(2, succeeded: false, at: Self.at(0))
        #expect(backoff.begin(at: Self.at(1)) == .attempt(3))
        #expect(backoff.begin(at: Self.at(1)) == .wait(.zero), "another attempt is under way")
        // A backup's catch-up goes ahead whatever the wait.
        #expect(backoff.begin(at: Self.at(1), whateverTheWait: true) == .attempt(4))
        #expect(backoff.underWay == 2)
        backoff.abandon()
        backoff.record(3, succeeded: true, at: Self.at(1))
        #expect(backoff.underWay == 0)
        #expect(backoff.begin(at: Self.at(1)) == .attempt(5))
    }

    @Test("only the newest attempt to end counts: an older one's late outcome changes nothing")
    func lateOutcomesAreIgnored() {
        var backoff = CatchUpBackoff()
        #expect(backoff.begin(at: Self.at(0)) == .attempt(1))
        #expect(backoff.begin(at: Self.at(0)) == .attempt(2))
        backoff.record(2, succeeded: false, at: Self.at(0))
        backoff.record(1, succeeded: true, at: Self.at(0.01))
        #expect(backoff.failures == 1, "a late success does not end a newer failure's wait")
        #expect(backoff.begin(at: Self.at(0.1)) == .wait(.milliseconds(100)))

        #expect(backoff.begin(at: Self.at(0.2)) == .attempt(3))
        #expect(backoff.begin(at: Self.at(0.2), whateverTheWait: true) == .attempt(4))
        backoff.record(4, succeeded: true, at: Self.at(0.3))
        backoff.record(3, succeeded: false, at: Self.at(0.4))
        #expect(backoff.failures == 0, "a late failure does not start a wait after a newer success")
        #expect(backoff.begin(at: Self.at(0.4)) == .attempt(5))
    }

    @Test("a clock set back past the last failure ends the wait instead of stretching it")
    func aClockSetBackEndsTheWait() {
        var backoff = CatchUpBackoff()
        _ = backoff.begin(at: Self.at(0))
        backoff.record(1, succeeded: false, at: Self.at(0))
        #expect(backoff.remainingWait(at: Self.at(0)) == .milliseconds(200))
        #expect(backoff.remainingWait(at: Self.at(-3600)) == .zero)
        #expect(backoff.begin(at: Self.at(-3600)) == .attempt(2))
    }

    @Test("after a failed catch-up, searches find unindexed messages by scanning, and try again after the back-off")
    func searchesDoNotRetryDuringTheBackoff() async throws {
        let clock = ManualClock()
        let (store, fixture, alice, group) = try await Self.storeWithAGroup(clock)
        defer { try? store.close() }
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

        // Once the back-off is over, a search tries again and fails again (or scans while the background does).
        clock.advance(by: CatchUpBackoff.maximumDelay)
        #expect(try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id) == expected)
        #expect(store.searchIndex.attemptCount > attempts)
        try await waitUntil { store.searchIndex.attemptsUnderWay == 0 }

        // The index writable again: the first catch-up after the back-off (the search's or the background's)
        // indexes the message.
        try await store.acceptIndexWrites()
        clock.advance(by: CatchUpBackoff.maximumDelay)
        let found = try await store.search("harbour", as: alice, in: nil, limit: 10).map(\.message.id)
        #expect(Set(found) == Set(expected))
        // The success ends the wait (recorded just after the commit).
        try await waitUntil { Self.isCaughtUp(store) && store.searchIndex.failureCount == 0 }
    }

    @Test("after a failed catch-up, the background tries again by itself until one succeeds")
    func theBackgroundKeepsTrying() async throws {
        let clock = ManualClock()
        let (store, fixture, alice, group) = try await Self.storeWithAGroup(clock)
        defer { try? store.close() }
        // The catch-up the store's opening scheduled is over: the append below starts one of its own.
        try await waitUntil { !store.searchIndex.isCatchingUpInBackground }
        try await store.refuseIndexWrites()
        _ = try await fixture.send("harbour one", from: alice, to: group)
        // No search: the background's catch-up, 0.2 s after the append, fails.
        try await waitUntil { store.searchIndex.failureCount > 0 }
        try await store.acceptIndexWrites()
        clock.advance(by: CatchUpBackoff.maximumDelay)
        // No append, no search: the background alone tries again once the wait is over.
        try await waitUntil { Self.isCaughtUp(store) && store.searchIndex.failureCount == 0 }
    }

    @Test("a store released without closing it, while catch-ups fail, lets its index go")
    func aReleasedStoreEndsTheRetries() async throws {
        let clock = ManualClock()
        weak var index: SearchIndex?
        do {
            let (store, fixture, alice, group) = try await Self.storeWithAGroup(clock)
            try await store.refuseIndexWrites()
            _ = try await fixture.send("harbour one", from: alice, to: group)
            try await waitUntil { store.searchIndex.failureCount > 0 }
            index = store.searchIndex
        }
        // The background task, retrying, holds the index only while a round runs.
        try await waitUntil { index == nil }
    }

    /// A store on an in-memory database whose clock is `clock` (moved on from ``start``), with alice's group.
    static func storeWithAGroup(_ clock: ManualClock) async throws
        -> (SQLiteChatStore, StoreFixture, UserID, ConversationID)
    {
        var configuration = SQLiteChatStore.Configuration.inMemory
        configuration.now = {
            let offset = clock.now.offset.components
            return Self.start.addingTimeInterval(Double(offset.seconds) + Double(offset.attoseconds) / 1e18)
        }
        let store = try SQLiteChatStore(configuration: configuration)
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        return (store, fixture, alice, try await fixture.group(alice, []))
    }

    /// Whether the store's index holds every message.
    static func isCaughtUp(_ store: SQLiteChatStore) -> Bool {
        guard let progress = try? store.writer.read({ try SearchIndex.progress($0) }) else { return false }
        return progress.indexedUpTo == progress.lastRow
    }
}
