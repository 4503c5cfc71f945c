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
import Dispatch
import HummingbirdWSClient
import NIOWebSocket
import Synchronization
import Testing

@testable import ChatKitServer

/// A client that writes many `send`s without waiting for their answers, over a real WebSocket.
@Suite("Pipelined sends")
struct PipelinedSendTests {
    /// The in-memory store, recording the batches the server appends; each of the first `held` batches signals
    /// its semaphore of `batchEntered`, then waits for its gate of `batchGates`.
    final class BatchRecordingStore: ChatStoreDecorator {
        let base: any ChatStore
        let batches = Mutex<[Int]>([])
        let batchGates: [TestGate]
        let batchEntered: [DispatchSemaphore]
        var firstBatch: TestGate { batchGates[0] }
        var firstBatchEntered: DispatchSemaphore { batchEntered[0] }

        init(_ base: any ChatStore, held: Int = 1) {
            self.base = base
            batchGates = (0..<held).map { _ in TestGate() }
            batchEntered = (0..<held).map { _ in DispatchSemaphore(value: 0) }
        }

        func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
            let index = batches.withLock { batches in
                batches.append(messages.count)
                return batches.count - 1
            }
            if index < batchGates.count {
                batchEntered[index].signal()
                await batchGates[index].waitUntilOpen()
            }
            return await base.append(contentsOf: messages)
        }

