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
import ChatKitServer
import Foundation
import Synchronization
import Testing

@testable import ChatKitClient

/// `ChatClient.events`: a queue in the client that a loop can stop and start taking from without losing events.
@Suite("Client events")
struct ClientEventsTests {
    /// The bodies of the new messages among `events`.
    static func bodies(_ events: [ClientEvent]) -> [String] {
        events.compactMap { event in
            if case .stored(let stored) = event, stored.kind == .messageCreated { stored.message?.body } else { nil }
        }
    }

    /// Takes events from `client` until `count` messages have come, and returns their bodies.
    static func takeMessages(_ count: Int, from client: ChatClient) async throws -> [String] {
        try await withTimeout("\(count) messages") {
            var taken: [String] = []
            for await event in client.events {
                taken += bodies([event])
                if taken.count == count { break }
            }
            return taken
        }
    }

    @Test("a loop over events whose task is cancelled loses nothing: the next loop gets what came meanwhile")
    func aCancelledLoopLosesNothing() async throws {
        try await LiveServer.run { live in
            let alice = try await live.connect(try await live.signUp("alice").accessToken)
            let bobTokens = try await live.signUp("bob")
            let transport = WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/ws")
            let bob = ChatClient(transport: transport, token: bobTokens.accessToken, configuration: .singleSession)
            let run = Task { try await bob.run() }
            defer { run.cancel() }
            _ = try await withTimeout("bob's session") { try await bob.connected() }
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await alice.client.send("first", to: chat.id)

            // A view's task takes events, then goes away while waiting for the next one.
            let tookFirst = Mutex(false)
            let view = Task {
                for await event in bob.events where !Self.bodies([event]).isEmpty {
                    tookFirst.withLock { $0 = true }
                }
            }
            try await waitUntil("the view to take the first message") { tookFirst.withLock { $0 } }
            view.cancel()
            await view.value

            for number in 1...5 { _ = try await alice.client.send("while away \(number)", to: chat.id) }
            #expect(try await Self.takeMessages(5, from: bob) == (1...5).map { "while away \($0)" })
            // And a loop that ends by `break` leaves later events for the next one too.
            _ = try await alice.client.send("after the break", to: chat.id)
            #expect(try await Self.takeMessages(1, from: bob) == ["after the break"])
        }
    }

    @Test("the queue: a cancelled wait takes nothing, events wait for the next taker, a finish ends empty waits")
    func theQueue() async throws {
        let queue = ClientEventQueue()
        let waiting = Task { await queue.take() }
        try await waitUntil("a waiting take") { queue.waitingCount == 1 }
        waiting.cancel()
        #expect(await waiting.value == nil)
        #expect(queue.waitingCount == 0)

        queue.yield(.rewound(StreamPosition(1)))
        queue.yield(.synced(StreamPosition(2)))
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await queue.take()
        }
        #expect(await cancelled.value == nil, "a cancelled task took an event")
        #expect(await queue.take() == .rewound(StreamPosition(1)))

        let late = Task { await queue.take() }
        try await waitUntil("the queued event taken") { queue.waitingCount == 0 }
        #expect(await late.value == .synced(StreamPosition(2)))

        // Of two waiting takes, the first is cancelled: the next event goes to the second.
        let first = Task { await queue.take() }
        try await waitUntil("the first take") { queue.waitingCount == 1 }
        let second = Task { await queue.take() }
        try await waitUntil("the second take") { queue.waitingCount == 2 }
        first.cancel()
        #expect(await first.value == nil)
        queue.yield(.synced(StreamPosition(10)))
        #expect(await second.value == .synced(StreamPosition(10)))

