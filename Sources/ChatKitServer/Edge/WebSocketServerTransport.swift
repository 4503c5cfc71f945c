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
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import HummingbirdWebSocket
import HummingbirdWSCompression
public import Logging
import NIOCore
public import NIOSSL
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// A ``ChatKitCore/ServerTransport`` that serves ChatKit's realtime protocol over WebSocket, with HTTP on
/// Hummingbird.
///
/// Each WebSocket carries one session: text frames in, text frames out, closed with a reason (a
/// ``ChatKitCore/Connection``, or pushed frames for the sockets served from event loops; see below).
/// Use it one of two ways:
///
/// - **Standalone**: ``init(configuration:httpRoutes:webFiles:logger:onListening:)`` listens on its own host and port
///   while ``serve(_:)`` runs, with the WebSocket at ``Configuration/path`` and, if given, ChatKit's HTTP routes
///   (``HTTPRoutes``) on the same port.
///
///   ```swift
///   let transport = WebSocketServerTransport(
///       configuration: .init(host: "0.0.0.0", port: 8080),
///       httpRoutes: HTTPRoutes(auth: auth, store: store)
///   )
///   let server = ChatServer(store: store, transports: [transport], authenticators: [auth.authenticator])
///   try await server.run()
///   ```
///
/// - **Mounted** in your own Hummingbird application: ``mounted(configuration:logger:)`` does not listen; add its
///   route to your WebSocket router with ``addRoutes(to:)`` and run your application next to the
///   ``ChatServer`` (see `Documentation/Embedding.md`).
///
/// Standalone and run by a ``ChatServer`` (without ``Configuration/compression``), each socket is served from its
/// event loop by NIO handlers, with no task of its own while it is idle: about 6 KB of server memory per idle
/// connection instead of 40 KB (see `Documentation/Performance.md`). It answers pings, pings idle peers every
/// ``Configuration/pingInterval``, reassembles fragmented messages, and stops reading from a peer that sends
/// faster than its requests are answered. Mounted, with compression, or served with your own ``serve(_:)``
/// closure, each socket is served by HummingbirdWebSocket's handler in a task, which stops reading too while 16
/// messages wait for the session. A socket that is not read does not answer pings either: should the store stall
/// for longer than about two ping intervals, the peer's pings (or, for sockets served in tasks, the server's own)
/// end the connection, and the client resumes from its cursor once the server reads again.
///
/// Upgrades are refused with `503 Service Unavailable` while ``serve(_:)`` is not running. On a graceful shutdown
/// (run the ``ChatServer`` in a swift-service-lifecycle `ServiceGroup`), every socket is closed with the reason
/// `shutdown` (WebSocket code 1001) so clients reconnect and resume from their cursors. When ``serve(_:)`` is
/// cancelled instead, sockets served in tasks end without a close frame (NIO drops writes from cancelled tasks);
/// those served from event loops are closed with the reason `shutdown`.
///
/// Inbound messages (text, or binary holding UTF-8 text) up to ``Configuration/maxMessageSize`` are handed to
/// the engine, which answers frames above its own ``ChatServerConfiguration/Limits/maxFrameBytes`` with a
/// `limitExceeded` error frame and keeps the connection open. Keep ``Configuration/maxMessageSize`` above that
/// limit: a message beyond it closes the socket with WebSocket code 1009 (message too big).
public final class WebSocketServerTransport: ServerTransport {
    /// Settings of a ``WebSocketServerTransport``. Every value has a safe default.
    public struct Configuration: Sendable {
        /// The address to listen on when standalone. Default `127.0.0.1`; use `0.0.0.0` to accept other hosts.
        public var host: String
        /// The port to listen on when standalone; `0` picks a free port, reported to `onListening`. Default 8080.
        public var port: Int
        /// The path of the WebSocket endpoint. Default `/v1/ws`.
        public var path: String
        /// The largest WebSocket frame accepted or sent, in bytes; a larger inbound frame closes the socket with
        /// code 1009. Default 1 MiB; at most 4 GiB - 1, WebSocket's limit in SwiftNIO (a larger value is taken as
        /// that).
        public var maxFrameSize: Int
        /// The largest inbound message (all fragments together), in bytes; a larger one closes the socket with
        /// code 1009. Default 1 MiB, four times the engine's default frame limit, so oversized frames up to this
        /// size are answered in-band with `limitExceeded`.
        public var maxMessageSize: Int
        /// How often the server pings an idle client; a client that does not answer within the next period is
        /// disconnected. `nil` (or a period that is not positive) disables pings. Default 30 seconds.
        public var pingInterval: Duration?
        /// How long to wait for the client's close frame after sending ours (and, for sockets served from event
        /// loops, for our answer to the client's to be written) before the socket is closed. Default 5 seconds.
        public var closeTimeout: Duration
        /// How long a socket may stay unable to take more writes (its peer reads nothing of what the server sends)
        /// before the server closes it outright; `nil` keeps it for as long as the peer stays. Pings do not find such
        /// a peer when it sends its own, and a catch-up waits for it, holding a page of events. Default 60 seconds.
        /// Applied by the standalone server without ``compression`` (those sockets are served from event loops);
        /// not to sockets served by Hummingbird's channel (with compression, or mounted in an application's router).
        public var writeStallTimeout: Duration?
        /// The server name reported in the `Server` header when standalone; `nil` sends none. Default `nil`.
        public var serverName: String?
        /// Whether to offer permessage-deflate (RFC 7692) to clients that ask for it. It saves bandwidth on text
        /// but costs CPU (20 to 40 percent of throughput on loopback). Default `false`.
        public var compression: Bool
        /// How long an HTTP connection may sit idle between requests before the server closes it, when
        /// standalone; `nil` keeps idle connections. WebSocket connections are kept alive by pings instead (see
        /// ``pingInterval``). Default 60 seconds.
        public var idleTimeout: Duration?
        /// How long a new connection may take, when standalone, to send its first request (the WebSocket upgrade
        /// or an HTTP request), TLS handshake included, before the server closes it; afterwards pings (WebSocket)
        /// or ``idleTimeout`` (HTTP) take over. Connections that send nothing would otherwise hold a descriptor
        /// each for as long as they like. Default 10 seconds; zero or less sets no deadline. Not applied with
        /// ``compression`` on (those sockets are served by Hummingbird's channel, which has no such deadline).
        public var handshakeTimeout: Duration
        /// How many connections may wait to be accepted, when standalone. A reconnect storm (every client of a
        /// restarted server at once) overflows a short queue, and the kernel then drops connection attempts that
        /// clients retry only seconds later. The kernel caps it (`net.core.somaxconn`). Default 4,096; taken as at
        /// least 1 and at most `Int32.max`.
        public var listenBacklog: Int
        /// TLS for the standalone server (`https` and `wss`); `nil` serves plain text. Make one from PEM files with
        /// ``WebSocketServerTransport/tlsConfiguration(certificateFile:privateKeyFile:)``. Default `nil`.
        public var tls: TLSConfiguration?

