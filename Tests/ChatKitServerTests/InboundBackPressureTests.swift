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
import Foundation
import ChatKitTesting
import Dispatch
import Synchronization
import Testing

@testable import ChatKitServer

/// A peer that writes faster than its session answers must be slowed down by the socket, not buffered by the
/// server, on every kind of socket the transport serves.
@Suite("Inbound back-pressure")
struct InboundBackPressureTests {
    /// The in-memory store, holding one page of conversations once armed until `gate` opens; `entered` is signalled
    /// when it waits.
    final class HeldListStore: ChatStoreDecorator {
        let base: any ChatStore
        let isArmed = Atomic<Bool>(false)
        let gate = TestGate()
        let entered = DispatchSemaphore(value: 0)

        init(_ base: any ChatStore) { self.base = base }

        func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
            -> [ConversationSummary]
        {
            if isArmed.exchange(false, ordering: .relaxed) {
                entered.signal()
                await gate.waitUntilOpen()
            }
            return try await base.conversations(of: user, before: before, limit: limit)
        }
    }

    /// The most bytes the kernel may buffer for one loopback connection: the largest receive buffer plus the
    /// largest send buffer it grows sockets to (`tcp_rmem`, `tcp_wmem`; 6 MiB and 4 MiB by default on Linux).
    static func socketBufferLimit() -> Int {
        func largest(_ path: String) -> Int {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }.last ?? 16 << 20
        }
        return largest("/proc/sys/net/ipv4/tcp_rmem") + largest("/proc/sys/net/ipv4/tcp_wmem")
    }

    /// While the session waits for the store, a peer writing requests is stopped by the socket: the server reads
    /// what its bounded hand-over holds (16 messages for sockets served by a task, which compression makes; 32 for
    /// those served from event loops), then stops reading until the session takes more. A write that makes no
    /// progress for 2 seconds counts as stopped. The peer offers twice what the server and the kernel's socket
    /// buffers may hold together; without the bound the server read all of it at once.
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
            // What the server may hold (32 messages and as many again in its WebSocket reader) and the kernel's
            // buffers, in chunks; the peer offers twice that.
            let allowed = 64 + Self.socketBufferLimit() / (256 * 1024) + 8
            let chunks = 2 * allowed
            let port = live.port
            let written = try await withTimeout("the peer's writes to stop or end") {
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
                    guard held.entered.wait(timeout: failsafeDeadline()) == .success else { return -1 }
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
                written <= allowed,
                "the server read \(written) of \(chunks) messages of 256 KiB while its session waited"
            )
        }
    }
}
