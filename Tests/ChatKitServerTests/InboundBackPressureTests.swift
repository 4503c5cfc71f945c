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
import Synchronization
import Testing

@testable import ChatKitServer

/// A peer that writes faster than its session answers must be slowed down by the socket, not buffered by the
/// server, on every kind of socket the transport serves.
@Suite("Inbound back-pressure")
struct InboundBackPressureTests {
    /// The in-memory store, holding one `conversations(of:)` once armed until `gate` opens; `entered` is signalled
    /// when it waits. (A session's handshake reads the conversations too, to know whom to show its presence.)
    final class HeldListStore: ChatStoreDecorator {
        let base: any ChatStore
        let isArmed = Atomic<Bool>(false)
        let gate = ConnectionShardsTests.Gate()
        let entered = DispatchSemaphore(value: 0)

        init(_ base: any ChatStore) { self.base = base }

        func conversations(of user: UserID) async throws -> [ConversationSummary] {
            if isArmed.exchange(false, ordering: .relaxed) {
                entered.signal()
                await gate.wait()
            }
            return try await base.conversations(of: user)
        }
    }

    /// While the session waits for the store, a peer writing 64 MiB of requests is stopped by the socket: the
    /// server reads what its bounded hand-over and the socket buffers hold (a few MiB), then stops reading
    /// until the session takes more. A write that makes no progress for 2 seconds counts as stopped; without
    /// the bound the server read all of it at once. Sockets served by a task (here: compression offered).
    @Test(arguments: [true, false])
    func aPeerWritingFasterThanItsSessionAnswersIsStoppedBySocket(compression: Bool) async throws {
        let inMemory = InMemoryChatStore()
        let held = HeldListStore(inMemory)
        var transportConfiguration = WebSocketServerTransport.Configuration()
        transportConfiguration.compression = compression
        try await LiveServer.run(store: inMemory, transportConfiguration: transportConfiguration, serverStore: held) {
            live in
            let alice = try await live.signUp("alice")
            let codec = WireCodec()
            let hello = Array(try codec.encode(ClientFrame(id: "h", .hello(.init(token: alice.accessToken)))).utf8)
            let list = Array(try codec.encode(ClientFrame(id: "list", .listConversations(.init()))).utf8)
            let chunk = RawWebSocketPeer.frame(
                opcode: RawWebSocketPeer.text, [UInt8](repeating: UInt8(ascii: "x"), count: 256 * 1024)
            )
            let chunks = 256
            let port = live.port
            let written = try await withTimeout("the peer's writes to stop or end", .seconds(120)) {
                try await onDedicatedThread { () throws -> Int in
                    defer { held.gate.open() }
                    let peer = try RawWebSocketPeer(port: port)
                    _ = try peer.upgrade()
                    try peer.write(opcode: RawWebSocketPeer.text, hello)
                    while let frame = try peer.readFrame(opcode: RawWebSocketPeer.text),
                        !frame.text.contains("synced")
                    {}
                    held.isArmed.store(true, ordering: .relaxed)
                    try peer.write(opcode: RawWebSocketPeer.text, list)
                    guard held.entered.wait(timeout: .now() + 30) == .success else { return -1 }
                    peer.setSendTimeout(seconds: 2)
                    var written = 0
                    while written < chunks {
                        do {
                            try peer.write(frame: chunk)
                        } catch {
                            break
                        }
                        written += 1
                    }
                    return written
                }
            }
            #expect(written >= 0, "the session never asked the store")
            #expect(
                written < chunks / 2,
                "the server read \(written) of \(chunks) messages of 256 KiB while its session waited"
            )
        }
    }
}
