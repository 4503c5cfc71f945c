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

@testable import ChatKitServer
import ChatKitCore
import ChatKitTesting
import Synchronization
import Testing

/// A session whose frames the socket pushes, driven directly: the socket's part is played by closures.
@Suite("Pushed sessions")
struct PushedSessionTests {
    /// An in-memory store whose user look-ups (the handshake's) wait until `gate` opens.
    final class GatedUserStore: ChatStoreDecorator {
        let base: any ChatStore
        let gate = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func user(_ id: UserID) async throws -> User? {
            await gate.waitUntilOpen()
            return try await base.user(id)
        }
    }

    /// The frames a session wrote, and how it was closed.
    final class Socket: Sendable {
        let written = Mutex<[String]>([])
        let closed = Mutex<CloseReason?>(nil)

        var writer: OutboundWriter {
            OutboundWriter(
                write: { text in self.written.withLock { $0.append(text) } },
                close: { reason in self.closed.withLock { $0 = $0 ?? reason } }
            )
        }
    }

    @Test func aSocketWithManyFramesWaitingIsToldToPauseAndThenToReadAgain() async throws {
        let store = InMemoryChatStore()
        let gated = GatedUserStore(store)
        let authenticator = InMemoryAuthenticator()
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
        authenticator.register(token: "token-alice", for: alice)
        let server = ChatServer(store: gated, authenticators: [authenticator], configuration: .loadTolerant)
        // The session's workers run as the server's background actions.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.background.run() }
            defer { group.cancelAll() }
            let codec = WireCodec()
            let socket = Socket()
            let room = TestGate()
            let session = PushedSession(
                server: server, outbound: socket.writer, peer: "test", onOpened: { _ in }, onRoom: { room.open() },
                spawn: { work in server.background.start(work) }
            )
            #expect(session.received(try codec.encode(ClientFrame(id: "h", .hello(.init(token: "token-alice"))))))
            // The handshake waits on the store, so the pings pile up: the socket must be told to stop reading.
            var accepted = 0
            let ping = try codec.encode(ClientFrame(id: "p", .ping(ClientRequest.Empty())))
            while accepted <= PushedSession.pauseThreshold, session.received(ping) { accepted += 1 }
            #expect(accepted < PushedSession.pauseThreshold, "\(accepted) frames were taken without a pause")
            gated.gate.open()
            try await withTimeout("the socket told to read again") { await room.wait() }
            session.inboundEnded()
            try await waitUntil("the session closed") { socket.closed.withLock { $0 } != nil }
            #expect(socket.closed.withLock { $0 } == .normal)
            #expect(socket.written.withLock { $0.first?.contains("welcome") } == true)
        }
    }

    /// Sends are appended by the session's own worker, not by a task of their own: a server that is stopping and
    /// takes no new task still stores and answers the sends of a session it serves, and the session finishes.
    @Test func sendsAreAppendedByTheSessionsOwnWorker() async throws {
        let store = InMemoryChatStore()
        let gated = GatedUserStore(store)
        let authenticator = InMemoryAuthenticator()
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
        let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil).id
        let chat = try await store.createConversation(.direct(between: alice, and: bob)).id
        authenticator.register(token: "token-alice", for: alice)
        let server = ChatServer(store: gated, authenticators: [authenticator], configuration: .loadTolerant)
        // Not a task group: were the send dropped, the session's worker would wait for it for ever and a group
        // would never end. This way the test fails at its timeout instead of hanging.
        let background = Task { await server.background.run() }
        defer { background.cancel() }
        let codec = WireCodec()
        let socket = Socket()
        // The first task (the session's worker) starts; every later one is refused, as by stopped shards.
        let spawned = Mutex(0)
        let opened = Mutex<Outbox?>(nil)
        let session = PushedSession(
            server: server, outbound: socket.writer, peer: "test",
            onOpened: { outbox in opened.withLock { $0 = outbox } }, onRoom: {},
            spawn: { work in
                let isFirst = spawned.withLock { count in
                    count += 1
                    return count == 1
                }
                return isFirst && server.background.start(work)
            }
        )
        // All frames arrive while the handshake waits on the store, so one worker answers them all.
        #expect(session.received(try codec.encode(ClientFrame(id: "h", .hello(.init(token: "token-alice"))))))
        let send = ClientFrame(id: "s", .send(.init(conversationID: chat, clientMessageID: "k-1", body: "stored")))
        #expect(session.received(try codec.encode(send)))
        session.inboundEnded()
        gated.gate.open()
        try await waitUntil("the session closed") { socket.closed.withLock { $0 } != nil }
        #expect(socket.closed.withLock { $0 } == .normal)
        #expect(spawned.withLock { $0 } == 1, "no task besides the session's worker was asked for")
        let stored = try await store.messages(in: chat, .latest(limit: 10), as: alice)
        #expect(stored.map(\.body) == ["stored"])
        // The socket's handler writes the outbox; here it is read directly.
        let outbox = try #require(opened.withLock { $0 })
        var frames: [String] = []
        while let taken = outbox.take(), !taken.isEmpty { frames += taken }
        #expect(frames.contains { $0.contains(#""id":"s""#) && $0.contains("result") }, "\(frames)")
    }
}