        /// Opens every gate, so that no append waits any longer.
        func openAll() {
            for gate in batchGates { gate.open() }
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

    /// On a raw socket (call it on a thread of its own): opens a session with `hello`, writes the first send, waits
    /// until its batch is held in `recording`, then writes the other sends and a ping. Returns the socket once the
    /// pong shows that the server has read every frame before it (fewer than the 32 at which a session stops
    /// reading), the first batch still held; `nil` if the batch or the pong never came.
    func sendsBehindAHeldBatch(
        port: Int, hello: [UInt8], sends: [[UInt8]], _ recording: BatchRecordingStore
    ) throws -> RawWebSocketPeer? {
        let peer = try RawWebSocketPeer(port: port)
        _ = try peer.upgrade()
        try peer.write(opcode: RawWebSocketPeer.text, hello)
        while let frame = try peer.readFrame(opcode: RawWebSocketPeer.text), !frame.text.contains("synced") {}
        try peer.write(opcode: RawWebSocketPeer.text, sends[0])
        guard recording.firstBatchEntered.wait(timeout: failsafeDeadline()) == .success else { return nil }
        for send in sends.dropFirst() { try peer.write(opcode: RawWebSocketPeer.text, send) }
        try peer.write(opcode: RawWebSocketPeer.ping, Array("read?".utf8))
        return try peer.readFrame(opcode: RawWebSocketPeer.pong) == nil ? nil : peer
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

    /// The sends that arrive while a batch is being stored are stored together, next, in their order. The first
    /// send's batch is held in the store; 29 more are written, then a ping: the pong comes once the socket has read
    /// every frame before it (29 wait: fewer than the 32 at which a session stops reading), so the second batch
    /// holds all of them.
    @Test func sendsReadWhileABatchIsStoredAreStoredTogetherInTheirOrder() async throws {
        let inMemory = InMemoryChatStore()
        let recording = BatchRecordingStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: recording) { live in
            let (carol, bobTokens, chat) = try await carolAndBobInAGroup(live)
            let bob = try await live.connect(bobTokens.accessToken)
            let codec = WireCodec()
            let hello = Array(try codec.encode(ClientFrame(id: "h", .hello(.init(token: carol.accessToken)))).utf8)
            let sends = try (0..<30).map { Array(try sendFrame($0, to: chat, codec: codec).utf8) }
            let port = live.port
            let answers = try await withTimeout("the sends' answers") {
                try await onDedicatedThread { () throws -> [Int: Int64] in
                    // Opened whatever happens, so that the server can stop at the end of the test.
                    defer { recording.firstBatch.open() }
                    guard let peer = try sendsBehindAHeldBatch(port: port, hello: hello, sends: sends, recording)
                    else { return [:] }
                    recording.firstBatch.open()
                    var frames: [ServerFrame] = []
                    while answeredSeqs(frames).count < sends.count,
                        let frame = try peer.readFrame(opcode: RawWebSocketPeer.text)
                    {
                        frames.append(try codec.decodeServerFrame(frame.text))
                    }
                    return answeredSeqs(frames)
                }
            }
            #expect((0..<30).map { answers[$0] } == (1...30).map { Int64($0) }, "each send's seq follows its order")
            #expect(recording.batches.withLock { $0 } == [1, 29], "the sends read meanwhile were stored together")
            try await bob.waitForMessages(30, in: chat)
            #expect(bob.receivedBodies(in: chat) == (0..<30).map { "m\($0)" })
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

    /// The first send's batch is held in the store while 9 more arrive; the login is then revoked and the batch
    /// let go: only the batch already being stored at the revocation is stored, not the sends read behind it.
    @Test func sendsReadWhenTheLoginIsRevokedAreNotStored() async throws {
        let inMemory = InMemoryChatStore()
        let recording = BatchRecordingStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: recording) { live in
            let (carol, bob, chat) = try await carolAndBobInAGroup(live)
            let codec = WireCodec()
            let hello = Array(try codec.encode(ClientFrame(id: "h", .hello(.init(token: carol.accessToken)))).utf8)
            let sends = try (0..<10).map { Array(try sendFrame($0, to: chat, codec: codec).utf8) }
            let port = live.port
            let server = live.server
            try await withTimeout("the socket to close") {
                try await onDedicatedThread {
                    defer { recording.firstBatch.open() }
                    guard let peer = try sendsBehindAHeldBatch(port: port, hello: hello, sends: sends, recording)
                    else { return }
                    server.closeSessions(of: carol.user.id)
                    recording.firstBatch.open()
                    _ = try peer.readFrame(opcode: RawWebSocketPeer.close)
                }
            }
            let batches = recording.batches.withLock { $0 }
            #expect(
                batches == [1], "sends read behind the batch being stored at the revocation were stored: \(batches)"
            )
            let stored = try await live.store.messages(in: chat, .latest(limit: 100), as: bob.user.id)
            #expect(stored.map(\.body) == ["m0"])
        }
    }
    /// A request other than `send`, read together with a send and served once the send's batch is stored, is not
    /// served if the login is revoked while that batch is stored: the conversation keeps its title. The first
    /// batch (m0) is held while the send m1 and the rename arrive, so that the session takes both in one pass; the
    /// second batch (m1, stored before the rename is served) is held while the login is revoked.
    @Test func aRequestReadWhenTheLoginIsRevokedIsNotServed() async throws {
        let inMemory = InMemoryChatStore()
        let recording = BatchRecordingStore(inMemory, held: 2)
        try await LiveServer.run(store: inMemory, serverStore: recording) { live in
            let (carol, bob, chat) = try await carolAndBobInAGroup(live)
            let codec = WireCodec()
            let hello = Array(try codec.encode(ClientFrame(id: "h", .hello(.init(token: carol.accessToken)))).utf8)
            let rename = try codec.encode(
                ClientFrame(id: "rename", .rename(.init(conversationID: chat, title: "renamed")))
            )
            let frames = try [sendFrame(0, to: chat, codec: codec), sendFrame(1, to: chat, codec: codec), rename]
                .map { Array($0.utf8) }
            let port = live.port
            let server = live.server
            try await withTimeout("the socket to close") {
                try await onDedicatedThread {
                    defer { recording.openAll() }
                    guard let peer = try sendsBehindAHeldBatch(port: port, hello: hello, sends: frames, recording)
                    else { return }
                    recording.batchGates[0].open()
                    guard recording.batchEntered[1].wait(timeout: failsafeDeadline()) == .success else { return }
                    server.closeSessions(of: carol.user.id)
                    recording.batchGates[1].open()
                    _ = try peer.readFrame(opcode: RawWebSocketPeer.close)
                }
            }
            #expect(recording.batches.withLock { $0 } == [1, 1])
            let conversation = try await live.store.conversation(chat, as: bob.user.id)
            #expect(conversation.title == "pipeline", "the rename read behind the revocation was served")
        }
    }
}
