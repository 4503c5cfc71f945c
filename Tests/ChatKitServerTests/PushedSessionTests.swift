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
        let gate = ConnectionShardsTests.Gate()

        init(_ base: any ChatStore) { self.base = base }

        func user(_ id: UserID) async throws -> User? {
            await gate.wait()
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
        let server = ChatServer(store: gated, authenticators: [authenticator])
        // The session's workers run as the server's background actions.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await server.background.run() }
            defer { group.cancelAll() }
            let codec = WireCodec()
            let socket = Socket()
            let room = ConnectionShardsTests.Gate()
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
}
