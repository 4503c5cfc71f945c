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
@testable import ChatKitServer
import ChatKitTesting
import Foundation
import Synchronization
import Testing

/// A session's catch-up after `hello` over the WebSocket edge (the event-loop socket path): its hand-over to live
/// events, a catch-up that must run again, and a store that fails during it.
@Suite("Catch-up over the WebSocket edge")
struct CatchUpTests {
    /// A store whose next read of a user's events, once armed, is held until `gate` opens, or fails.
    final class CatchUpStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsNextRead = Atomic<Bool>(false)
        let failsReads = Atomic<Bool>(false)
        let gate = TestGate()
        let entered = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        /// The limit of each read of a user's events, in order.
        let limits = Locked<[Int]>([])

        func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
            limits.withLock { $0.append(limit) }
            if failsReads.load(ordering: .relaxed) { throw ChatError(.storageFailure, "The disk is unreadable.") }
            let page = try await base.events(for: user, after: cursor, limit: limit)
            if holdsNextRead.exchange(false, ordering: .relaxed) {
                entered.open()
                await gate.waitUntilOpen()
            }
            return page
        }
    }

    /// A client of the live server, one session only, not waited for (`LiveServer.connect` waits for the
    /// catch-up).
    static func client(_ live: LiveServer, _ token: String, cursor: StreamPosition? = nil) -> TestClient {
        let transport = WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/ws")
        return TestClient(ChatClient(transport: transport, token: token, cursor: cursor, configuration: .singleSession))
    }

    @Test("messages sent while a client catches up reach it once each, in order, with the catch-up's")
    func liveEventsDuringCatchUp() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 10_000
        configuration.routingBatchSize = 16  // many catch-up pages and routing rounds
        try await LiveServer.run(configuration: configuration) { live in
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bob.user.id)
            for number in 1...200 { _ = try await alice.client.send("old \(number)", to: chat.id) }
            async let sending: Void = {
                for number in 1...50 { _ = try await alice.client.send("new \(number)", to: chat.id) }
            }()
            let bobClient = Self.client(live, bob.accessToken, cursor: .start)
            try await sending
            try await bobClient.waitForMessages(250, in: chat.id)
            let seqs = bobClient.storedEvents.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
            #expect(seqs == Array(1...250))
        }
    }

    /// A request rate of 0 is enforced as 1 a second; `welcome` announced 0, which a client pacing its requests by
    /// it could not use.
    @Test("a request rate below 1 is announced as the rate enforced")
    func requestRateOfZeroIsAnnouncedAsOne() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 0
        try await LiveServer.run(configuration: configuration) { live in
            let tokens = try await live.signUp("alice")
            let alice = try await live.connect(tokens.accessToken)
            let welcome = try await alice.client.connected()
            #expect(welcome.limits.requestsPerSecond == 1)
            await alice.disconnect()
        }
    }

    @Test("page and routing batch sizes of 0 count as 1: catch-ups end and live events still arrive")
    func sizesOfZero() async throws {
        // A routing batch of 0 made routing read nothing forever, and a catch-up with events waiting never end.
        var configuration = ChatServerConfiguration()
        configuration.routingBatchSize = 0
        configuration.limits.maxPageSize = 0
        configuration.limits.defaultPageSize = 0
        try await LiveServer.run(configuration: configuration) { live in
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bob.user.id)
            for number in 1...3 { _ = try await alice.client.send("old \(number)", to: chat.id) }
            let bobClient = Self.client(live, bob.accessToken, cursor: .start)
            try await bobClient.waitForMessages(3, in: chat.id)
            _ = try await alice.client.send("new", to: chat.id)
            try await bobClient.waitForMessages(4, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id) == ["old 1", "old 2", "old 3", "new"])
            let history = try await alice.client.history(of: chat.id)
            #expect(history.map(\.body) == ["new"])
        }
    }

    @Test("the largest routing batch and typing timeout a configuration holds neither trap nor stop the catch-up")
    func sizesAtTheirLargest() async throws {
        // A routing batch near Int.max overflowed when a catch-up doubled it, and a typing timeout of .seconds(.max)
        // trapped when the welcome announced it in milliseconds.
        var configuration = ChatServerConfiguration()
        configuration.routingBatchSize = .max
        configuration.typingTimeout = .seconds(Int64.max)
        try await LiveServer.run(configuration: configuration) { live in
            #expect(live.server.configuration.routingBatchSize == 1_000_000)
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bob.user.id)
            for number in 1...3 { _ = try await alice.client.send("old \(number)", to: chat.id) }
            let bobClient = Self.client(live, bob.accessToken, cursor: .start)
            try await bobClient.waitForMessages(3, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id) == ["old 1", "old 2", "old 3"])
        }
    }

    @Test("held events that do not fit beside a typing frame queued meanwhile are caught up again, not closed")
    func aCatchUpThatMustRunAgain() async throws {
        let inMemory = InMemoryChatStore()
        let store = CatchUpStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.limits.outboundQueueCapacity = 4
        try await LiveServer.run(store: inMemory, configuration: configuration, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bob.user.id)
            store.holdsNextRead.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            let bobClient = Self.client(live, bob.accessToken)
            // Bob's catch-up has read its page and is held.
            try await withTimeout("the store call held at store.entered") { await store.entered.wait() }
            // Queued at once for Bob (typing is not held), then four events held: five do not fit in four.
            try await alice.client.setTyping(true, in: chat.id)
            for number in 1...4 { _ = try await alice.client.send("during the catch-up \(number)", to: chat.id) }
            try await alice.waitForMessages(4, in: chat.id)  // routed, so held for Bob too
            store.gate.open()
            try await bobClient.waitForMessages(4, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id) == (1...4).map { "during the catch-up \($0)" })
            #expect(bobClient.client.connectionState == .connected, "Bob's session was closed as a slow consumer")
            _ = try await alice.client.send("after", to: chat.id)
            try await bobClient.waitForMessages(5, in: chat.id)
        }
    }

    /// A catch-up page of 500 events of 64 KiB (32 MB) stayed in memory while a peer that had stopped reading held
    /// its write; pages are cut to the result budget, and the next asks for about as many as fitted.
    @Test("a catch-up of large messages goes in cut pages, each read asking for about as many as fitted")
    func largeEventsAreCaughtUpInCutPages() async throws {
        let inMemory = InMemoryChatStore()
        let store = CatchUpStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bob.user.id)
            let before = try await inMemory.latestPosition()
            let bodies = (1...30).map { "\($0) " + String(repeating: "x", count: 60_000) }
            for body in bodies { _ = try await alice.client.send(body, to: chat.id) }
            store.limits.withLock { $0 = [] }
            let bobClient = Self.client(live, bob.accessToken, cursor: before)
            try await bobClient.waitForMessages(30, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id) == bodies)
            let limits = store.limits.value
            #expect(limits.first == live.server.configuration.routingBatchSize)
            // About 8 such events fit in 512 KiB: the reads after the first ask for a few dozen at most.
            #expect(limits.count > 3 && limits.dropFirst().allSatisfy { $0 <= 32 }, "\(limits)")
        }
    }

    @Test("a store error during the catch-up refuses the session, unregisters it and leaves no presence behind")
    func aStoreErrorDuringTheCatchUp() async throws {
        let inMemory = InMemoryChatStore()
        let store = CatchUpStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.presenceGracePeriod = .milliseconds(1)
        try await LiveServer.run(store: inMemory, configuration: configuration, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            _ = try await alice.client.createDirectConversation(with: bob.user.id)
            store.failsReads.store(true, ordering: .relaxed)
            let transport = WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/ws")
            let bobClient = ChatClient(transport: transport, token: bob.accessToken, configuration: .singleSession)
            let refusal = try await withTimeout("the refusal") {
                do {
                    try await bobClient.run()
                    return nil as ChatError?
                } catch let error as ChatError {
                    return error
                }
            }
            #expect(refusal?.code == .storageFailure, "\(String(describing: refusal))")
            // The store's reason is for the operator's log, not for the client.
            #expect(refusal?.reason?.contains("unreadable") == false, "\(String(describing: refusal))")
            try await waitUntil("Bob's connection to be unregistered") { live.server.connectionCount == 1 }
            // Alice saw Bob come online with the session, and go again once it was refused (and the grace passed).
            try await waitUntil("Bob offline") { !live.server.presence.isOnline(bob.user.id) }
            try await alice.waitFor("Bob offline") { events in
                events.contains { event in
                    guard case .presence(let update) = event else { return false }
                    return update.userID == bob.user.id && !update.isOnline
                }
            }
            store.failsReads.store(false, ordering: .relaxed)
            let bobAgain = try await live.connect(bob.accessToken)
            #expect(live.server.presence.isOnline(bob.user.id))
            withExtendedLifetime(bobAgain) {}
        }
    }
}