        /// Creates a configuration; every parameter has a safe default.
        ///
        /// - Parameters:
        ///   - host: The address to listen on when standalone.
        ///   - port: The port to listen on when standalone; `0` picks a free one.
        ///   - path: The path of the WebSocket endpoint.
        ///   - maxFrameSize: The largest WebSocket frame, in bytes.
        ///   - maxMessageSize: The largest inbound message, in bytes.
        ///   - pingInterval: How often to ping clients; `nil` disables pings.
        ///   - closeTimeout: How long to wait for the client's close frame.
        ///   - serverName: The `Server` header.
        ///   - compression: Whether to offer permessage-deflate.
        ///   - idleTimeout: How long an idle HTTP connection is kept.
        ///   - tls: TLS settings; `nil` for plain text.
        ///   - listenBacklog: How many connections may wait to be accepted.
        ///   - handshakeTimeout: How long a new connection may take to send its first request (zero or less: no
        ///     deadline).
        ///   - writeStallTimeout: How long a socket may stay unwritable before it is closed.
        public init(
            host: String = "127.0.0.1",
            port: Int = 8080,
            path: String = "/v1/ws",
            maxFrameSize: Int = 1 << 20,
            maxMessageSize: Int = 1 << 20,
            pingInterval: Duration? = .seconds(30),
            closeTimeout: Duration = .seconds(5),
            serverName: String? = nil,
            compression: Bool = false,
            idleTimeout: Duration? = .seconds(60),
            tls: TLSConfiguration? = nil,
            listenBacklog: Int = 4096,
            handshakeTimeout: Duration = .seconds(10),
            writeStallTimeout: Duration? = .seconds(60)
        ) {
            self.writeStallTimeout = writeStallTimeout
            self.listenBacklog = listenBacklog
            self.handshakeTimeout = handshakeTimeout
            self.compression = compression
            self.idleTimeout = idleTimeout
            self.tls = tls
            self.host = host
            self.port = port
            self.path = path
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
            self.pingInterval = pingInterval
            self.closeTimeout = closeTimeout
            self.serverName = serverName
        }

