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
import ChatKitServer
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Testing

@Suite("WebSocket transport mounted in a user's own Hummingbird application")
struct WebSocketEmbeddingTests {
    /// ChatKit mounted as Embedding.md shows: the engine, its HTTP routes and the WebSocket transport in an
    /// application of the user's own on a free port (yielded by `ports` once it listens).
    struct Embedded {
        let store = InMemoryChatStore()
        let auth: AuthService
        let chat = WebSocketServerTransport.mounted()
        let engine: ChatServer
        let app: Application<RouterResponder<ChatRequestContext>>
        let ports: AsyncStream<Int>
        let logger = Logger(label: "test-app", factory: { _ in SwiftLogNoOpLogHandler() })

        init(
            httpConfiguration: HTTPRoutes.Configuration = .init(),
            ownRoutes: (Router<ChatRequestContext>) -> Void = { _ in }
        ) {
            auth = AuthService(store: store, secret: LiveServer.secret, configuration: .init(bcryptCost: 4))
            engine = ChatServer(
                store: store, transports: [chat], authenticators: [auth.authenticator], configuration: .loadTolerant
            )
            let router = Router(context: ChatRequestContext.self)
            ownRoutes(router)
            HTTPRoutes(auth: auth, store: store, server: engine, configuration: httpConfiguration, logger: logger)
                .addRoutes(to: router)
            let wsRouter = Router(context: ChatRequestContext.self)
            chat.addRoutes(to: wsRouter)
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            self.ports = ports
            app = Application(
                router: router,
                server: .http1WebSocketUpgrade(
                    webSocketRouter: wsRouter, configuration: .init(ws: chat.configuration.webSocketConfiguration)
                ),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
                logger: logger
            )
        }

