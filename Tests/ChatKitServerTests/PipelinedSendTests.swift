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
import ChatKitTesting
import HummingbirdWSClient
import NIOWebSocket
import Synchronization
import Testing

@testable import ChatKitServer

/// A client that writes many `send`s without waiting for their answers, over a real WebSocket.
@Suite("Pipelined sends")
struct PipelinedSendTests {
    /// The in-memory store, recording the batches the server appends; the first waits for `firstBatch`.
    final class BatchRecordingStore: ChatStoreDecorator {
        let base: any ChatStore
        let batches = Mutex<[Int]>([])
        let firstBatch = ConnectionShardsTests.Gate()

        init(_ base: any ChatStore) { self.base = base }

        func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
            let isFirst = batches.withLock { batches in
                batches.append(messages.count)
                return batches.count == 1
            }
            if isFirst { await firstBatch.wait() }
            return await base.append(contentsOf: messages)
        }
    }

    /// Signs up carol and bob and makes a group of the two, owned by carol.
    func carolAndBobInAGroup(_ live: LiveServer) async throws -> (carol: AuthTokens, bob: AuthTokens, chat: ConversationID) {
        let carol = try await live.signUp("carol")
        let bob = try await live.signUp("bob")
        let chat = try await live.store.createConversation(
            .group("pipeline", createdBy: carol.user.id, members: [bob.user.id])
        ).id
        return (carol, bob, chat)
    }

    /// Opens the session on a raw socket: `hello` with `token`, then waits for `welcome`.
    func sayHello(_ socket: RawSocket, _ outbound: WebSocketOutboundWriter, token: String) async throws {
        try await outbound.write(.text(try socket.codec.encode(ClientFrame(id: "h", .hello(.init(token: token))))))
        _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }
    }

    /// Writes sends `0...last` back to back, then waits until the last is refused by the rate limit: the server
    /// reads in order, so by then it has read (and queued) all the others.
    func writeSendsUntilRefused(
        _ last: Int, to chat: ConversationID, _ socket: RawSocket, _ outbound: WebSocketOutboundWriter
    ) async throws {
        for number in 0...last {
            try await outbound.write(.text(try sendFrame(number, to: chat, codec: socket.codec)))
        }
        _ = try await socket.waitFor("send \(last) refused") { frame in
            if case .error(let error) = frame { error.id == "s\(last)" && error.code == "limitExceeded" } else { false }
        }
    }

    func sendFrame(_ number: Int, to chat: ConversationID, codec: WireCodec) throws -> String {
        try codec.encode(
            ClientFrame(
                id: "s\(number)",
                .send(.init(conversationID: chat, clientMessageID: ClientMessageID(rawValue: "k\(number)"), body: "m\(number)"))
            )
        )
    }

    /// The seq of each send's answer, by send number.
    func answeredSeqs(_ frames: [ServerFrame]) -> [Int: Int64] {
        var seqs: [Int: Int64] = [:]
        for frame in frames {
            if case .result(let id, let result) = frame, id.hasPrefix("s"), let number = Int(id.dropFirst()),
                let message = result.message
            {
                seqs[number] = message.seq
            }
        }
        return seqs
    }

    @Test func pipelinedSendsAreAppendedTogetherInTheirOrder() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 20  // a burst of 40, and the manual clock never refills it
        let inMemory = InMemoryChatStore()
        let recording = BatchRecordingStore(inMemory)
        try await LiveServer.run(store: inMemory, configuration: configuration, clock: ManualClock(), serverStore: recording) {
            live in
            let (carol, bobTokens, chat) = try await carolAndBobInAGroup(live)
            let bob = try await live.connect(bobTokens.accessToken)
            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                try await sayHello(socket, outbound, token: carol.accessToken)
                // 40 sends and a 41st over the burst: once the 41st is refused, all 40 are queued, while the first
                // batch waits.
                try await writeSendsUntilRefused(40, to: chat, socket, outbound)
                recording.firstBatch.open()
                _ = try await socket.waitFor("every send answered") { [self] _ in
                    answeredSeqs(socket.frames).count == 40
                }
                let seqs = answeredSeqs(socket.frames)
                #expect((0..<40).map { seqs[$0] } == (1...40).map { Int64($0) }, "each send's seq follows its order")
                try await outbound.close(.normalClosure, reason: nil)
            }
            let batches = recording.batches.withLock { $0 }
            #expect(batches.reduce(0, +) == 40)
            #expect(batches.count <= 2, "the sends queued behind the first batch were not appended together: \(batches)")
            try await bob.waitForMessages(40, in: chat)
            #expect(bob.receivedBodies(in: chat) == (0..<40).map { "m\($0)" })
        }
    }

    @Test func aRequestAfterPipelinedSendsSeesThemAll() async throws {
        try await LiveServer.run { live in
            let (carol, _, chat) = try await carolAndBobInAGroup(live)
            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                try await sayHello(socket, outbound, token: carol.accessToken)
                for number in 0..<30 {
                    try await outbound.write(.text(try sendFrame(number, to: chat, codec: socket.codec)))
                }
                let history = ClientFrame(id: "history", .history(.init(conversationID: chat, limit: 100)))
                try await outbound.write(.text(try socket.codec.encode(history)))
                let answer = try await socket.waitFor("the history") { frame in
                    if case .result(let id, _) = frame { id == "history" } else { false }
                }
                guard case .result(_, let result) = answer else { return }
                // Served after every send read before it: all 30, in order.
                #expect(result.messages?.map(\.body) == (0..<30).map { "m\($0)" })
                let seqs = answeredSeqs(socket.frames)
                #expect(seqs.count == 30, "every send was answered before the history")
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func sendsReadBeforeThePeerLeavesAreStillStored() async throws {
        try await LiveServer.run { live in
            let (carol, bob, chat) = try await carolAndBobInAGroup(live)
            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                try await sayHello(socket, outbound, token: carol.accessToken)
                for number in 0..<20 {
                    try await outbound.write(.text(try sendFrame(number, to: chat, codec: socket.codec)))
                }
                // Leaves at once, without waiting for a single answer.
                try await outbound.close(.normalClosure, reason: nil)
            }
            // Polls the store (bounded): there is no event to await once the peer has gone.
            let deadline = ContinuousClock.now + .seconds(10)
            while true {
                let stored = try await live.store.messages(in: chat, .latest(limit: 100), as: bob.user.id)
                if stored.count == 20 {
                    #expect(stored.map(\.body) == (0..<20).map { "m\($0)" })
                    break
                }
                guard ContinuousClock.now < deadline else {
                    Issue.record("only \(stored.count) of the 20 sends were stored")
                    break
                }
                await Task.yield()
            }
        }
    }

    @Test func sendsQueuedWhenTheLoginIsRevokedAreNotStored() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 5  // a burst of 10, and the manual clock never refills it
        let inMemory = InMemoryChatStore()
        let recording = BatchRecordingStore(inMemory)
        try await LiveServer.run(store: inMemory, configuration: configuration, clock: ManualClock(), serverStore: recording) {
            live in
            let (carol, bob, chat) = try await carolAndBobInAGroup(live)
            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                try await sayHello(socket, outbound, token: carol.accessToken)
                // Once the 11th is refused, all 10 are read: the first batch waits, the rest are queued.
                try await writeSendsUntilRefused(10, to: chat, socket, outbound)
                live.server.closeSessions(of: carol.user.id)
                recording.firstBatch.open()
                _ = try? await socket.waitFor("the socket closed") { _ in false }
            }
            // Only the batch already being stored at the revocation was stored; the sends queued behind it were not.
            let batches = recording.batches.withLock { $0 }
            #expect(batches.count == 1, "sends queued at the revocation were stored: \(batches)")
            let stored = try await live.store.messages(in: chat, .latest(limit: 100), as: bob.user.id)
            #expect(stored.map(\.body) == (0..<batches[0]).map { "m\($0)" })
        }
    }
}
