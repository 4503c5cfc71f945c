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
import ChatKitServer
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
        // Two failures (after 0.1 s and 0.2 s) before giving up, instead of eight (about 16 s).
        configuration.routingAttemptsBeforeSkipping = 2
        return configuration
    }

    /// A client that reconnects at once after its connection closes.
    static let reconnecting = ChatClient.Configuration(
        reconnection: .exponentialBackoff(initialDelay: .milliseconds(10), maximumDelay: .milliseconds(50))
    )

    static func syncs(_ events: [ClientEvent]) -> Int {
        events.count { if case .synced = $0 { true } else { false } }
    }

    @Test func anEventThatAlwaysFailsIsSkippedAndClientsCatchUpWithItFromTheStore() async throws {
        let inMemory = InMemoryChatStore()
        let store = PoisonedEventLogStore(inMemory)
        try await LiveServer.run(store: inMemory, configuration: Self.configuration, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken, configuration: Self.reconnecting)
            let bob = try await live.connect(bobTokens.accessToken, configuration: Self.reconnecting)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await alice.client.send("before", to: chat.id)
            try await bob.waitForMessages(1, in: chat.id)

            _ = try await alice.client.send(PoisonedEventLogStore.poison, to: chat.id)
            // Routing fails twice, gives up, and closes both connections; the clients reconnect and read the
            // message with their own catch-up.
            try await bob.waitForMessages(2, in: chat.id)
            try await alice.waitForMessages(2, in: chat.id)
            // Read in the catch-up of a second session (its `synced` follows the events it caught up with).
            try await bob.waitFor("Bob's second session synced") { Self.syncs($0) >= 2 }

            // Routing goes on: later messages arrive live, once each.
            try await bob.waitFor("Bob connected again") { _ in bob.client.connectionState == .connected }
            _ = try await alice.client.send("after", to: chat.id)
            try await bob.waitForMessages(3, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["before", PoisonedEventLogStore.poison, "after"])
            #expect(alice.receivedBodies(in: chat.id) == ["before", PoisonedEventLogStore.poison, "after"])
        }
    }

    @Test func whileTheStoreFailsEveryReadNothingIsSkipped() async throws {
        let inMemory = InMemoryChatStore()
        let store = PoisonedEventLogStore(inMemory)
        try await LiveServer.run(store: inMemory, configuration: Self.configuration, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            store.isDown.store(true, ordering: .relaxed)
            _ = try await alice.client.send("held back while the log cannot be read", to: chat.id)
            // Past the two attempts (0.1 s, 0.2 s, then 0.4 s later a fourth read): nothing was given up.
            try await waitUntil("four failed reads") { store.failedReads.load(ordering: .relaxed) >= 4 }
            #expect(bob.client.connectionState == .connected)
            #expect(live.server.connectionCount == 2)
            store.isDown.store(false, ordering: .relaxed)
            try await bob.waitForMessages(1, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["held back while the log cannot be read"])
            #expect(bob.client.connectionState == .connected)
        }
    }
}
