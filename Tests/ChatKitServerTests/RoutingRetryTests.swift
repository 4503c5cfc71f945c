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
import Synchronization
import Testing

@testable import ChatKitServer

@Suite("Routing after a store error")
struct RoutingRetryTests {
    /// The in-memory store, whose event log fails to read while `failures` is above zero.
    final class FailingEventLogStore: ChatStoreDecorator {
        let base: any ChatStore
        let failures = Mutex(0)

        init(_ base: any ChatStore) { self.base = base }

        func allEvents(after position: StreamPosition, limit: Int) async throws -> [StoredEvent] {
            let fails = failures.withLock { failures in
                guard failures > 0 else { return false }
                failures -= 1
                return true
            }
            if fails { throw ChatError(.storageFailure, "The event log could not be read (injected).") }
            return try await base.allEvents(after: position, limit: limit)
        }
    }

    /// The router reads new events when a write nudges it; after a failed read it used to wait for the next write,
    /// so on a quiet server the message stayed stored but undelivered to connected clients.
    @Test func eventsHeldBackByAStoreErrorReachConnectedClientsWithoutAnotherWrite() async throws {
        let store = InMemoryChatStore()
        let failing = FailingEventLogStore(store)
        try await LiveServer.run(store: store, serverStore: failing) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            // Two failed reads in a row: the router tries again after 100 ms, then after 200 ms.
            failing.failures.withLock { $0 = 2 }
            let sent = try await alice.client.send("held back, then delivered", to: chat.id)
            #expect(sent.seq == 1)
            try await bob.waitForMessages(1, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["held back, then delivered"])
            #expect(failing.failures.withLock { $0 } == 0)
        }
    }
}