        /// The HummingbirdWebSocket settings these values stand for; pass them to
        /// `.http1WebSocketUpgrade(webSocketRouter:configuration:)` when you mount the transport.
        public var webSocketConfiguration: WebSocketServerConfiguration {
            let settings = normalized
            return WebSocketServerConfiguration(
                maxFrameSize: settings.maxFrameSize,
                extensions: settings.compression
                    ? [.perMessageDeflate(maxDecompressedFrameSize: settings.maxMessageSize)] : [],
                autoPing: settings.pingInterval.map { .enabled(timePeriod: $0) } ?? .disabled,
                closeTimeout: settings.closeTimeout
            )
        }

        /// These settings with each value brought into its range: the largest that SwiftNIO and the system take
        /// (a larger frame size or backlog traps there, at the first connection or when binding), a ping period that
        /// is not positive as none (a zero period pinged again before any answer could come, closing every socket
        /// as idle), no negative timeout (a handshake timeout of zero, which closed every connection at once, sets
        /// no deadline: ``ChatEdgeChannel`` schedules none).
        var normalized: Configuration {
            var settings = self
            settings.maxFrameSize = min(max(maxFrameSize, 1), Int(UInt32.max))
            settings.maxMessageSize = max(maxMessageSize, 1)
            settings.listenBacklog = min(max(listenBacklog, 1), Int(Int32.max))
            if let interval = pingInterval, interval <= .zero { settings.pingInterval = nil }
            settings.closeTimeout = max(closeTimeout, .zero)
            settings.handshakeTimeout = max(handshakeTimeout, .zero)
            settings.idleTimeout = idleTimeout.map { max($0, .zero) }
            settings.writeStallTimeout = writeStallTimeout.map { max($0, .zero) }
            return settings
        }
    }

