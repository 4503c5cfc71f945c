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

@testable import ChatKitClient
import ChatKitCore
import ChatKitServer
import NIOCore
import NIOPosix
import Testing

/// A server that accepts connections and never answers: the WebSocket upgrade request waits for good. The client's
/// attempt waited with it (WSClient's handshake has no deadline and ignores cancellation), so a client stayed
/// `connecting`, and a cancelled `run()` did not return.
@Suite("Opening a socket to a server that never answers the upgrade")
struct ConnectTimeoutTests {
    /// Reads and drops everything.
    final class SilentHandler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    /// The connections a silent server accepted, and how many of them the client closed.
    final class Accepted: Sendable {
        let opened = Locked(0)
        let closed = Locked(0)
    }

    /// Counts the connections that close.
    final class CloseCounter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let accepted: Accepted
        init(_ accepted: Accepted) { self.accepted = accepted }
        func channelInactive(context: ChannelHandlerContext) {
            accepted.closed.withLock { $0 += 1 }
            context.fireChannelInactive()
        }
    }

    /// Runs `body` with the URL of a silent server on 127.0.0.1 (and what it accepted).
    func withSilentServer(_ body: (String) async throws -> Void) async throws {
        try await withSilentServer { url, _ in try await body(url) }
    }

    /// Runs `body` with the URL of a silent server on 127.0.0.1 and the count of connections it accepted.
    func withSilentServer(_ body: (String, Accepted) async throws -> Void) async throws {
        let accepted = Accepted()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                accepted.opened.withLock { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CloseCounter(accepted))
                    try channel.pipeline.syncOperations.addHandler(SilentHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        do {
            try await body("ws://127.0.0.1:\(port)/v1/ws", accepted)
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    @Test("the attempt fails with .unavailable once the connect timeout passes")
    func timesOut() async throws {
        try await withSilentServer { url in
            let transport = WebSocketClientTransport(
                url: url, configuration: .init(connectTimeout: .milliseconds(200))
            )
            let error = try await withTimeout("the attempt to fail") {
                do {
                    _ = try await transport.withConnection { _ in Issue.record("a socket opened") }
                    return nil as ChatError?
                } catch let error as ChatError {
                    return error
                }
            }
            #expect(error?.code == .unavailable)
            #expect(error?.reason?.contains("did not complete the WebSocket handshake") == true)
        }
    }

    /// Given up on, an attempt kept its socket open until the server answered or closed it: a client retrying
    /// against a wedged server (or a proxy holding the flow) gathered one open socket per attempt.
    @Test("the socket of an attempt given up on is closed")
    func theSocketOfAnAttemptGivenUpOnIsClosed() async throws {
        try await withSilentServer { url, accepted in
            var configuration = WebSocketClientTransport.Configuration(connectTimeout: .seconds(1))
            // The loop of an attempt given up on stays up this long for its host name's resolution (a minute by
            // default): the socket is closed after it.
            configuration.abandonedAttemptGrace = .milliseconds(300)
            let transport = WebSocketClientTransport(url: url, configuration: configuration)
            for _ in 0..<3 {
                await #expect(throws: ChatError.self) {
                    try await withTimeout("the attempt to time out") {
                        try await transport.withConnection { _ in Issue.record("a socket opened") }
                    }
                }
            }
            try await waitUntil("the server to accept every attempt") { accepted.opened.value == 3 }
            try await waitUntil("the server to see every attempt's socket closed") { accepted.closed.value == 3 }
        }
    }

    @Test("a client on SwiftNIO's shared event loops connects and is served as on loops of its own")
    func aClientOnTheSharedLoops() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let shared = WebSocketClientTransport.Configuration(eventLoops: .shared)
            let clients = [
                try await live.connect(alice.accessToken, transportConfiguration: shared),
                try await live.connect(bob.accessToken, transportConfiguration: shared),
            ]
            let direct = try await clients[0].client.createDirectConversation(with: bob.user.id)
            _ = try await clients[0].client.send("on shared loops", to: direct.id)
            try await clients[1].waitFor("the message") { events in
                events.contains { event in
                    if case .stored(let stored) = event { stored.message?.body == "on shared loops" } else { false }
                }
            }
            for client in clients { await client.disconnect() }
        }
    }

    @Test("a connection's own loop is its own; the shared loops are SwiftNIO's and outlive a connection")
    func theLoopsAConnectionRunsOn() async throws {
        let own = ConnectionEventLoop(.perConnection, grace: .seconds(60))
        #expect(own.group !== MultiThreadedEventLoopGroup.singleton)
        await own.shutDown()
        let shared = ConnectionEventLoop(.shared, grace: .seconds(60))
        #expect(shared.group === MultiThreadedEventLoopGroup.singleton)
        await shared.shutDown()
        #expect(try await shared.group.next().submit { 42 }.get() == 42, "the shared loops still run")
        // A connect that NIO timed out (name resolution included) may leave the resolution going on; other failures
        // do not.
        #expect(ConnectionEventLoop.resolutionMayGoOn(after: ChannelError.connectTimeout(.seconds(10))))
        #expect(!ConnectionEventLoop.resolutionMayGoOn(after: ChannelError.ioOnClosedChannel))
    }

    @Test("cancelling the task ends the attempt at once, well before the connect timeout")
    func cancellationEndsTheAttempt() async throws {
        try await withSilentServer { url in
            let transport = WebSocketClientTransport(url: url, configuration: .init(connectTimeout: .seconds(3600)))
            let attempt = Task {
                try await transport.withConnection { _ in Issue.record("a socket opened") }
            }
            // Cancelled while the upgrade waits (or before it started: the answer is the same).
            attempt.cancel()
            let result = try await withTimeout("the cancelled attempt to end") { await attempt.result }
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test("a client connecting to a silent server reports the timeout and tries again")
    func aClientTriesAgain() async throws {
        try await withSilentServer { url in
            let client = ChatClient(
                transport: WebSocketClientTransport(url: url, configuration: .init(connectTimeout: .milliseconds(200))),
                token: "any",
                configuration: .init(reconnection: .exponentialBackoff(initialDelay: .milliseconds(50)))
            )
            let running = Task { try await client.run() }
            try await waitUntil("the timeout to be told") { client.lastConnectionError != nil }
            #expect(client.lastConnectionError?.code == .unavailable)
            running.cancel()
            _ = try await withTimeout("run() to return after cancellation") { await running.result }
        }
    }
}
