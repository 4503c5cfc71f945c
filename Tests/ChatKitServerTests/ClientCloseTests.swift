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
import Hummingbird
import HummingbirdWebSocket
import Logging
import Testing

/// A socket whose network path dies after the upgrade (a `TCPRelay` frozen: nothing passes, nothing closes), so
/// that an answer to a close frame would never come. A cancelled connection must not wait for one: it returns at
/// once (WSClient drops the socket; the write of the close frame is cancelled with the task).
@Suite("Closing a socket whose server never answers the close")
struct ClientCloseTests {
    /// Runs `body` with the URL of a relay to a server whose sockets never read, the relay, and a stream told of
    /// each socket the server upgrades; the sockets are held until `body` returns.
    func withRelayedServer(_ body: @Sendable (String, TCPRelay, AsyncStream<Void>) async throws -> Void)
        async throws
    {
        let (release, releaseContinuation) = AsyncStream.makeStream(of: Never.self)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let (upgraded, upgradedContinuation) = AsyncStream.makeStream(of: Void.self)
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/v1/ws") { _, _, _ in
            upgradedContinuation.yield()
            for await _ in release {}
        }
        let app = Application(
            router: Router(),
            server: .http1WebSocketUpgrade(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "deaf-server", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer {
                releaseContinuation.finish()
                group.cancelAll()
            }
            let port = try #require(try await withTimeout("the server to listen") { await ports.first { _ in true } })
            try await TCPRelay.run(to: port) { relay in
                try await body("ws://127.0.0.1:\(relay.port)/v1/ws", relay, upgraded)
            }
        }
    }

    @Test("a cancelled connection returns at once, without waiting for the server's close frame")
    func cancellationDoesNotWaitForTheClose() async throws {
        try await withRelayedServer { url, relay, upgraded in
            let transport = WebSocketClientTransport.loadTolerant(url: url)
            let (opened, openedContinuation) = AsyncStream.makeStream(of: Void.self)
            let connection = Task {
                try await transport.withConnection { _ in
                    openedContinuation.yield()
                    try await Task.sleep(for: .seconds(3600))
                }
            }
            _ = try await withTimeout("the socket to open") { await opened.first { _ in true } }
            _ = try await withTimeout("the server to upgrade") { await upgraded.first { _ in true } }
            relay.freezeAll()
            connection.cancel()
            let result = try await withTimeout("the cancelled connection to return") { await connection.result }
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test("a cancelled client's run() returns at once while its socket is open")
    func aCancelledClientReturns() async throws {
        try await withRelayedServer { url, relay, upgraded in
            let client = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: url),
                token: "any"
            )
            let running = Task { try await client.run() }
            // The server never answers the hello either: the client waits for its welcome on the open socket.
            _ = try await withTimeout("the socket to open") { await upgraded.first { _ in true } }
            relay.freezeAll()
            running.cancel()
            _ = try await withTimeout("run() to return after cancellation") { await running.result }
        }
    }
}
