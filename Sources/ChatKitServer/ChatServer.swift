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

public import ChatKitCore
public import CoreMetrics
public import Logging
import ServiceLifecycle

/// The ChatKit server engine: accepts connections from any transport, authenticates them, serves every
/// request against a ``ChatKitCore/ChatStore``, and pushes stored events, presence and typing to the
/// connections that may see them.
///
/// The engine knows no sockets: transports hand it ``ChatKitCore/Connection``s (WebSocket, or the
/// ``ChatKitCore/InProcessTransport`` for tests and embedded use).
///
/// ```swift
/// let transport = InProcessTransport()
/// let server = ChatServer(store: InMemoryChatStore(), transports: [transport], authenticators: [auth])
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await server.run() }
///     // clients connect through `transport`
/// }
/// ```
///
/// `run()` must be running for live events, presence and typing expiry; it returns when its task is cancelled.
public final class ChatServer: Sendable {
    let store: any ChatStore
    let transports: [any ServerTransport]
    let authenticators: [any Authenticator]
    let configuration: ChatServerConfiguration
    let logger: Logger
    let clock: ServerClock
    let codec: WireCodec
    /// Cuts pages of history, sync and search to what a client takes in one frame.
    let resultBudget: ResultBudget
    /// Bounds the parts of what clients ask to store or look up.
    let contentLimits: ContentLimits
    let registry: ConnectionRegistry
    let metrics: ServerMetrics
    let router: EventRouter
    let presence = PresenceTracker()
    /// Membership changes of one conversation, one at a time (its size check and the write after it).
    let membershipChanges = KeyedSerialGate<ConversationID>()
    /// Contact changes between two users, one at a time: a removal reads whether the contact was accepted (whether
    /// presence must be withdrawn) before it removes it, and an acceptance in between would leave the two showing
    /// each other online with nothing to take it back.
    let contactChanges = KeyedSerialGate<UserPair>()
    let typing: TypingTracker
    let timers = TimerQueue()
    /// Closes of connections that must not wait on the session asking for them.
    let background = BackgroundActions()
    let rateLimiter: RateLimiter
    /// Set when a graceful shutdown begins.
    let shuttingDown = SetOnceFlag()
    /// ``run()`` was called: its routing, timers and background work run once per server.
    private let hasRun = SetOnceFlag()
    /// ``run()`` returned.
    private let runEnded = SetOnceFlag()

