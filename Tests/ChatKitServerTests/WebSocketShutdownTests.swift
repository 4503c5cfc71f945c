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
import Dispatch
import HummingbirdWSClient
import Logging
import NIOWebSocket
import ServiceLifecycle
import Testing

@testable import ChatKitServer

@Suite("WebSocket edge shutdown")
struct WebSocketShutdownTests {
    @Test func aGracefulShutdownTellsEveryClientAndThenTheServerStops() async throws {
        let standalone = StandaloneServer()
        let services = standalone.services
        let (finished, finishedContinuation) = AsyncStream.makeStream(of: Bool.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await services.run()
                finishedContinuation.yield(true)
            }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let tokens = try await live.signUp("alice")
            let close = try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                let hello = ClientFrame(id: "h", .hello(.init(token: tokens.accessToken)))
                try await outbound.write(.text(try socket.codec.encode(hello)))
                _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }
                await services.triggerGracefulShutdown()
            }
            #expect(close?.closeCode == .goingAway)
            #expect(close?.reason?.hasPrefix("shutdown") == true)
            // The server stops by itself, without being cancelled.
            let stopped = try await withTimeout("the server to stop") { await finished.first { _ in true } }
            #expect(stopped == true)
            #expect(live.transport.connectionCount == 0)
        }
    }

    /// Every client hears `shutdown` (1001), none Hummingbird's own graceful close (1000): the sockets are closed
    /// before the HTTP server begins its shutdown, not alongside it.
    @Test func everyClientHearsShutdownBeforeTheHTTPServerStops() async throws {
        let standalone = StandaloneServer()
        let services = standalone.services
        let sockets = 24
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let tokens = try await live.signUp("alice")
            let (welcomed, welcome) = AsyncStream.makeStream(of: Void.self)
            let closes = try await withThrowingTaskGroup(of: WebSocketCloseFrame?.self) { clients in
                for _ in 0..<sockets {
                    clients.addTask {
                        try await withTimeout("the socket to be closed") {
                            try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                                let hello = ClientFrame(id: "h", .hello(.init(token: tokens.accessToken)))
                                try await outbound.write(.text(try socket.codec.encode(hello)))
                                _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }
                                // `run` then reads until the server closes the socket.
                                welcome.yield()
                            }
                        }
                    }
                }
                _ = try await withTimeout("every socket to be welcomed") {
                    await welcomed.prefix(sockets).reduce(0) { count, _ in count + 1 }
                }
                await services.triggerGracefulShutdown()
                var closes: [WebSocketCloseFrame?] = []
                for try await close in clients { closes.append(close) }
                return closes
            }
            #expect(closes.count == sockets)
            for close in closes {
                #expect(close?.closeCode == .goingAway, "\(String(describing: close))")
                #expect(close?.reason?.hasPrefix("shutdown") == true)
            }
        }
    }

    /// A socket served in a task (as compression makes them) closes through a writer that waits while its peer
    /// reads nothing. Shutdown closed the sockets one at a time before its timeout began: one stalled peer held
    /// back the other sockets' `shutdown` and the server's stop for as long as it stalled. The closes now go out
    /// together, and a close not written within `closeTimeout` closes the socket outright.
    @Test func aStalledPeerHoldsBackNeitherTheOthersCloseNorTheStop() async throws {
        let standalone = StandaloneServer(closeTimeout: .seconds(2), compression: true)
        let services = standalone.services
        let (finished, finishedContinuation) = AsyncStream.makeStream(of: Bool.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await services.run()
                finishedContinuation.yield(true)
            }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            // Bob's socket reads its welcome, then nothing: the server's writes to it stop once the buffers fill.
            let stalled = try await StalledPeer.open(port: live.port, token: bob.accessToken)
            defer { stalled.release() }
            let (aliceClose, aliceCloseContinuation) = AsyncStream.makeStream(of: WebSocketCloseFrame?.self)
            let (aliceWelcomed, aliceWelcome) = AsyncStream.makeStream(of: Void.self)
            group.addTask {
                let close = try await RawSocket.run(url: live.webSocketURL) { socket, outbound in
                    let hello = ClientFrame(id: "h", .hello(.init(token: alice.accessToken)))
                    try await outbound.write(.text(try socket.codec.encode(hello)))
                    _ = try await socket.waitFor("welcome") { if case .welcome = $0 { true } else { false } }
                    aliceWelcome.yield()
                }
                aliceCloseContinuation.yield(close)
            }
            _ = try await withTimeout("alice's welcome") { await aliceWelcomed.first { _ in true } }
            // About 5 MB to Bob, more than the socket buffers hold: his writer waits, and his close behind it.
            try await StalledPeer.flood(live, from: alice, to: bob.user.id, messages: 90)

            await services.triggerGracefulShutdown()
            let close = try await withTimeout("alice's close") { await aliceClose.first { _ in true } }
            #expect(close??.closeCode == .goingAway, "\(String(describing: close))")
            let stopped = try await withTimeout("the server to stop") {
                await finished.first { _ in true }
            }
            #expect(stopped == true)
        }
    }

    @Test func aGracefulShutdownAnswersWaitingLongPollsAtOnce() async throws {
        let standalone = StandaloneServer()
        let services = standalone.services
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let tokens = try await live.signUp("alice")
            let start = try await live.store.latestPosition().rawValue
            let poll = Task { try await live.http("GET", "/v1/sync?cursor=\(start)&wait=50", bearer: tokens.accessToken) }
            try await live.waitUntilConnections(1)
            await services.triggerGracefulShutdown()
            // Well before its 50 seconds: the shutdown ended the wait.
            let answer = try await withTimeout("the long poll to answer at shutdown") { try await poll.value }
            #expect(answer.status == 200)
            #expect(try answer.decode(RequestResult.self).page?.events.isEmpty == true)
        }
    }

    /// While sockets are being closed, HTTP is still served: `/ready` tells balancers to send new clients
    /// elsewhere, and a new long poll with nothing to answer is told to come back instead of answering an empty
    /// page at once (which its client would poll again at once, in a loop).
    @Test func whileItShutsDownReadyAndNewLongPollsAnswerUnavailable() async throws {
        // A peer that never answers the close holds the shutdown for the close timeout, with HTTP still served.
        let standalone = StandaloneServer(closeTimeout: .seconds(30))
        let services = standalone.services
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let tokens = try await live.signUp("alice")
            #expect(try await live.http("GET", "/ready").status == 200)
            let stalled = try await StalledPeer.open(port: live.port, token: tokens.accessToken)
            defer { stalled.release() }
            await services.triggerGracefulShutdown()
            try await waitUntil("the shutdown to begin") { standalone.isShuttingDown }
            #expect(try await live.http("GET", "/ready").status == 503)
            let start = try await live.store.latestPosition().rawValue
            let poll = try await live.http("GET", "/v1/sync?cursor=\(start)&wait=50", bearer: tokens.accessToken)
            #expect(poll.status == 503)
            #expect(poll.code == "unavailable")
            #expect(poll.retryAfter == "1")
            #expect(try await live.http("GET", "/health").status == 200, "HTTP is still served")
        }
    }

    /// A slow reader's waiting frames are written before the shutdown's close frame, in order, none dropped.
    @Test func aGracefulShutdownWritesTheFramesStillWaitingBeforeItsClose() async throws {
        // Time for the slow reader to drain 6.4 MB before the socket's close timeout, on a loaded machine too.
        let standalone = StandaloneServer(closeTimeout: .seconds(60), patientWithSlowReaders: true)
        let services = standalone.services
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            defer { group.cancelAll() }
            let live = try await standalone.live()
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = try await live.connect(aliceTokens.accessToken)
            let chat = try await alice.client.createDirectConversation(with: bobTokens.user.id)
            let hello = Array(
                try WireCodec().encode(ClientFrame(id: "h", .hello(.init(token: bobTokens.accessToken)))).utf8
            )
            let port = live.port
            let count = 200
            let isOpen = TestGate()
            let shutdownBegan = DispatchSemaphore(value: 0)
            // Bob's socket takes 4 KB at a time and is not read until the shutdown began, while 6.4 MB are sent to
            // it: most of the events wait in the server's outbox or socket when the shutdown closes the socket.
            async let read = onDedicatedThread { () throws -> (bodies: [String], close: RawWebSocketPeer.Frame?) in
                defer { isOpen.open() }  // also when the peer fails, so that the test does not wait forever
                let bob = try RawWebSocketPeer(port: port, receiveBufferSize: 4096)
                _ = try bob.upgrade()
                try bob.write(opcode: RawWebSocketPeer.text, hello)
                while let frame = try bob.readFrame(opcode: RawWebSocketPeer.text), !frame.text.contains("synced") {}
                isOpen.open()
                guard shutdownBegan.wait(timeout: failsafeDeadline()) == .success else { return ([], nil) }
                var bodies: [String] = []
                let codec = WireCodec()
                while let frame = try bob.readFrame() {
                    if frame.opcode == RawWebSocketPeer.close { return (bodies, frame) }
                    guard frame.opcode == RawWebSocketPeer.text,
                        case .event(let event) = try codec.decodeServerFrame(frame.text),
                        let body = event.message?.body
                    else { continue }
                    bodies.append(String(body.prefix { $0 != " " }))
                }
                return (bodies, nil)
            }
            try await withTimeout("bob's session to open") { await isOpen.wait() }
            do {
                defer { shutdownBegan.signal() }
                let padding = String(repeating: "x", count: 32 * 1024)
                try await withTimeout("the sends") {
                    for number in 0..<count { _ = try await alice.client.send("\(number) \(padding)", to: chat.id) }
                }
                // Alice's echo of the last message is routed in the same step as bob's copy: every event is in
                // bob's outbox (or written) before the shutdown begins.
                try await alice.waitForMessages(count, in: chat.id)
                await services.triggerGracefulShutdown()
            }
            // Bounded by the reader itself: each read gives up after a minute without data.
            let (bodies, close) = try await read
            #expect(bodies == (0..<count).map { "\($0)" }, "\(bodies.count) of \(count) messages, or out of order")
            #expect(close?.closeCode == 1001)
            #expect(close?.closeReason.hasPrefix("shutdown") == true)
        }
    }
}