        /// Runs the engine and the application while `body` runs with the application as a live server.
        func serving(_ body: (LiveServer) async throws -> Void) async throws {
            let (engine, app) = (self.engine, self.app)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await engine.run() }
                group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                defer { group.cancelAll() }
                try await body(try await listening())
            }
        }

        /// The application's port once it listens, as a live server to make requests of.
        func listening() async throws -> LiveServer {
            let port = try #require(try await withTimeout("the app to listen") { await ports.first { _ in true } })
            return LiveServer(store: store, auth: auth, server: engine, transport: chat, port: port)
        }
    }

    @Test func theRoutesMountIntoAnApplicationThatServesItsOwnRoutesToo() async throws {
        let embedded = Embedded { router in router.get("/hello") { _, _ in "the app's own route" } }
        let chat = embedded.chat

        try await embedded.serving { live in
            let own = try await live.http("GET", "/hello")
            #expect(own.status == 200)
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            let conversation = try await aliceClient.client.createDirectConversation(with: bob.user.id)
            _ = try await aliceClient.client.send("mounted", to: conversation.id)
            try await bobClient.waitForMessages(1, in: conversation.id)
            #expect(chat.connectionCount == 2)
            // The chat API answers through the engine passed to the routes.
            let history = try await live.http(
                "GET", "/v1/conversations/\(conversation.id.rawValue)/messages", bearer: bob.accessToken
            )
            #expect(history.status == 200)
            #expect(try history.decode(RequestResult.self).messages?.map(\.body) == ["mounted"])
        }
    }

    /// Mounted with `server:`, the chat API answered as soon as the application served HTTP, before the engine ran
    /// (a write then was stored and reached no one until the next poll) and after its run returned. It now answers
    /// `503` with `Retry-After: 1` while that server does not run, and `/ready` says so too.
    @Test func theChatAPIAnswers503UntilTheServerRunsAndOnceItReturned() async throws {
        let embedded = Embedded()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await embedded.app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            let live = try await embedded.listening()
            let bob = try await live.signUp("bob")  // accounts need no engine

            let before = try await live.http("GET", "/v1/conversations", bearer: bob.accessToken)
            #expect(before.status == 503)
            #expect(before.code == "unavailable")
            #expect(before.retryAfter == "1")
            #expect(try await live.http("GET", "/ready").status == 503)
            #expect(try await live.http("HEAD", "/ready").status == 503)

            let engine = Task { try await embedded.engine.run() }
            try await waitUntilAsync("the chat API to answer once the engine runs") {
                try await live.http("GET", "/v1/conversations", bearer: bob.accessToken).status == 200
            }
            #expect(try await live.http("GET", "/ready").status == 200)

            engine.cancel()
            _ = await engine.result
            let after = try await live.http("GET", "/v1/conversations", bearer: bob.accessToken)
            #expect(after.status == 503)
            #expect(try await live.http("GET", "/ready").status == 503)
        }
    }

    /// Run as Embedding.md shows (`ServiceGroup(services: [engine, app])`), a graceful shutdown signals the
    /// application first and waits for its HTTP server, which waits for its requests, before it signals the engine:
    /// a waiting long poll held the shutdown for as long as its wait (up to 55 s).
    @Test func aGracefulShutdownOfTheApplicationAnswersWaitingLongPolls() async throws {
        let embedded = Embedded()
        let services = ServiceGroup(
            configuration: .init(services: [embedded.engine, embedded.app], logger: embedded.logger)
        )

        let running = Task { try await services.run() }
        defer { running.cancel() }
        do {
            let live = try await embedded.listening()
            let bob = try await live.signUp("bob")
            let start = try await embedded.store.latestPosition().rawValue
            let poll = Task { try await live.http("GET", "/v1/sync?cursor=\(start)&wait=50", bearer: bob.accessToken) }
            try await live.waitUntilConnections(1)

            await services.triggerGracefulShutdown()
            // Well before the poll's 50 s wait would have ended.
            let answer = try await withTimeout("the long poll to be answered", .seconds(30)) { try await poll.value }
            #expect(answer.status == 200)
            #expect(try answer.decode(RequestResult.self).page?.events.isEmpty == true)
            try await withTimeout("the services to stop", .seconds(30)) { try await running.value }
        }
    }

    /// Embedding.md's application used Hummingbird's `BasicWebSocketRequestContext`, which tells no client
    /// addresses: every login attempt for a username counted in one bucket, so that ten wrong guesses from anyone
    /// kept its owner out, and sign-ups were not limited at all. With `ChatRequestContext` both are per address.
    @Test func theDocumentedContextTellsClientAddressesToTheLimits() async throws {
        // The default burst of 10, refilled too slowly for the test to see a refill on a loaded machine.
        let embedded = Embedded(httpConfiguration: .init(signUpBurst: 10, signUpInterval: .seconds(3600)))
        try await embedded.serving { live in
            var statuses: [Int] = []
            for number in 0..<11 {
                statuses.append(
                    try await live.http(
                        "POST", "/v1/auth/signup", json: ["username": "user\(number)", "password": "long enough"]
                    ).status
                )
            }
            #expect(statuses == Array(repeating: 201, count: 10) + [429])
        }
    }

    /// A context without addresses still works, and says once what it turns off.
    @Test func aContextWithoutAddressesIsWarnedOfOnce() async throws {
        let store = InMemoryChatStore()
        let auth = AuthService(store: store, secret: LiveServer.secret, configuration: .init(bcryptCost: 4))
        let lines = StringCollector()
        let logger = Logger(label: "chatkit.test") { label in CapturingLogHandler(label: label, lines: lines) }
        let router = Router(context: BasicWebSocketRequestContext.self)
        HTTPRoutes(auth: auth, store: store, logger: logger).addRoutes(to: router)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test-app", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            let port = try #require(try await withTimeout("the app to listen") { await ports.first { _ in true } })
            let engine = ChatServer(
                store: store, transports: [], authenticators: [auth.authenticator], configuration: .loadTolerant
            )
            let live = LiveServer(
                store: store, auth: auth, server: engine, transport: WebSocketServerTransport.mounted(), port: port
            )
            _ = try await live.signUp("alice")
            let login = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": "wrong!!!"]
            )
            #expect(login.status == 401)
            let warnings = lines.all.filter { $0.contains("does not tell clients' addresses") }
            #expect(warnings.count == 1, "\(lines.all)")
        }
    }
}
