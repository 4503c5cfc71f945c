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
import ChatKitTesting
import ChatKitServer
import Foundation
import HummingbirdWSClient
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

@Suite("WebSocket edge over real sockets")
struct WebSocketEdgeTests {
    @Test func twoUsersSignUpOverHTTPAndChatBothWaysOverWebSocket() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let sent = try await alice.client.send("Hi Bob", to: chat.id)
            #expect(sent.seq == 1)
            try await bob.waitForMessages(1, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["Hi Bob"])
            let reply = try await bob.client.send("Hi Alice", to: chat.id)
            #expect(reply.seq == 2)
            try await alice.waitForMessages(2, in: chat.id)
            #expect(alice.receivedBodies(in: chat.id) == ["Hi Bob", "Hi Alice"])
            #expect(live.transport.connectionCount == 2)
        }
    }

    @Test func aBadTokenIsRefusedAndAnUnreachableServerIsUnavailable() async throws {
        try await LiveServer.run { live in
            let refused = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL), token: "not a token"
            )
            let error = await #expect(throws: ChatError.self) {
                try await withTimeout("the refusal") { try await refused.run() }
            }
            #expect(error?.code == .unauthenticated)
        }
        // Nothing listens on port 1.
        let unreachable = ChatClient(
            transport: WebSocketClientTransport(url: "ws://127.0.0.1:1/v1/ws"), token: "t", configuration: .singleSession
        )
        let error = await #expect(throws: ChatError.self) {
            try await withTimeout("the connection failure") { try await unreachable.run() }
        }
        #expect(error?.code == .unavailable)
    }

    @Test func aGroupMessageFansOutToTenClients() async throws {
        try await LiveServer.run { live in
            var tokens: [AuthTokens] = []
            for index in 0..<10 { tokens.append(try await live.signUp("member\(index)")) }
            var clients: [TestClient] = []
            for token in tokens { clients.append(try await live.connect(token.accessToken)) }
            let group = try await clients[0].client.createGroup("Ten", members: tokens.dropFirst().map(\.user.id))
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for sender in clients.prefix(3) {
                    senders.addTask {
                        for number in 1...5 { _ = try await sender.client.send("m\(number)", to: group.id) }
                    }
                }
                try await senders.waitForAll()
            }
            for client in clients {
                try await client.waitForMessages(15, in: group.id)
                let seqs = client.storedEvents.filter { $0.kind == .messageCreated }.compactMap(\.message?.seq)
                #expect(seqs == Array(1...15))
            }
        }
    }

    @Test func garbageAndOversizedFramesAreAnsweredWhileAnotherClientIsServed() async throws {
        var limits = ChatServerConfiguration.Limits()
        limits.maxFrameBytes = 4 * 1024
        try await LiveServer.run(
            configuration: ChatServerConfiguration(limits: limits),
            transportConfiguration: .init(maxFrameSize: 64 * 1024, maxMessageSize: 64 * 1024)
        ) { live in
            let mallory = try await live.signUp("mallory")
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)

            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                let hello = ClientFrame(id: "h", .hello(.init(token: mallory.accessToken)))
                try await outbound.write(.text(try socket.codec.encode(hello)))
                _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }

                try await outbound.write(.text("this is not JSON"))
                _ = try await socket.waitFor("an error for garbage") { frame in
                    if case .error(let error) = frame { error.id == nil && error.code == "invalidArgument" } else { false }
                }
                _ = try await alice.client.send("while garbage flies", to: chat.id)

                try await outbound.write(.binary(ByteBuffer(bytes: [0xFF, 0xFE, 0x00])))
                try await outbound.write(.text(#"{"type": "send", "id": "no-payload"}"#))
                _ = try await socket.waitFor("an error for a malformed request") { frame in
                    if case .error(let error) = frame { error.id == "no-payload" && error.code == "invalidArgument" }
                    else { false }
                }

                let padding = String(repeating: "x", count: 8 * 1024)
                try await outbound.write(.text(#"{"type": "ping", "id": "big", "padding": "\#(padding)"}"#))
                _ = try await socket.waitFor("limitExceeded for an oversized frame") { frame in
                    if case .error(let error) = frame { error.id == "big" && error.code == "limitExceeded" } else { false }
                }

                // The connection still works.
                try await outbound.write(.text(try socket.codec.encode(ClientFrame(id: "p", .ping(.init())))))
                _ = try await socket.waitFor("the ping's result") { frame in
                    if case .result(let id, _) = frame { id == "p" } else { false }
                }
                _ = try await bob.client.send("still here", to: chat.id)
                try await outbound.close(.normalClosure, reason: nil)
            }
            try await bob.waitForMessages(2, in: chat.id)
            try await alice.waitForMessages(2, in: chat.id)
            #expect(alice.receivedBodies(in: chat.id) == ["while garbage flies", "still here"])

            // A message over the transport's hard limit closes only that socket, with 1009.
            let close = try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                let hello = ClientFrame(id: "h", .hello(.init(token: mallory.accessToken)))
                try await outbound.write(.text(try socket.codec.encode(hello)))
                _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }
                try await outbound.write(.text(String(repeating: "y", count: 128 * 1024)))
            }
            #expect(close?.closeCode == .messageTooLarge)
            _ = try await alice.client.send("after the big one", to: chat.id)
            try await bob.waitForMessages(3, in: chat.id)
        }
    }

    @Test func aCursorPastTheServersStreamStartsAgainFromTheServersPosition() async throws {
        // A client whose cursor is ahead of the store (the database was restored from a backup, or lost its newest
        // commits) used to keep it: the server skipped the events stored next at the positions it covered, and
        // the client would have dropped them as seen. Both now go on from the store's position.
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let latest = try await live.store.latestPosition()
            let aheadOfTheStore = StreamPosition(latest.rawValue + 1_000)
            let bob = try await live.connect(bobTokens.accessToken, cursor: aheadOfTheStore)
            #expect(bob.events.contains(.rewound(latest)), "\(bob.events)")
            _ = try await alice.client.send("after the restore", to: chat.id)
            try await bob.waitForMessages(1, in: chat.id)
            #expect(bob.receivedBodies(in: chat.id) == ["after the restore"])
        }
    }

    /// A store that says a cursor at or past `lost.from` names events it no longer has: resume from `lost.resume`.
    final class RestoredStore: ChatStoreDecorator {
        let base: any ChatStore
        let lost = Mutex<(from: StreamPosition, resume: StreamPosition)?>(nil)

        init(_ base: any ChatStore) { self.base = base }

        func resumePosition(after cursor: StreamPosition) async throws -> StreamPosition {
            guard let lost = lost.withLock({ $0 }), cursor >= lost.from else { return cursor }
            return lost.resume
        }
    }

    @Test func aCursorNamingEventsTheStoreLostIsRewoundThoughLaterEventsPassedIt() async throws {
        // After a restore, anything stored before a client reconnects puts the store's position past the client's
        // cursor: only the store can tell that the cursor names lost events. The welcome says where to resume.
        let store = InMemoryChatStore()
        let restored = RestoredStore(store)
        try await LiveServer.run(store: store, serverStore: restored) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let fixture = StoreFixture(store)
            let chat = try await fixture.direct(aliceTokens.user.id, bobTokens.user.id)
            _ = try await fixture.send("kept", from: aliceTokens.user.id, to: chat)
            let keptPosition = try await store.latestPosition()
            _ = try await fixture.send("lost in the restore", from: aliceTokens.user.id, to: chat)
            let lostPosition = try await store.latestPosition()
            restored.lost.withLock { $0 = (lostPosition, keptPosition) }

            let aliceSession = try await live.connect(aliceTokens.accessToken)
            _ = try await aliceSession.client.send("after the restore", to: chat)
            #expect(try await store.latestPosition() > lostPosition)
            let bobSession = try await live.connect(bobTokens.accessToken, cursor: lostPosition)
            #expect(bobSession.events.contains(.rewound(keptPosition)), "\(bobSession.events)")
            // Everything after the position resumed from arrives, including what the old cursor covered.
            try await bobSession.waitForMessages(2, in: chat)
            #expect(bobSession.receivedBodies(in: chat) == ["lost in the restore", "after the restore"])
            await aliceSession.disconnect()
            await bobSession.disconnect()
        }
    }

    @Test func aClientWhoseSocketIsCutResumesFromItsCursorWithoutLossOrDuplicates() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            try await TCPRelay.run(to: live.port) { relay in
                let bob = try await live.connect(bobTokens.accessToken, port: relay.port)
                let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
                _ = try await alice.client.send("before", to: chat.id)
                try await bob.waitForMessages(1, in: chat.id)

                relay.cutAll()
                _ = try await withTimeout("bob's client to notice the cut") { await bob.runResult() }
                #expect(bob.client.connectionState == .disconnected)
                let cursor = try #require(bob.client.cursor)

                for number in 1...20 { _ = try await alice.client.send("while cut \(number)", to: chat.id) }
                let resumed = try await live.connect(bobTokens.accessToken, cursor: cursor, port: relay.port)
                #expect(resumed.receivedBodies(in: chat.id) == (1...20).map { "while cut \($0)" })
                _ = try await alice.client.send("live", to: chat.id)
                try await resumed.waitForMessages(21, in: chat.id)
                let seqs = resumed.storedEvents.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
                #expect(seqs == Array(2...22))
            }
        }
    }

    @Test func aClientCutOffByAServerRestartResumesFromItsCursorWithoutLossOrDuplicates() async throws {
        let store = InMemoryChatStore()
        let (aliceTokens, bobTokens, chat, cursor) = try await Self.firstRun(store: store)
        // The second server, on the same store: alice writes while bob is away, then bob resumes.
        try await LiveServer.run(store: store) { live in
            let alice = try await live.connect(aliceTokens.accessToken)
            for number in 1...20 { _ = try await alice.client.send("while away \(number)", to: chat) }
            let bob = try await live.connect(bobTokens.accessToken, cursor: cursor)
            #expect(bob.receivedBodies(in: chat) == (1...20).map { "while away \($0)" })
            _ = try await alice.client.send("live again", to: chat)
            try await bob.waitForMessages(21, in: chat)
            let seqs = bob.storedEvents.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
            #expect(seqs == Array(3...23))
        }
    }

    /// Alice and Bob chat, then the server stops under them; returns their tokens, the chat and Bob's cursor.
    private static func firstRun(store: InMemoryChatStore) async throws
        -> (AuthTokens, AuthTokens, ConversationID, StreamPosition)
    {
        let result = Box<(AuthTokens, AuthTokens, ConversationID, TestClient)>()
        try await LiveServer.run(store: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            _ = try await alice.client.send("one", to: chat.id)
            _ = try await bob.client.send("two", to: chat.id)
            try await bob.waitForMessages(2, in: chat.id)
            result.set((aliceTokens, bobTokens, chat.id, bob))
        }
        let (aliceTokens, bobTokens, chat, bob) = try #require(result.value)
        // The server stopped: bob's socket was closed under him.
        _ = try await withTimeout("bob's client to notice") { await bob.runResult() }
        #expect(bob.client.connectionState == .disconnected)
        let cursor = try #require(bob.client.cursor)
        return (aliceTokens, bobTokens, chat, cursor)
    }
}

/// A value set by one task and read by another.
final class Box<Value: Sendable>: Sendable {
    private let storage = Mutex<Value?>(nil)
    func set(_ value: Value) { storage.withLock { $0 = value } }
    var value: Value? { storage.withLock { $0 } }
}