/// A standalone server (its own port, HTTP routes beside the WebSocket) in a service group, not yet running.
private struct StandaloneServer {
    let services: ServiceGroup
    private let store = InMemoryChatStore()
    private let auth: AuthService
    private let server: ChatServer
    private let transport: WebSocketServerTransport
    /// Whether the server's graceful shutdown has begun.
    var isShuttingDown: Bool { server.isShuttingDown }
    private let ports: AsyncStream<Int>

    /// `patientWithSlowReaders` turns off what closes a peer that reads nothing for a while (pings, the write stall
    /// timeout), for a test whose peer reads only after all was sent: on a loaded machine that may take minutes.
    init(closeTimeout: Duration = .seconds(5), compression: Bool = false, patientWithSlowReaders: Bool = false) {
        auth = AuthService(store: store, secret: LiveServer.secret, configuration: .init(bcryptCost: 4))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        self.ports = ports
        var configuration = WebSocketServerTransport.Configuration(
            host: "127.0.0.1", port: 0, closeTimeout: closeTimeout, compression: compression
        )
        if patientWithSlowReaders {
            configuration.pingInterval = nil
            configuration.writeStallTimeout = nil
        }
        transport = WebSocketServerTransport(
            configuration: configuration.withLoadTolerantHandshakeDeadline,
            httpRoutes: HTTPRoutes(auth: auth, store: store),
            onListening: { _, port in portContinuation.yield(port) }
        )
        server = ChatServer(
            store: store, transports: [transport], authenticators: [auth.authenticator], configuration: .loadTolerant
        )
        services = ServiceGroup(
            configuration: .init(
                services: [server], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        )
    }

    /// Once the server listens (run `services` first): the handle the tests' helpers work with.
    func live() async throws -> LiveServer {
        let ports = ports
        let port = try #require(try await withTimeout("the server to listen") { await ports.first { _ in true } })
        return LiveServer(store: store, auth: auth, server: server, transport: transport, port: port)
    }
}