    /// Whether ``run()`` routes events now (it has read the store's position and has not returned): the HTTP chat API
    /// answers `503` otherwise, as a write made before would be stored and reach no one until the next poll.
    var isRunning: Bool { hasRun.isSet && !runEnded.isSet }

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - store: Where everything is kept.
    ///   - transports: Transports whose connections ``run()`` serves. Connections can also be passed to
    ///     ``handle(_:)`` directly.
    ///   - authenticators: Asked in order to turn a `hello` token into a user.
    ///   - configuration: Limits and timings; page and batch sizes below 1 count as 1.
    ///   - logger: Where the server logs; silent by default. Logs never contain tokens or message bodies.
    ///   - clock: The clock for grace periods, typing expiry, rate limits and the hello deadline; tests pass a
    ///     manual clock.
    ///   - metricsFactory: Where the server reports its metrics (see `Documentation/Operations.md`); `nil`, the
    ///     default, uses the process-wide swift-metrics `MetricsSystem`.
    public init<C: Clock>(
        store: any ChatStore,
        transports: [any ServerTransport] = [],
        authenticators: [any Authenticator],
        configuration: ChatServerConfiguration = ChatServerConfiguration(),
        logger: Logger = Logger(label: "chatkit.server", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: C = ContinuousClock(),
        metricsFactory: (any MetricsFactory)? = nil
    ) where C.Duration == Duration {
        let configuration = configuration.normalized
        self.store = store
        self.metrics = ServerMetrics(factory: metricsFactory)
        self.registry = ConnectionRegistry(metrics: metrics)
        self.transports = transports
        self.authenticators = authenticators
        self.configuration = configuration
        self.logger = logger
        self.clock = ServerClock(clock)
        self.codec = WireCodec(maxFrameBytes: configuration.limits.maxFrameBytes)
        self.resultBudget = ResultBudget(maxBytes: configuration.limits.maxResultBytes, codec: codec)
        self.contentLimits = ContentLimits(limits: configuration.limits)
        self.typing = TypingTracker(refreshInterval: configuration.typingRefreshInterval)
        self.router = EventRouter(
            store: store,
            registry: registry,
            codec: codec,
            batchSize: configuration.routingBatchSize,
            attemptsBeforeSkipping: configuration.routingAttemptsBeforeSkipping,
            logger: logger,
            clock: self.clock,
            metrics: metrics
        )
        self.rateLimiter = RateLimiter(requestsPerSecond: configuration.limits.requestsPerSecond)
    }

    /// Routes events, runs timers and serves the transports until the calling task is cancelled, or until a
    /// graceful shutdown (swift-service-lifecycle) has stopped every transport.
    ///
    /// ``ChatServer`` is a `Service`: run it in a `ServiceGroup` and a graceful shutdown (SIGTERM, say) lets each
    /// transport stop accepting and tell its clients before `run()` returns. ``ChatKitCore/InProcessTransport``
    /// stops only when cancelled.
    ///
    /// A server runs once (a call that failed to read the store at start does not count): to serve again after
    /// `run()` returned, make a new ``ChatServer`` on the same store, with new transports (and new ``HTTPRoutes``
    /// and ``AuthService/whenSessionsRevoked(_:)`` handlers naming it: a transport serves one server).
    ///
    /// - Throws: An error from a transport that fails to serve, ``ChatKitCore/ChatError`` `.storageFailure`
    ///   when the store cannot be read at start, or `.conflict` when `run()` was called before on this server.
    public func run() async throws {
        // After the read: a start that failed in the store may be tried again.
        let start = try await store.latestPosition()
        guard hasRun.setFirst() else {
            throw ChatError(
                .conflict,
                "This ChatServer has run already (its event routing ended with that run); make a new ChatServer to "
                    + "serve again."
            )
        }
        defer { runEnded.set() }
        for case let transport as WebSocketServerTransport in transports { transport.attach(self) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.router.run(from: start) }
            group.addTask { await self.timers.run(clock: self.clock) }
            group.addTask { await self.background.run() }
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await withThrowingDiscardingTaskGroup { servers in
                        for transport in self.transports {
                            servers.addTask {
                                if let webSocket = transport as? WebSocketServerTransport {
                                    try await webSocket.serve(for: self)
                                } else {
                                    try await transport.serve { connection in await self.handle(connection) }
                                }
                            }
                        }
                    }
                } onGracefulShutdown: {
                    // Long polls are plain HTTP requests: the HTTP server's shutdown would wait for them.
                    self.endLongPolls()
                }
                // Transports return on a graceful shutdown (or there are none): stop once the shutdown is under way.
                do { try await gracefulShutdown() } catch { return }
            }
            // Route anything stored between reading the start position and now.
            router.nudge()
            // Routing and timers end only when cancelled: the transports' task ends first.
            try await group.next()
            group.cancelAll()
        }
    }

    /// Tells the server that something other than the server wrote to the store, so it routes the new events.
    public func storeDidChange() {
        router.nudge()
    }

    /// How many connections are open.
    public var connectionCount: Int { registry.connectionCount }

    /// Closes the user's open connections because their login was revoked: those opened with login session
    /// `sessionID`, or all of them when `nil`. Each closes with the reason `unauthenticated`; a session whose token
    /// was accepted just before the revocation, and that is still opening, is refused with the same reason.
    ///
    /// Tokens are checked when a session opens; call this when you revoke them (``AuthService`` does through
    /// ``AuthService/whenSessionsRevoked(_:)``), so that open connections end too.
    public func closeSessions(of user: UserID, sessionID: String? = nil) {
        registry.revoke(user, sessionID: sessionID)
    }

    /// Serves one connection until the peer closes it or the task is cancelled, then closes it.
    ///
    /// ``run()`` must be running: it routes the events the connection receives, runs the timers (presence, typing,
    /// the `hello` deadline) and closes connections that fall too far behind or whose login is revoked.
    /// ``run()`` calls this for every connection its transports accept.
    public func handle(_ connection: Connection) async {
        let session = Session(server: self, outbound: connection.outbound, peer: connection.peer)
        await session.run(inbound: connection.inbound)
    }
}
