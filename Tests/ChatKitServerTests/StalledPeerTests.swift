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
import ChatKitTesting
import Dispatch
import Foundation
import Logging
import Prometheus
import Synchronization
import Testing

/// A peer that stops reading: against sockets served in tasks (compression makes them), whose writer waits while
/// the peer's buffers are full and whose close frame waits behind the data before it, and against sockets served
/// from event loops, whose catch-up waits for the peer.
@Suite("A peer that stops reading")
struct StalledPeerTests {
    /// A slow consumer's close waited behind the data its peer did not read, so the session never ended: the socket
    /// stayed open and registered (counted against the user's connections) for as long as the peer stalled. A
    /// close not written within `closeTimeout` now closes the channel outright.
    @Test func aSlowConsumerWhoseCloseCannotBeWrittenIsClosedOutright() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.outboundQueueBytes = 1 << 20
        configuration.limits.requestsPerSecond = 1000
        let transport = WebSocketServerTransport.Configuration(closeTimeout: .seconds(1), compression: true)
        try await LiveServer.run(configuration: configuration, transportConfiguration: transport) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let stalled = try await StalledPeer.open(port: live.port, token: bob.accessToken)
            defer { stalled.release() }
            #expect(live.transport.connectionCount == 1)
            // About 6 MB to Bob: more than his socket's buffers and his outbox hold.
            try await StalledPeer.flood(live, from: alice, to: bob.user.id, messages: 100)
            try await waitUntil("bob's socket to be closed") {
                live.transport.connectionCount == 0
            }
        }
    }

    /// A catch-up to a peer that reads nothing waited for it for as long as the socket stayed open, holding a page
    /// of events; a peer that pings (or answers pings) without reading kept it open for good. Sockets served from
    /// event loops are now closed once they stay unwritable for `writeStallTimeout`.
    @Test func aCatchUpToAPeerThatReadsNothingEndsAtTheWriteStallTimeout() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 1000
        // No pings: only the stall's deadline may close the socket.
        let transport = WebSocketServerTransport.Configuration(pingInterval: nil, writeStallTimeout: .seconds(1))
        let lines = StringCollector()
        let logger = Logger(label: "chatkit.test") { label in CapturingLogHandler(label: label, lines: lines) }
        let registry = PrometheusCollectorRegistry()
        try await LiveServer.run(
            configuration: configuration, transportConfiguration: transport, metrics: registry, logger: logger
        ) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            // About 9 MB waiting for Bob while he is offline: more than his socket's buffers hold (the server's send
            // buffer grows to tcp_wmem's largest, 4 MB by default on Linux; Bob's receive buffer is 4 KB).
            try await StalledPeer.flood(live, from: alice, to: bob.user.id, messages: 150)
            let stalled = try await StalledPeer.open(port: live.port, token: bob.accessToken, cursor: .start)
            defer { stalled.release() }
            // Generous: on a loaded machine (the whole suite at once) this failed twice in a dozen runs at 30 s, and
            // never alone; what the server logged and counted is recorded, to tell a late close from none. (In about
            // half of the whole suite's runs, the catch-up used to wait for good on a socket that had turned writable
            // again with part of its frame unwritten, so no stall timer ran: SessionWriteWaitTests.)
            do {
                try await waitUntil("bob's stalled catch-up to be closed", timeout: .seconds(90)) {
                    live.transport.connectionCount == 0
                }
            } catch {
                let closes = lines.all.filter { $0.contains("Closing") }
                Issue.record(
                    """
                    Not closed: \(live.transport.connectionCount) socket(s), \
                    \(live.server.connectionCount) session(s); closes logged: \(closes)
                    """
                )
                throw error
            }
            // Operators can tell why: the close is logged and counted.
            #expect(lines.all.contains { $0.contains("Closing a connection whose peer reads nothing") })
            let scrape = try await live.http("GET", "/metrics")
            let samples = ObservabilityTests.samples(String(decoding: scrape.data, as: UTF8.self))
            #expect(samples["chatkit_write_stall_closes_total"] == 1)
        }
    }
}

/// A raw WebSocket that reads its `welcome`, then nothing, on a thread of its own until released.
final class StalledPeer: Sendable {
    private let released = DispatchSemaphore(value: 0)

    /// Opens the socket with `token` (catching up from `cursor`, if given) and returns once it was welcomed.
    static func open(port: Int, token: String, cursor: StreamPosition? = nil) async throws -> StalledPeer {
        let peer = StalledPeer()
        let welcomed = DispatchSemaphore(value: 0)
        let outcome = Mutex<String?>(nil)
        let hello = Array(
            try WireCodec().encode(ClientFrame(id: "h", .hello(.init(token: token, cursor: cursor)))).utf8
        )
        let released = peer.released
        Thread.detachNewThread {
            do {
                let socket = try RawWebSocketPeer(port: port, receiveBufferSize: 4096)
                let head = try socket.upgrade()
                try socket.write(opcode: RawWebSocketPeer.text, hello)
                var frames: [String] = []
                var isWelcomed = false
                while !isWelcomed, let frame = try socket.readFrame() {
                    frames.append("\(frame.opcode): \(frame.text.prefix(80))")
                    isWelcomed = frame.text.contains("\"welcome\"")
                }
                outcome.withLock { $0 = isWelcomed ? nil : "no welcome: \(head) \(frames)" }
                welcomed.signal()
                released.wait()
                withExtendedLifetime(socket) {}
            } catch {
                outcome.withLock { $0 = "\(error)" }
                welcomed.signal()
            }
        }
        try await withTimeout("the stalled peer's welcome") { try await onDedicatedThread { welcomed.wait() } }
        if let failure = outcome.withLock({ $0 }) { throw RawWebSocketPeer.Failure(description: failure) }
        return peer
    }

    /// Lets the thread end, closing the socket.
    func release() { released.signal() }

    /// Sends `messages` messages of 60,000 random letters (compression would shrink a repeated text to nothing)
    /// from `sender` to `recipient` over HTTP, in a direct conversation.
    static func flood(_ live: LiveServer, from sender: AuthTokens, to recipient: UserID, messages: Int) async throws {
        func json(_ object: [String: Any]) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }
        let created = try await live.http(
            "POST", "/v1/requests",
            rawBody: try json([
                "type": "createConversation", "id": "c", "kind": "direct", "memberIDs": [recipient.rawValue],
            ]),
            bearer: sender.accessToken
        )
        let chat = try #require(try created.decode(RequestResult.self).conversation)
        // Seeded once from the system: the system's generator makes a system call for each number, and nine million
        // of them took most of a minute on a loaded machine.
        var state = UInt64.random(in: 1...UInt64.max)
        for number in 0..<messages {
            let body = String(
                decoding: (0..<60_000).map { _ in
                    // xorshift64*: random enough that compression cannot shrink the text.
                    state ^= state >> 12
                    state ^= state << 25
                    state ^= state >> 27
                    return UInt8(97 + ((state &* 0x2545_F491_4F6C_DD1D) >> 32) % 26)
                },
                as: UTF8.self
            )
            let sent = try await live.http(
                "POST", "/v1/requests",
                rawBody: try json([
                    "type": "send", "id": "s\(number)", "conversationID": chat.id.rawValue, "body": body,
                    "clientMessageID": "m\(number)",
                ]),
                bearer: sender.accessToken
            )
            #expect(sent.status == 200)
        }
    }
}