    /// TLS settings for a server from PEM files: a certificate chain (the server's certificate first) and its
    /// private key. TLS 1.2 and 1.3 only.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument` naming the file that could not be read or parsed, or
    ///   saying that the key is not the certificate's: checked here, before a server opens its database or binds.
    public static func tlsConfiguration(certificateFile: String, privateKeyFile: String) throws -> TLSConfiguration {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw ChatError(.invalidArgument, "Could not read a PEM certificate from \(certificateFile): \(error).")
        }
        guard !certificates.isEmpty else {
            throw ChatError(.invalidArgument, "\(certificateFile) holds no PEM certificate.")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        } catch {
            throw ChatError(.invalidArgument, "Could not read a PEM private key from \(privateKeyFile): \(error).")
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        // NIOSSL's default still accepts TLS 1.0 and 1.1, which browsers and current clients no longer offer.
        tls.minimumTLSVersion = .tlsv12
        // A context is what binding makes; making one now finds a key that belongs to another certificate.
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            // The key was read above: failing to load it into a context means it is not the (first) certificate's.
            guard case NIOSSLError.failedToLoadPrivateKey = error else {
                throw ChatError(
                    .invalidArgument,
                    "No TLS context could be made from \(certificateFile) and \(privateKeyFile): \(error).",
                    underlying: error
                )
            }
            throw ChatError(
                .invalidArgument,
                "The private key \(privateKeyFile) does not go with the certificate \(certificateFile). Pass the key "
                    + "the certificate was issued for, with the server's own certificate first in "
                    + "\(certificateFile), then its intermediates.",
                underlying: error
            )
        }
        return tls
    }

    private typealias Handler = @Sendable (Connection) async -> Void

    private struct State {
        var handler: Handler?
        var live: [Int: OutboundWriter] = [:]
        var nextID = 0
        /// Waiting for `live` to become empty.
        var drainWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    /// The transport's settings.
    public let configuration: Configuration
    private let httpRoutes: HTTPRoutes?
    private let webFiles: WebFiles?
    private let isStandalone: Bool
    private let logger: Logger
    private let onListening: @Sendable (_ host: String, _ port: Int) async -> Void
    private let state = Mutex(State())
    /// Socket handlers (``ChatSocketHandler``) made and not yet freed: 0 once every socket closed, unless one
    /// leaks.
    let socketHandlerCount = Atomic<Int>(0)

    /// Creates a standalone transport that listens while ``serve(_:)`` runs.
    ///
    /// - Parameters:
    ///   - configuration: Address, path, limits and keepalive.
    ///   - httpRoutes: ChatKit's HTTP endpoints to serve on the same port (auth, health); `nil` for none.
    ///   - webFiles: Static files (a web client) to serve at `/` on the same port; `nil` for none.
    ///   - logger: Where the transport and Hummingbird log; silent by default. Logs never contain tokens,
    ///     passwords or message bodies.
    ///   - onListening: Called with the bound host and port once the server listens (each time ``serve(_:)``
    ///     starts); with port `0`, this is how to learn the port.
    public init(
        configuration: Configuration = Configuration(),
        httpRoutes: HTTPRoutes? = nil,
        webFiles: WebFiles? = nil,
        logger: Logger = Logger(label: "chatkit.edge", factory: { _ in SwiftLogNoOpLogHandler() }),
        onListening: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
    ) {
        self.configuration = configuration.normalized
        self.httpRoutes = httpRoutes
        self.webFiles = webFiles
        self.isStandalone = true
        self.logger = logger
        self.onListening = onListening
    }

    private init(mountedWith configuration: Configuration, logger: Logger) {
        self.configuration = configuration.normalized
        self.httpRoutes = nil
        self.webFiles = nil
        self.isStandalone = false
        self.logger = logger
        self.onListening = { _, _ in }
    }

    /// Creates a transport that does not listen: your Hummingbird application upgrades the sockets, after you add
    /// the route with ``addRoutes(to:)``. ``Configuration/host``, ``Configuration/port`` and
    /// ``Configuration/serverName`` are not used; pass ``Configuration/webSocketConfiguration`` to your
    /// application's server so frame size and keepalive apply.
    ///
    /// - Parameters:
    ///   - configuration: Path, limits and keepalive.
    ///   - logger: Where the transport logs; silent by default.
    /// - Returns: The transport; give it to ``ChatServer`` as one of its transports.
    public static func mounted(
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "chatkit.edge", factory: { _ in SwiftLogNoOpLogHandler() })
    ) -> WebSocketServerTransport {
        WebSocketServerTransport(mountedWith: configuration, logger: logger)
    }

    /// How many sockets are open.
    public var connectionCount: Int { state.withLock { $0.live.count } }

    /// Lets the HTTP routes served with this transport answer the chat API with `server`.
    func attach(_ server: ChatServer) {
        httpRoutes?.attach(server)
    }

    // MARK: Routes

    /// Adds the WebSocket endpoint at ``Configuration/path`` to a router whose requests may upgrade.
    ///
    /// Use the router as the `webSocketRouter` of `.http1WebSocketUpgrade(webSocketRouter:configuration:)`.
    ///
    /// - Parameter router: Your WebSocket router.
    public func addRoutes<Context: WebSocketRequestContext>(to router: Router<Context>) {
        router.ws(
            RouterPath(configuration.path),
            shouldUpgrade: { [self] _, _ in
                guard isServing else {
                    throw HTTPError(.serviceUnavailable, message: "The chat server is not running.")
                }
                return .upgrade([:])
            },
            onUpgrade: { [self] inbound, outbound, context in
                let channel = (context.requestContext as? any ChannelRequestContext)?.channel
                try await serveSocket(inbound: inbound, outbound: outbound, channel: channel)
            }
        )
    }

    private var isServing: Bool { state.withLock { $0.handler != nil } }

    // MARK: Serving

    /// Accepts WebSockets and hands each to `onConnection` until the calling task is cancelled or a graceful
    /// shutdown (swift-service-lifecycle) begins.
    ///
    /// On a graceful shutdown it stops accepting upgrades, closes every socket with the reason `shutdown`
    /// (WebSocket code 1001, so clients reconnect elsewhere or later and resume from their cursors), waits up to
    /// ``Configuration/closeTimeout`` for the sessions to end, then, standalone, stops the HTTP server and returns.
    /// On cancellation the sockets end without a close frame (NIO drops writes from cancelled tasks).
    ///
    /// Standalone, this also runs the HTTP server on ``Configuration/host`` and ``Configuration/port``.
    ///
    /// - Parameter onConnection: Serves one connection; ``ChatServer/run()`` passes ``ChatServer/handle(_:)``.
    /// - Throws: An error when the server cannot listen (for example, the port is taken).
    public func serve(_ onConnection: @escaping @Sendable (Connection) async -> Void) async throws {
        try await serve(onConnection, server: nil)
    }

    /// Serves `server`'s sessions, as ``ChatServer/run()`` does.
    ///
    /// Standalone and without compression, each socket is then served from its event loop by a
    /// ``ChatSocketHandler`` and a ``PushedSession``, with no task while it is idle; otherwise as
    /// ``serve(_:)`` does. On cancellation, such sockets are closed with the reason `shutdown`.
    func serve(for server: ChatServer) async throws {
        try await serve({ connection in await server.handle(connection) }, server: server)
    }

    private func serve(_ onConnection: @escaping Handler, server: ChatServer?) async throws {
        state.withLock { $0.handler = onConnection }
        defer { state.withLock { $0.handler = nil } }
        guard isStandalone else {
            // Graceful shutdown or cancellation: either way the sockets this transport serves must end with it.
            _ = try? await gracefulShutdown()
            await closeSockets()
            return
        }
        // A service group shuts its services down in reverse order, each after the one listed after it has
        // returned: the socket closer tells every client `shutdown` (and waits for the sessions to end) before
        // the application stops accepting and closes what is left with code 1000, and the shards go last (see
        // `ConnectionShards`). The group follows the graceful shutdown of the service group `serve` runs in.
        let shards = ConnectionShards()
        let pushingTo = configuration.compression ? nil : server
        let http = try makeApplication(shards: shards, pushingTo: pushingTo)
        let application = ServiceGroup(
            configuration: .init(
                services: [shards, http, SocketCloser(transport: self)],
                logger: logger
            )
        )
        do {
            try await application.run()
        } catch {
            await stopTakingSocketsAndCloseThem()
            throw error
        }
        // The sockets still open once the application has stopped are served from event loops: no task of theirs
        // would see the cancellation.
        await stopTakingSocketsAndCloseThem()
    }

    /// Closes every socket with the reason `shutdown` once a graceful shutdown begins, and returns when the
    /// sessions have ended (or ``Configuration/closeTimeout`` passed). Cancelled, it returns without closing.
    private struct SocketCloser: Service {
        let transport: WebSocketServerTransport

        func run() async throws {
            do { try await gracefulShutdown() } catch { return }
            await transport.closeSockets()
        }
    }

    /// Stops accepting, closes every open socket with the reason `shutdown`, and waits (at most
    /// ``Configuration/closeTimeout``) until their sessions ended. A socket of a mounted transport whose peer reads
    /// nothing can hold its close longer (the transport cannot reach its channel to close it outright).
    private func closeSockets() async {
        let timeout = configuration.closeTimeout
        await withTaskGroup(of: Void.self) { group in
            // The closes count against the timeout too: a socket served in a task closes through a writer that
            // waits while its peer reads nothing, so a close can wait for as long as the peer stalls.
            group.addTask {
                await self.stopTakingSocketsAndCloseThem()
                await self.waitUntilNoSockets()
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Stops taking sockets and closes the open ones with the reason `shutdown`.
    private func stopTakingSocketsAndCloseThem() async {
        let live = state.withLock { state in
            // No socket is taken from now on (`makeSocketHandler`), so none is missed.
            state.handler = nil
            return Array(state.live.values)
        }
        // All at once: one socket whose close waits for its peer must not hold back the others' closes.
        await withDiscardingTaskGroup { group in
            for writer in live { group.addTask { await writer.close(Self.shutdown) } }
        }
    }

    private static let shutdown = CloseReason(code: "shutdown", message: "The server is shutting down; reconnect later.")

    /// Returns once no socket is open, or when cancelled.
    private func waitUntilNoSockets() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { state -> Bool in
                    if state.live.isEmpty || Task.isCancelled { return true }
                    state.drainWaiters[id] = continuation
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.drainWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// The standalone application: the WebSocket route and the HTTP routes on one port, with TLS if configured,
    /// its connections served by `shards`.
    private func makeApplication(shards: ConnectionShards, pushingTo server: ChatServer?) throws
        -> some ApplicationProtocol
    {
        let httpRouter = Router(context: ChatRequestContext.self)
        // CORS first, then the web files' headers, then the routes: each answers for what comes after it.
        httpRoutes?.addCrossOriginMiddleware(to: httpRouter)
        webFiles?.addMiddleware(to: httpRouter)
        httpRoutes?.addRoutes(to: httpRouter)
        let webSocketRouter = Router(context: ChatRequestContext.self)
        addRoutes(to: webSocketRouter)
        let onListening = onListening
        let logger = logger
        let webSocketResponder = webSocketRouter.buildResponder()
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: configuration.idleTimeout.map { TimeAmount($0) }),
            ws: configuration.webSocketConfiguration
        )
        let plain: HTTPServerBuilder
        if let server {
            // Sockets served from their event loops (`ChatEdgeChannel`), HTTP by the same router.
            let path = configuration.path
            let maxFrameSize = configuration.maxFrameSize
            let handshakeTimeout = TimeAmount(configuration.handshakeTimeout)
            let http1 = channelConfiguration.http1
            let socketsShare = makeSocketsShare(server: server)
            plain = HTTPServerBuilder { responder in
                ShardedChildChannel(
                    base: ChatEdgeChannel(
                        responder: responder,
                        http1: http1,
                        path: path,
                        maxFrameSize: maxFrameSize,
                        handshakeTimeout: handshakeTimeout,
                        isServing: { [self] in isServing },
                        makeHandler: { [self] in
                            makeSocketHandler(server: server, shards: shards, shared: socketsShare)
                        }
                    ),
                    shards: shards
                )
            }
        } else {
            // Hummingbird's `.http1WebSocketUpgrade(webSocketRouter:configuration:)` tuned for chat sockets (small
            // read buffers, coalesced flushes), each connection served in one of the shards' task groups.
            plain = HTTPServerBuilder { responder in
                ShardedChildChannel(
                    base: ChatSocketChannel(
                        base: HTTP1WebSocketUpgradeChannel(
                            responder: responder,
                            webSocketResponder: webSocketResponder,
                            configuration: channelConfiguration
                        )
                    ),
                    shards: shards
                )
            }
        }
        return Application(
            router: httpRouter,
            server: try configuration.tls.map { try .tls(plain, tlsConfiguration: $0) } ?? plain,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: configuration.serverName,
                backlog: configuration.listenBacklog
            ),
            onServerRunning: { channel in
                let host = channel.localAddress?.ipAddress ?? "?"
                let port = channel.localAddress?.port ?? 0
                logger.debug("Listening", metadata: ["chatkit.address": "\(host):\(port)"])
                await onListening(host, port)
            },
            logger: logger
        )
    }

    /// Serves one upgraded socket as a ``ChatKitCore/Connection`` until the engine is done with it.
    /// With its `channel` (standalone, or mounted on a router whose context gives it, as ``ChatRequestContext``
    /// does), a socket whose close cannot be written within ``Configuration/closeTimeout`` is closed outright.
    private func serveSocket(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: (any Channel)?
    ) async throws {
        let closeTimeout = configuration.closeTimeout
        var closeChannel: (@Sendable () -> Void)?
        if let channel { closeChannel = { channel.close(promise: nil) } }
        let registered = state.withLock { state -> (id: Int, handler: Handler, socket: WebSocketConnection)? in
            guard let handler = state.handler else { return nil }
            state.nextID += 1
            let socket = WebSocketConnection(
                outbound: outbound, peer: "websocket \(state.nextID)", closeTimeout: closeTimeout,
                closeChannel: closeChannel
            )
            state.live[state.nextID] = socket.connection.outbound
            return (state.nextID, handler, socket)
        }
        guard let registered else {
            try await outbound.close(.goingAway, reason: "shutdown")
            return
        }
        defer { removeLive(registered.id) }
        try await registered.socket.run(
            inbound: inbound, maxMessageSize: configuration.maxMessageSize, handler: registered.handler
        )
    }

    /// Forgets a socket that closed; the shutdown waits for none to be left.
    private func removeLive(_ id: Int) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.live.removeValue(forKey: id)
            guard state.live.isEmpty else { return [] }
            defer { state.drainWaiters = [:] }
            return Array(state.drainWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// What the socket handlers of this run, serving `server`, share: the socket settings of ``configuration``, and
    /// the metric and log of a socket closed for staying unwritable (made per run: the metric is `server`'s).
    private func makeSocketsShare(server: ChatServer) -> ChatSocketHandler.Shared {
        let settings = ChatSocketHandler.Settings(
            maxMessageSize: configuration.maxMessageSize,
            pingInterval: configuration.pingInterval.map { TimeAmount($0) },
            closeTimeout: TimeAmount(configuration.closeTimeout),
            writeStallTimeout: configuration.writeStallTimeout.map { TimeAmount($0) }
        )
        return ChatSocketHandler.Shared(settings: settings) { [logger] id in
            server.metrics.writeStalled()
            logger.info(
                "Closing a connection whose peer reads nothing",
                metadata: ["chatkit.connection.peer": "websocket \(id)"]
            )
        }
    }

    /// The handler of an upgraded socket of `server`'s, or `nil` when the transport no longer takes sockets. Its
    /// session's workers run in `shards` (in the server's background actions once the shards have stopped).
    private func makeSocketHandler(
        server: ChatServer, shards: ConnectionShards, shared: ChatSocketHandler.Shared
    ) -> ChatSocketHandler? {
        let id = state.withLock { state -> Int? in
            guard state.handler != nil else { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return nil }
        socketHandlerCount.wrappingAdd(1, ordering: .relaxed)
        return ChatSocketHandler(
            shared: shared,
            id: id,
            makeSession: { [self] writer, onOpened, onRoom in
                // A shutdown that began since the upgrade did not see this socket: the handler closes it.
                let isServing = state.withLock { state in
                    guard state.handler != nil else { return false }
                    state.live[id] = writer
                    return true
                }
                guard isServing else { return nil }
                return PushedSession(
                    server: server, outbound: writer, peer: "websocket \(id)", onOpened: onOpened, onRoom: onRoom,
                    spawn: { work in shards.start(work) || server.background.start(work) }
                )
            },
            onClosed: { [self] in removeLive(id) },
            onFreed: { [self] in socketHandlerCount.wrappingSubtract(1, ordering: .relaxed) }
        )
    }

}
