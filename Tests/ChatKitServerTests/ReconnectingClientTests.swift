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
import ChatKitTesting
import Foundation
import Synchronization
import Testing

/// The reconnecting ChatClient over real sockets on 127.0.0.1: cut connections, a restarted server, the outbox.
@Suite("Reconnecting client over real sockets")
struct ReconnectingClientTests {
    /// Backoff short enough that a test never waits long on the real clock.
    static let fast = ChatClient.Configuration(
        reconnection: .exponentialBackoff(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(200))
    )

    @Test func aClientWhoseSocketIsCutReconnectsByItselfAndReceivesEveryMessageOnce() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            try await TCPRelay.run(to: live.port) { relay in
                let clock = ManualClock()
                let bob = try await live.connect(
                    bobTokens.accessToken, port: relay.port, configuration: .init(clock: clock)
                )
                let states = Recorder(bob.client.connectionStateUpdates())
                let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
                _ = try await alice.client.send("before", to: chat.id)
                try await bob.waitForMessages(1, in: chat.id)

                relay.cutAll()
                // Bob's client notices, and waits (on the manual clock) to reconnect.
                try await withTimeout("bob's client to wait for its reconnection") { await clock.waitForSleepers(1) }
                #expect(bob.client.connectionState.isWaitingToReconnect)
                for number in 1...20 { _ = try await alice.client.send("while cut \(number)", to: chat.id) }
                clock.advance(by: .seconds(60))
                try await states.waitFor("bob connected again") { $0.filter { $0 == .connected }.count == 2 }
                _ = try await alice.client.send("live", to: chat.id)

                try await bob.waitForMessages(22, in: chat.id)
                #expect(bob.receivedBodies(in: chat.id) == ["before"] + (1...20).map { "while cut \($0)" } + ["live"])
                #expect(Self.seqs(of: bob, in: chat.id) == Array(1...22))
                #expect(states.recorded.contains { $0.isWaitingToReconnect })
                #expect(states.recorded.last == .connected)
            }
        }
    }

    /// A connection whose path dies without a reset (nothing arrives, nothing fails) is noticed by the client's
    /// pings: the client leaves `connected`, reconnects (over a new path), and a message sent meanwhile is
    /// delivered. Clients ping by default.
    @Test func aConnectionThatDiesSilentlyIsNoticedByPingsAndResumed() async throws {
        #expect(WebSocketClientTransport.Configuration().pingInterval == .seconds(30))
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            try await TCPRelay.run(to: live.port) { relay in
                let bob = try await live.connect(
                    bobTokens.accessToken, port: relay.port, configuration: Self.fast,
                    transportConfiguration: .init(pingInterval: .seconds(1))
                )
                let states = Recorder(bob.client.connectionStateUpdates())
                let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
                _ = try await alice.client.send("before", to: chat.id)
                try await bob.waitForMessages(1, in: chat.id)

                relay.freezeAll()
                try await states.waitFor("bob's client to notice the dead connection") {
                    $0.contains { $0 != .connected }
                }
                _ = try await alice.client.send("after", to: chat.id)
                try await bob.waitForMessages(2, in: chat.id)
                #expect(bob.receivedBodies(in: chat.id) == ["before", "after"])
            }
        }
    }

    @Test func messagesSentWhileDisconnectedWaitInTheOutboxAndAreDeliveredOnceAfterReconnecting() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            try await TCPRelay.run(to: live.port) { relay in
                let clock = ManualClock()
                let bob = try await live.connect(
                    bobTokens.accessToken, port: relay.port, configuration: .init(clock: clock)
                )
                let updates = Recorder(bob.client.outboxUpdates())
                let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
                _ = try await bob.client.send("online", to: chat.id, clientMessageID: ClientMessageID(rawValue: "k-0"))

                relay.cutAll()
                try await withTimeout("bob's client to wait for its reconnection") { await clock.waitForSleepers(1) }
                var sends: [Task<Message, any Error>] = []
                for number in 1...3 {
                    sends.append(
                        try await Self.queue("offline \(number)", id: "k-\(number)", from: bob, to: chat.id, updates))
                }
                #expect(bob.client.outbox.map(\.body) == ["offline 1", "offline 2", "offline 3"])
                #expect(bob.client.outbox.map(\.state) == [.pending, .pending, .pending])

                clock.advance(by: .seconds(60))
                var stored: [Message] = []
                for send in sends { stored.append(try await withTimeout("a queued send") { try await send.value }) }
                #expect(stored.map(\.seq) == [2, 3, 4])
                #expect(stored.map(\.body) == ["offline 1", "offline 2", "offline 3"])
                #expect(bob.client.outbox.isEmpty)
                // The updates are recorded by a task of their own, which may lag behind the sends' results.
                try await updates.waitFor("each message's update as sent") { recorded in
                    (0...3).allSatisfy { number in
                        recorded.contains { $0.clientMessageID.rawValue == "k-\(number)" && $0.state == .sent }
                    }
                }
                for number in 0...3 {
                    let states = updates.recorded.filter { $0.clientMessageID.rawValue == "k-\(number)" }.map(\.state)
                    #expect(states == [.pending, .sent], "k-\(number)")
                }

                // Now cut while messages are on the wire: whatever the server stored before the cut is not stored
                // again when the client resends.
                let inFlight = (5...14).map { number in
                    Task { try await bob.client.send("burst \(number)", to: chat.id) }
                }
                try await updates.waitFor("the burst queued") { $0.filter { $0.body.hasPrefix("burst") }.count >= 10 }
                relay.cutAll()
                try await withTimeout("bob's client to wait again") { await clock.waitForSleepers(1) }
                clock.advance(by: .seconds(60))
                for send in inFlight { _ = try await withTimeout("a burst send") { try await send.value } }

                try await alice.waitForMessages(14, in: chat.id)
                let bodies = alice.receivedBodies(in: chat.id)
                #expect(bodies.count == 14)
                #expect(Set(bodies).count == 14)
                #expect(Array(bodies.prefix(4)) == ["online", "offline 1", "offline 2", "offline 3"])
                #expect(Self.seqs(of: alice, in: chat.id) == Array(1...14))
                // The history holds each message once.
                let history = try await alice.client.history(of: chat.id, limit: 100)
                #expect(history.map(\.seq) == Array(1...14))
            }
        }
    }

    @Test func twoClientsKeepChattingAcrossAServerRestartOnASQLiteFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("chatkit-restart-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("chat.sqlite").path
        let aliceTransport = MovableWebSocketTransport()
        let bobTransport = MovableWebSocketTransport()

        let first = Box<(alice: TestClient, bob: TestClient, chat: ConversationID)>()
        try await SQLiteLiveServer.run(path: path) { url, auth in
            aliceTransport.url.withLock { $0 = url }
            bobTransport.url.withLock { $0 = url }
            let aliceTokens = try await auth.signUp(username: "alice", password: "correct horse battery")
            let bobTokens = try await auth.signUp(username: "bob", password: "correct horse battery")
            let alice = TestClient(
                ChatClient(transport: aliceTransport, token: aliceTokens.accessToken, configuration: Self.fast))
            let bob = TestClient(
                ChatClient(transport: bobTransport, token: bobTokens.accessToken, configuration: Self.fast))
            try await withTimeout("both sessions") {
                try await alice.client.connected()
                try await bob.client.connected()
            }
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            for number in 1...5 {
                _ = try await alice.client.send("alice \(number)", to: chat.id)
                _ = try await bob.client.send("bob \(number)", to: chat.id)
            }
            try await alice.waitForMessages(10, in: chat.id)
            try await bob.waitForMessages(10, in: chat.id)
            first.set((alice, bob, chat.id))
        }
        let (alice, bob, chat) = try #require(first.value)

        // The server is down. Both clients keep trying; what they send meanwhile waits in their outboxes.
        let aliceUpdates = Recorder(alice.client.outboxUpdates())
        let bobUpdates = Recorder(bob.client.outboxUpdates())
        var queued: [Task<Message, any Error>] = []
        for number in 1...3 {
            queued.append(
                try await Self.queue("alice away \(number)", id: "a-\(number)", from: alice, to: chat, aliceUpdates))
        }
        for number in 1...2 {
            queued.append(
                try await Self.queue("bob away \(number)", id: "b-\(number)", from: bob, to: chat, bobUpdates))
        }
        #expect(alice.client.outbox.map(\.state) == [.pending, .pending, .pending])
        #expect(bob.client.outbox.map(\.state) == [.pending, .pending])

        // The server comes back on the same file (on another port, which the transports follow).
        let waiting = queued
        try await SQLiteLiveServer.run(path: path) { url, _ in
            aliceTransport.url.withLock { $0 = url }
            bobTransport.url.withLock { $0 = url }
            for send in waiting { _ = try await withTimeout("a queued send") { try await send.value } }
            for number in 6...10 {
                _ = try await alice.client.send("alice \(number)", to: chat)
                _ = try await bob.client.send("bob \(number)", to: chat)
            }
            try await alice.waitForMessages(25, in: chat)
            try await bob.waitForMessages(25, in: chat)
            #expect(Self.seqs(of: alice, in: chat) == Array(1...25))
            #expect(Self.seqs(of: bob, in: chat) == Array(1...25))
            #expect(alice.receivedBodies(in: chat) == bob.receivedBodies(in: chat))
            let expected = Set(
                (1...10).flatMap { ["alice \($0)", "bob \($0)"] } + (1...3).map { "alice away \($0)" }
                    + (1...2).map { "bob away \($0)" }
            )
            #expect(Set(alice.receivedBodies(in: chat)) == expected)
            // Each client's own queue kept its order.
            let aliceAway = alice.receivedBodies(in: chat).filter { $0.hasPrefix("alice away") }
            #expect(aliceAway == (1...3).map { "alice away \($0)" })
            #expect(alice.client.outbox.isEmpty && bob.client.outbox.isEmpty)
        }
    }

    @Test func aMessageTheServerRefusesIsMarkedFailedAndCanBeRetriedOrDiscarded() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken, configuration: Self.fast)
            let updates = Recorder(alice.client.outboxUpdates())
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)

            let nowhere = ConversationID(rawValue: "c-does-not-exist")
            let lost = ClientMessageID(rawValue: "k-lost")
            let refused = await #expect(throws: ChatError.self) {
                try await alice.client.send("lost", to: nowhere, clientMessageID: lost)
            }
            #expect(refused?.code == .notFound)
            let empty = await #expect(throws: ChatError.self) {
                try await alice.client.send("", to: chat.id, clientMessageID: ClientMessageID(rawValue: "k-empty"))
            }
            #expect(empty?.code == .invalidArgument)
            #expect(alice.client.outbox.map(\.clientMessageID.rawValue) == ["k-lost", "k-empty"])
            #expect(alice.client.outbox.map(\.state) == [.failed, .failed])
            #expect(alice.client.outbox.map(\.failureCode) == [.notFound, .invalidArgument])

            // A failed message does not hold back the next one.
            let fine = try await alice.client.send("fine", to: chat.id)
            #expect(fine.seq == 1)

            try alice.client.retry(lost)
            try await updates.waitFor("the retry to fail again") { updates in
                updates.filter { $0.clientMessageID == lost }.map(\.state) == [.pending, .failed, .pending, .failed]
            }
            let discarded = try alice.client.discard(lost)
            #expect(discarded.body == "lost")
            #expect(discarded.state == .failed, "discard returns the message as it was in the outbox")
            #expect(alice.client.outbox.map(\.clientMessageID.rawValue) == ["k-empty"])
            // A view that mirrors the outbox from its updates learns of the discard too.
            try await updates.waitFor("the discard to be streamed") { updates in
                updates.filter { $0.clientMessageID == lost }.map(\.state).last == .discarded
            }
            #expect(throws: ChatError.self) { try alice.client.discard(lost) }
            #expect(throws: ChatError.self) { try alice.client.retry(ClientMessageID(rawValue: "k-unknown")) }
        }
    }

    @Test func rateLimitedSendsWaitOutTheRetryAfterAndAllArriveInOrder() async throws {
        var limits = ChatServerConfiguration.Limits()
        limits.requestsPerSecond = 2
        // Virtual time shared by client and server: the server's rate limiter refills only when the client waits
        // out a retry-after, so the refusals happen however slow the machine is.
        let serverClock = ManualClock()
        try await LiveServer.run(configuration: ChatServerConfiguration(limits: limits), clock: serverClock) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let clock = RecordingClock(onSleep: { serverClock.advance(by: $0) })
            let alice = try await live.connect(aliceTokens.accessToken, configuration: .init(clock: clock))
            let updates = Recorder(alice.client.outboxUpdates())
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            var sends: [Task<Message, any Error>] = []
            for number in 1...10 {
                sends.append(try await Self.queue("m\(number)", id: "k-\(number)", from: alice, to: chat.id, updates))
            }
            var stored: [Message] = []
            for send in sends { stored.append(try await withTimeout("a rate-limited send") { try await send.value }) }
            #expect(stored.map(\.body) == (1...10).map { "m\($0)" })
            #expect(stored.map(\.seq) == Array(1...10))
            #expect(!updates.recorded.contains { $0.state == .failed })
            // Eleven requests at 2 per second with a burst of 4, on a clock that moves only when the client waits: the
            // client was refused and waited the server's retry-after (about half a second) several times.
            #expect(!clock.sleeps.isEmpty)
            #expect(clock.sleeps.allSatisfy { $0 > .zero && $0 <= .seconds(1) }, "\(clock.sleeps)")
        }
    }

    @Test func anUnauthenticatedRefusalAsksTheTokenProviderForAFreshTokenOnce() async throws {
        try await LiveServer.run { live in
            let tokens = try await live.signUp("alice")
            let asked = Locked<[Bool]>([])
            let client = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL), configuration: Self.fast
            ) { refresh in
                asked.withLock { $0.append(refresh) }
                return refresh ? tokens.accessToken : "an expired token"
            }
            let run = Task { try await client.run() }
            defer { run.cancel() }
            let welcome = try await withTimeout("the session") { try await client.connected() }
            #expect(welcome.user.id == tokens.user.id)
            #expect(asked.withLock { $0 } == [false, true])

            let stale = Locked<[Bool]>([])
            let refused = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL), configuration: Self.fast
            ) { refresh in
                stale.withLock { $0.append(refresh) }
                return "still not a token"
            }
            let error = await #expect(throws: ChatError.self) {
                try await withTimeout("the refusal") { try await refused.run() }
            }
            #expect(error?.code == .unauthenticated)
            #expect(stale.withLock { $0 } == [false, true])
            #expect(refused.connectionState == .disconnected)
        }
    }

    // MARK: Helpers

    /// Starts sending `body` in a task of its own, and returns once the message is in the outbox.
    static func queue(
        _ body: String,
        id: String,
        from client: TestClient,
        to conversation: ConversationID,
        _ updates: Recorder<OutgoingMessage>
    ) async throws -> Task<Message, any Error> {
        let clientMessageID = ClientMessageID(rawValue: id)
        let task = Task { try await client.client.send(body, to: conversation, clientMessageID: clientMessageID) }
        try await updates.waitFor("\(body) queued") { $0.contains { $0.clientMessageID == clientMessageID } }
        return task
    }

    /// The seqs of the `messageCreated` events a client received in `conversation`, in arrival order.
    static func seqs(of client: TestClient, in conversation: ConversationID) -> [Int64] {
        client.storedEvents.compactMap { event in
            event.kind == .messageCreated && event.conversationID == conversation ? event.message?.seq : nil
        }
    }
}
