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

import ChatKitClient
import ChatKitCore
import Prometheus
@testable import ChatKitServer
import Synchronization
import Testing

/// An event that fails every time it is routed must not stop live delivery for the whole server: after a few
/// failures routing goes on from the newest event and every client catches up from the store.
@Suite struct RoutingSkipTests {
    /// The in-memory store, whose event log fails to read any batch holding a message with the poisoned body (a
    /// damaged row, say), or fails every read while `isDown`. Users' own reads (catch-up) are not affected.
    final class PoisonedEventLogStore: ChatStoreDecorator {
        static let poison = "a message whose event cannot be routed"
        let base: any ChatStore
        let isDown = Atomic<Bool>(false)
        let failedReads = Atomic<Int>(0)

        init(_ base: any ChatStore) { self.base = base }

        func allEvents(after position: StreamPosition, limit: Int) async throws -> [StoredEvent] {
            let events = try await base.allEvents(after: position, limit: limit)
            if isDown.load(ordering: .relaxed) || events.contains(where: { $0.message?.body == Self.poison }) {
                failedReads.wrappingAdd(1, ordering: .relaxed)
                throw ChatError(.storageFailure, "The event log could not be read (injected).")
            }
            return events
        }
    }

    static var configuration: ChatServerConfiguration {
        var configuration = ChatServerConfiguration()
        // Two failures in a row (the second 0.1 s after the first) before giving up, instead of eight (about 11 s).
        configuration.routingAttemptsBeforeSkipping = 2
        return configuration
    }

    /// A client that reconnects at once after its connection closes.
    static let reconnecting = ChatClient.Configuration(
        reconnection: .exponentialBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
    )

    /// How many times the server gave up on unrouted events (`chatkit_routing_skips_total`).
    static func skips(_ live: LiveServer) async throws -> Double {
        let scrape = try await live.http("GET", "/metrics")
        return ObservabilityTests.samples(String(decoding: scrape.data, as: UTF8.self))["chatkit_routing_skips_total"]
            ?? 0
    }

    static func syncs(_ events: [ClientEvent]) -> Int {
        events.count { if case .synced = $0 { true } else { false } }
    }

    @Test func anEventThatAlwaysFailsIsSkippedAndClientsCatchUpWithItFromTheStore() async throws {
        let inMemory = InMemoryChatStore()
        let store = PoisonedEventLogStore(inMemory)
        try await LiveServer.run(
            store: inMemory, configuration: Self.configuration, metrics: PrometheusCollectorRegistry(),
            serverStore: store
        ) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken, configuration: Self.reconnecting)
            let bob = try await live.connect(bobTokens.accessToken, configuration: Self.reconnecting)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await alice.client.send("before", to: chat.id)
            try await bob.waitForMessages(1, in: chat.id)

            _ = try await alice.client.send(PoisonedEventLogStore.poison, to: chat.id)
            // While the poisoned event is the newest, nothing waits behind it: routing retries and skips nothing.
            try await waitUntil("routing to fail past its attempts") {
                store.failedReads.load(ordering: .relaxed) >= 3
            }
            #expect(try await Self.skips(live) == 0)
            // A message behind it: routing fails once more, gives up, and closes both connections; the clients
            // reconnect and read both messages with their own catch-up.
            _ = try await alice.client.send("behind it", to: chat.id)
            try await bob.waitForMessages(3, in: chat.id)
            try await alice.waitForMessages(3, in: chat.id)
            // Read in the catch-up of a second session (its `synced` follows the events it caught up with).
            try await bob.waitFor("Bob's second session synced") { Self.syncs($0) >= 2 }
            try await alice.waitFor("Alice's second session synced") { Self.syncs($0) >= 2 }

            // Routing goes on: a later message arrives live (no third session), once each.
            _ = try await alice.client.send("after", to: chat.id)
            try await bob.waitForMessages(4, in: chat.id)
            try await alice.waitForMessages(4, in: chat.id)
            let expected = ["before", PoisonedEventLogStore.poison, "behind it", "after"]
            #expect(bob.receivedBodies(in: chat.id) == expected)
            #expect(alice.receivedBodies(in: chat.id) == expected)
            #expect(Self.syncs(bob.events) == 2)
            #expect(try await Self.skips(live) == 1)
        }
    }

    @Test func whileTheStoreFailsEveryReadNothingIsSkipped() async throws {
        let inMemory = InMemoryChatStore()
        let store = PoisonedEventLogStore(inMemory)
        try await LiveServer.run(
            store: inMemory, configuration: Self.configuration, metrics: PrometheusCollectorRegistry(),
            serverStore: store
        ) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            store.isDown.store(true, ordering: .relaxed)
            _ = try await alice.client.send("held back while the log cannot be read", to: chat.id)
            // Past the two attempts (each round's read, and the reads of the check before giving up): nothing was
            // given up.
            try await waitUntil("four failed reads") { store.failedReads.load(ordering: .relaxed) >= 4 }
            #expect(bob.client.connectionState == .connected)
            #expect(live.server.connectionCount == 2)
            #expect(try await Self.skips(live) == 0)
            store.isDown.store(false, ordering: .relaxed)
            try await bob.waitForMessages(1, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["held back while the log cannot be read"])
            #expect(bob.client.connectionState == .connected)
        }
    }

    @Test func skipsComeAfterFailuresInARowAtOnePlaceAndNoMoreOftenThanTheSpacing() {
        var policy = RoutingSkipPolicy(attemptsBeforeSkipping: 3, spacing: .seconds(60))
        policy.failed(at: StreamPosition(10))
        policy.failed(at: StreamPosition(10))
        #expect(!policy.shouldSkip(now: .seconds(1)))
        // Progress before a failure starts the count again.
        policy.failed(at: StreamPosition(12))
        #expect(policy.failuresInARow == 1)
        policy.failed(at: StreamPosition(12))
        policy.failed(at: StreamPosition(12))
        #expect(policy.shouldSkip(now: .seconds(2)))
        policy.skipped(now: .seconds(2))
        #expect(policy.failuresInARow == 0)

        // Stuck again at once: no second skip within the spacing, one after it.
        for _ in 0..<5 { policy.failed(at: StreamPosition(20)) }
        #expect(!policy.shouldSkip(now: .seconds(61)))
        #expect(policy.shouldSkip(now: .seconds(62)))

        // A round that goes through forgets the failures.
        policy.routed()
        policy.failed(at: StreamPosition(20))
        #expect(!policy.shouldSkip(now: .seconds(100)))
    }
}