        let parked = Task { await queue.take() }
        try await waitUntil("a parked take") { queue.waitingCount == 1 }
        queue.yield(.synced(StreamPosition(3)))
        queue.finish()
        #expect(await parked.value == .synced(StreamPosition(3)))
        #expect(await queue.take() == nil)
        queue.yield(.synced(StreamPosition(4)))
        #expect(await queue.take() == nil, "an event queued after the finish")
    }

    @Test("past its limit the queue drops the oldest events and counts them")
    func theQueueDropsTheOldestPastItsLimit() async {
        let queue = ClientEventQueue(limit: 3)
        queue.yield(.synced(StreamPosition(1)))
        #expect(await queue.take() == .synced(StreamPosition(1)))
        for position in 2...7 { queue.yield(.synced(StreamPosition(Int64(position)))) }
        #expect(queue.droppedCount == 3)
        for position in 5...7 { #expect(await queue.take() == .synced(StreamPosition(Int64(position)))) }
        queue.yield(.synced(StreamPosition(8)))
        #expect(await queue.take() == .synced(StreamPosition(8)))
        #expect(queue.droppedCount == 3)
    }

    /// 10,000 messages of 64 KiB, untaken, held 640 MB: the count alone did not bound the memory.
    @Test("past its byte bound the queue drops the oldest messages, never the newest, and counts them")
    func theQueueDropsTheOldestPastItsByteBound() async {
        func message(_ position: Int64, bytes: Int) -> ClientEvent {
            let body = String(repeating: "x", count: bytes)
            let date = Date(timeIntervalSince1970: 1_800_000_000)
            return .stored(
                StoredEvent(
                    position: StreamPosition(position), kind: .messageCreated, conversationID: "c", actorID: "u",
                    createdAt: date,
                    message: Message(
                        id: MessageID(rawValue: "m\(position)"), conversationID: "c", seq: position, senderID: "u",
                        clientMessageID: ClientMessageID(rawValue: "k\(position)"), body: body, createdAt: date
                    )
                )
            )
        }
        let queue = ClientEventQueue(limit: 10_000, byteLimit: 1 << 20)
        queue.yield(.rewound(StreamPosition(1)))
        for position in 2...101 { queue.yield(message(Int64(position), bytes: 64 << 10)) }
        // Fifteen messages (and the rewind) fit in 1 MiB; the eighty-five oldest were dropped.
        #expect(queue.droppedCount == 85)
        #expect(await queue.take() == .rewound(StreamPosition(1)))
        for position in 87...101 { #expect(await queue.take() == message(Int64(position), bytes: 64 << 10)) }
        // One event larger than the bound is kept, being the newest.
        queue.yield(message(102, bytes: 2 << 20))
        #expect(queue.droppedCount == 85)
        #expect(await queue.take() == message(102, bytes: 2 << 20))
    }

    @Test("past its limit the queue keeps the events that tell the app what to do, and drops data around them")
    func theQueueKeepsSignalsPastItsLimit() async {
        func typing(_ user: String) -> ClientEvent {
            .typing(TypingUpdate(conversationID: "c", userID: UserID(rawValue: user), isTyping: true))
        }
        let queue = ClientEventQueue(limit: 3)
        queue.yield(typing("a"))
        queue.yield(.rewound(StreamPosition(10)))
        for user in ["b", "c", "d", "e"] { queue.yield(typing(user)) }
        queue.yield(.synced(StreamPosition(12)))
        #expect(queue.droppedCount == 4)
        // The rewind an app must act on survived being the oldest event left; the data around it did not.
        for expected in [.rewound(StreamPosition(10)), typing("e"), .synced(StreamPosition(12))] as [ClientEvent] {
            #expect(await queue.take() == expected)
        }

        // When only signals wait, data that comes is dropped rather than one of them; a signal takes the oldest's
        // place.
        let tiny = ClientEventQueue(limit: 1)
        tiny.yield(.rewound(StreamPosition(20)))
        tiny.yield(typing("f"))
        #expect(tiny.droppedCount == 1)
        #expect(await tiny.take() == .rewound(StreamPosition(20)))
        tiny.yield(.synced(StreamPosition(21)))
        tiny.yield(.synced(StreamPosition(22)))
        #expect(tiny.droppedCount == 2)
        #expect(await tiny.take() == .synced(StreamPosition(22)))
    }

    @Test("a client whose events nobody takes keeps the newest up to its limit, and says how many it dropped")
    func aClientKeepsTheNewestEventsUpToItsLimit() async throws {
        try await LiveServer.run { live in
            let alice = try await live.connect(try await live.signUp("alice").accessToken)
            let bobTokens = try await live.signUp("bob")
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let transport = WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/ws")
            let bob = ChatClient(
                transport: transport, token: bobTokens.accessToken,
                configuration: .init(reconnection: .disabled, eventBufferLimit: 5)
            )
            let run = Task { try await bob.run() }
            defer { run.cancel() }
            _ = try await withTimeout("bob's session") { try await bob.connected() }
            // The server answers requests once the session's catch-up is over: after this, Bob's `synced` is queued
            // ahead of the messages.
            try await withTimeout("bob's ping") { try await bob.ping() }
            for number in 1...20 { _ = try await alice.client.send("message \(number)", to: chat.id) }
            // Every event has reached Bob's client (its cursor moves as they arrive, before the app takes them).
            let latest = try await live.store.latestPosition()
            try await waitUntil("Bob's client to receive every event") { bob.cursor == latest }

            // Nobody took Bob's events meanwhile: the oldest went, the newest wait, in order. The session's
            // `synced` stays among the five (it tells the app the catch-up is over): four messages are kept.
            let kept = try await Self.takeMessages(through: "message 20", from: bob)
            let numbers = kept.compactMap { Int($0.dropFirst("message ".count)) }
            #expect(numbers.count == 4 && numbers.last == 20, "\(kept)")
            #expect(numbers == Array((21 - numbers.count)...20), "\(kept)")
            #expect(bob.droppedEventCount >= 15)
        }
    }

    /// Takes events from `client` until the message `body` has come, and returns the bodies of the messages taken.
    static func takeMessages(through body: String, from client: ChatClient) async throws -> [String] {
        try await withTimeout("the message \(body)") {
            var taken: [String] = []
            for await event in client.events {
                taken += bodies([event])
                if taken.last == body { break }
            }
            return taken
        }
    }
}
