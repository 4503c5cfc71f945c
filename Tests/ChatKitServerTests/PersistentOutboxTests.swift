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
import Foundation
import Synchronization
import Testing

/// `ChatClient.Configuration.outboxStorage`: the outbox across runs of the app, over real sockets.
@Suite("Persistent outbox over real sockets")
struct PersistentOutboxTests {
    @Test func messagesQueuedBeforeTheAppStoppedAreSentOnceInOrderByTheNextClientWithTheSameStorage() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let directory = try TemporaryDirectory()
            let storage = FileOutboxStorage(fileURL: directory.url.appendingPathComponent("bob-outbox.json"))
            let settings = ChatClient.Configuration(outboxStorage: storage)

            // Bob's app sends one message while online: once stored, it is no longer in the file.
            let online = try await live.connect(bobTokens.accessToken, configuration: settings)
            let first = try await online.client.send("first", to: chat.id, clientMessageID: Self.id("k-0"))
            #expect(try storage.load() == [])
            await online.disconnect()

            // The next run queues two messages and stops before it ever connects.
            let offline = Self.client(live, bobTokens.accessToken, settings)
            let sends = [("k-1", "second"), ("k-2", "third")].map { id, body in
                Task { try await offline.send(body, to: chat.id, clientMessageID: Self.id(id)) }
            }
            try await waitUntil("both messages saved") { (try? storage.load().count) == 2 }
            for send in sends { send.cancel() }
            for send in sends { _ = await send.result }
            let saved = try storage.load()
            #expect(saved.map(\.body) == ["second", "third"])
            #expect(saved.map(\.state) == [.pending, .pending])

            // As if that run had also sent "first" and stopped before its acknowledgement came.
            let unacknowledged = OutgoingMessage(
                request: .init(conversationID: chat.id, clientMessageID: Self.id("k-0"), body: "first"),
                state: .pending
            )
            try storage.save([unacknowledged] + saved)

            // The run after that starts with the saved outbox and sends it: the server stores each message once.
            let restarted = Self.client(live, bobTokens.accessToken, settings)
            #expect(restarted.outbox.map(\.clientMessageID.rawValue) == ["k-0", "k-1", "k-2"])
            #expect(restarted.outbox.map(\.state) == [.pending, .pending, .pending])
            #expect(restarted.outboxStorageError == nil)
            let bob = TestClient(restarted)
            try await waitUntil("the outbox to empty") { restarted.outbox.isEmpty }
            try await waitUntil("the file to empty") { (try? storage.load()) == [] }
            try await alice.waitForMessages(3, in: chat.id)
            #expect(alice.receivedBodies(in: chat.id) == ["first", "second", "third"])
            let history = try await alice.client.history(of: chat.id, limit: 10)
            #expect(history.map(\.body) == ["first", "second", "third"])
            #expect(history.map(\.seq) == [1, 2, 3])
            #expect(history.first?.id == first.id)
            await bob.disconnect()
        }
    }

    @Test func aRefusedMessageStaysFailedAcrossRunsAndIsSentOnlyWhenRetried() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let directory = try TemporaryDirectory()
            let storage = FileOutboxStorage(fileURL: directory.url.appendingPathComponent("alice-outbox.json"))
            let settings = ChatClient.Configuration(outboxStorage: storage)

            let before = try await live.connect(aliceTokens.accessToken, configuration: settings)
            let refused = await #expect(throws: ChatError.self) {
                try await before.client.send("too soon", to: ConversationID(rawValue: "c-later"))
            }
            #expect(refused?.code == .notFound)
            await before.disconnect()
            let saved = try storage.load()
            #expect(saved.map(\.state) == [.failed])
            #expect(saved.map(\.failureCode) == [.notFound])

            let after = try await live.connect(aliceTokens.accessToken, configuration: settings)
            #expect(after.client.outbox.map(\.state) == [.failed])
            // Not sent by itself: a later message goes first.
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await after.client.send("hello", to: chat.id)
            #expect(after.client.outbox.map(\.body) == ["too soon"])
            // Discarding it takes it out of the file too.
            let failed = try #require(after.client.outbox.first)
            try after.client.discard(failed.clientMessageID)
            #expect(try storage.load() == [])
            let history = try await alice.client.history(of: chat.id, limit: 10)
            #expect(history.map(\.body) == ["hello"])
            await after.disconnect()
        }
    }

    @Test func aStorageThatFailsIsReportedWhileMessagesAreStillDelivered() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let bob = try await live.connect(bobTokens.accessToken)
            let storage = FailingOutboxStorage()
            let alice = try await live.connect(
                aliceTokens.accessToken, configuration: ChatClient.Configuration(outboxStorage: storage)
            )
            // The load failed: an empty outbox, and the reason.
            #expect(alice.client.outbox.isEmpty)
            #expect(alice.client.outboxStorageError?.code == .storageFailure)
            #expect(alice.client.outboxStorageError?.reason?.contains("cannot read") == true)

            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let stored = try await alice.client.send("despite the disk", to: chat.id)
            #expect(stored.seq == 1)
            #expect(alice.client.outboxStorageError?.reason?.contains("disk full") == true)

            storage.failing.withLock { $0 = false }
            _ = try await alice.client.send("and after", to: chat.id)
            #expect(alice.client.outboxStorageError == nil)
            #expect(storage.saved.withLock { $0 } == [])
            try await bob.waitForMessages(2, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["despite the disk", "and after"])
        }
    }

    // MARK: Helpers

    static func id(_ raw: String) -> ClientMessageID { ClientMessageID(rawValue: raw) }

    /// A client of `live` that is not running yet.
    static func client(_ live: LiveServer, _ token: String, _ configuration: ChatClient.Configuration) -> ChatClient {
        ChatClient(
            transport: WebSocketClientTransport(url: "ws://127.0.0.1:\(live.port)/v1/ws"), token: token,
            configuration: configuration
        )
    }
}

/// An outbox storage that cannot read, and cannot write while `failing` is set.
final class FailingOutboxStorage: OutboxStorage {
    struct DiskFull: Error, CustomStringConvertible {
        var description: String { "disk full" }
    }

    struct Unreadable: Error, CustomStringConvertible {
        var description: String { "cannot read" }
    }

    let failing = Mutex(true)
    let saved = Mutex<[OutgoingMessage]?>(nil)

    func load() throws -> [OutgoingMessage] { throw Unreadable() }

    func save(_ messages: [OutgoingMessage]) throws {
        if failing.withLock({ $0 }) { throw DiskFull() }
        saved.withLock { $0 = messages }
    }
}
