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
import HummingbirdWSClient
public import Logging
import HTTPTypes
import NIOCore
import NIOWebSocket
import Synchronization

/// A ``ChatKitCore/ClientTransport`` that reaches a ChatKit server over WebSocket (`ws://` or `wss://`).
///
/// Each ``withConnection(_:)`` opens a new socket, runs the caller's body with it as a
/// ``ChatKitCore/Connection``, and closes it when the body returns. The bearer token never goes in the URL: the
/// ``ChatClient`` sends it in the `hello` frame, inside the connection.
///
/// ```swift
/// let transport = WebSocketClientTransport(url: "ws://127.0.0.1:8080/v1/ws")
/// let client = ChatClient(transport: transport, token: tokens.accessToken)
/// try await client.run()
/// ```
public struct WebSocketClientTransport: ClientTransport {
    /// Settings of a ``WebSocketClientTransport``. Every value has a safe default.
    public struct Configuration: Sendable {
        /// The largest WebSocket frame sent or received, in bytes; a larger one closes the socket. Default 16 MiB.
        ///
        /// The server sends each answer and event in one frame, and some are large: the members of a channel of
        /// 10,000 are about 1.3 MB (pages of history, sync and search are cut to about 512 KiB). A frame over this
        /// limit closes the connection, and the client would meet it again after reconnecting.
        public var maxFrameSize: Int
        /// The largest inbound message, in bytes; a larger one closes the socket. Default 16 MiB.
        public var maxMessageSize: Int
        /// How often the client pings the server; a server that does not answer within the next period is
        /// disconnected, and the ``ChatClient`` reconnects. `nil` disables pings. Default 30 seconds.
        ///
        /// The server's own pings keep idle connections open, but only the client's tell it that a connection
        /// died without a reset (a network change, a NAT that forgot it, a laptop waking up): without them the
        /// client sees nothing until the system gives up on the socket, which can take many minutes, and sends
        /// meanwhile wait unanswered.
        public var pingInterval: Duration?
        /// Extra headers of the upgrade request (for example, for a proxy). Never put the access token here if
        /// intermediaries log headers; the `hello` frame carries it.
        public var additionalHeaders: [String: String]
        /// How long opening a socket may take, from the TCP connect to the end of the WebSocket upgrade (TLS
        /// included); an attempt that takes longer fails with ``ChatKitCore/ChatError`` `.unavailable`, and the
        /// ``ChatClient`` tries again after its backoff. Default 30 seconds.
        ///
        /// Without it, a server that accepts the connection and never answers the upgrade (a wedged server, a
        /// middlebox that drops the flow, a network that changed mid-handshake) would keep the attempt, and the
        /// client, waiting for good: nothing else times it out (pings start after the upgrade). The abandoned
        /// attempt's socket is closed (with ``EventLoops/perConnection``, the default) once the attempt ends, or
        /// a minute after it was given up at the latest: its event loop stays up that long for a host name's
        /// resolution under way, which ends on it.
        ///
        /// A server that closes the connection before answering the upgrade with a FIN (as a server going down,
        /// or a proxy, may) is noticed only at this timeout as well: swift-websocket's client opens its sockets
        /// allowing half-closure, so its upgrade waits on a socket the server no longer writes to. A reset is
        /// noticed at once.
        public var connectTimeout: Duration
        /// How long the socket may take nothing more to send while the app's data waits; then the connection closes
        /// with a ``ChatKitCore/ConnectionClosedError`` of code `closed`, and the ``ChatClient`` reconnects. `nil`
        /// disables the check. Default 2 minutes.
        ///
        /// Pings do not find a network path that died while the socket's send buffer was full (a burst of sends,
        /// then a Wi-Fi roam): the pings themselves wait to be sent, and the system gives up on the socket only after
        /// about 15 minutes. So while the app writes, the transport also writes a small heartbeat (an unsolicited
        /// pong) every quarter of this time, and one that cannot be sent within it ends the connection (within 1.25
        /// times this time of the stall). A heartbeat waits for what was written before it to leave, down to NIO's
        /// low watermark (32 KiB): keep this long enough for the largest frame at the slowest uplink you serve (a
        /// 256 KiB frame at 2 KiB/s, two minutes). An idle connection writes no heartbeat.
        public var sendStallTimeout: Duration?
        /// Which SwiftNIO event loops the connections run on. Default ``EventLoops/perConnection``.
        public var eventLoops: EventLoops
        /// With ``EventLoops/perConnection``: how long an attempt given up on may go on before its event loop is shut
        /// down under it, closing its socket. Longer than NIO's connect timeout (10 s) but in tests whose host is an
        /// IP address (resolved at once), which shorten it.
        var abandonedAttemptGrace = ConnectionEventLoop.defaultAbandonedAttemptGrace

        /// Creates a configuration; every parameter has a safe default.
        ///
        /// - Parameters:
        ///   - maxFrameSize: The largest WebSocket frame, in bytes.
        ///   - maxMessageSize: The largest inbound message, in bytes.
        ///   - pingInterval: How often to ping the server; `nil` disables pings.
        ///   - additionalHeaders: Extra headers of the upgrade request.
        ///   - connectTimeout: How long opening a socket may take, upgrade included.
        ///   - sendStallTimeout: How long the socket may take nothing more to send while data waits; `nil` disables
        ///     the check.
        ///   - eventLoops: Which SwiftNIO event loops the connections run on.
        public init(
            maxFrameSize: Int = 16 << 20,
            maxMessageSize: Int = 16 << 20,
            pingInterval: Duration? = .seconds(30),
            additionalHeaders: [String: String] = [:],
            connectTimeout: Duration = .seconds(30),
            sendStallTimeout: Duration? = .seconds(120),
            eventLoops: EventLoops = .perConnection
        ) {
            self.eventLoops = eventLoops
            self.maxFrameSize = maxFrameSize
            self.maxMessageSize = maxMessageSize
            self.pingInterval = pingInterval
            self.additionalHeaders = additionalHeaders
            self.connectTimeout = connectTimeout
            self.sendStallTimeout = sendStallTimeout
        }
    }

    /// Which SwiftNIO event loops a transport's connections run on (``Configuration/eventLoops``).
    public struct EventLoops: Sendable, Hashable {
        private enum Base: Sendable, Hashable {
            case perConnection
            case shared
        }

        private let base: Base

        /// Each connection on an event loop of its own, shut down when the connection ends: a thread and a few file
        /// descriptors while it is open. An attempt given up on (``Configuration/connectTimeout``, or the task
        /// cancelled) has its socket closed, within a minute at the latest (``Configuration/connectTimeout``'s
        /// notes), and keeps its thread until then. The default, for an app with a client or a few.
        public static let perConnection = EventLoops(base: .perConnection)

        /// Every connection on SwiftNIO's shared event loops (`MultiThreadedEventLoopGroup.singleton`), with no
        /// thread of its own: for a process that runs many clients. An attempt given up on keeps its socket until
        /// the server answers or closes it (swift-websocket's client gives no hold on a socket before its upgrade),
        /// so against a server that accepts connections and never answers, each attempt leaves a socket open.
        public static let shared = EventLoops(base: .shared)
    }

    /// The server's WebSocket URL, such as `ws://127.0.0.1:8080/v1/ws`.
    public let url: String
    /// The transport's settings.
    public let configuration: Configuration
    private let logger: Logger

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - url: The server's WebSocket URL (`ws://` or `wss://`, host, port and path).
    ///   - configuration: Frame sizes, keepalive and headers.
    ///   - logger: Where the transport logs; silent by default.
    public init(
        url: String,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "chatkit.client.ws", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.url = url
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens a socket, runs `body` with it, and closes it when `body` returns or throws.
    ///
    /// The connection's inbound stream finishes when the server closes the socket normally; it throws a
    /// ``ChatKitCore/ConnectionClosedError`` with the server's reason when the server closes it for another reason
    /// (`slowConsumer`, `unauthenticated`, …) or the socket ends without a close (code `closed`), and the socket's
    /// error when it fails.
    ///
    /// Opening the socket is bounded by ``Configuration/connectTimeout`` and ends when the calling task is
    /// cancelled, even while the handshake hangs; the socket of an attempt given up on is closed (see
    /// ``Configuration/eventLoops``).
    ///
    /// - Returns: What `body` returns.
    /// - Throws: An error when the server cannot be reached or refuses the upgrade, ``ChatKitCore/ChatError``
    ///   `.unavailable` when opening takes longer than ``Configuration/connectTimeout``, `CancellationError` when
    ///   the task is cancelled before the socket is open, or what `body` throws.
    public func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result)
        async throws -> Result
    {
        let eventLoop = ConnectionEventLoop(configuration.eventLoops, grace: configuration.abandonedAttemptGrace)
        let maxMessageSize = configuration.maxMessageSize
        var headers = HTTPFields()
        for (name, value) in configuration.additionalHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let clientConfiguration = WebSocketClientConfiguration(
            maxFrameSize: configuration.maxFrameSize,
            additionalHeaders: headers,
            autoPing: configuration.pingInterval.map { .enabled(timePeriod: $0) } ?? .disabled
        )
        let url = url
        let logger = logger
        // The socket's handler hands the socket out and keeps it open until `body` is done; `body` runs here, in
        // the caller's task (WSClient may keep its handler closure after `connect` returns, so it must not capture
        // `body`).
        let (sockets, socketContinuation) = AsyncStream.makeStream(of: ClientSocket.self)
        let (done, doneContinuation) = AsyncStream.makeStream(of: Never.self)
        let (attemptEnded, attemptEndedContinuation) = AsyncStream.makeStream(of: Never.self)
        let attempt = ConnectionAttempt()
        let stallTimeout = configuration.sendStallTimeout.map { max($0, .milliseconds(4)) }
        // Not a child task: WSClient's handshake ignores cancellation and has no deadline, and a task group would
        // wait for it. An attempt given up on ends when its event loop is shut down, which closes its socket
        // (``ConnectionEventLoop``); should its handler run first, it finds `done` finished and returns at once.
        let connecting = Task {
            defer {
                socketContinuation.finish()
                attemptEndedContinuation.finish()
            }
            let opened = Mutex<ClientSocket?>(nil)
            do {
                let closeFrame = try await WebSocketClient.connect(
                    url: url, configuration: clientConfiguration, eventLoopGroup: eventLoop.group, logger: logger
                ) { inbound, outbound, _ in
                    let activity = SendActivity()
                    let socket = ClientSocket(outbound: outbound, peer: url, activity: activity)
                    opened.withLock { $0 = socket }
                    socketContinuation.yield(socket)
                    await socket.serve(
                        inbound: inbound, maxMessageSize: maxMessageSize, until: done,
                        stallWatch: stallTimeout.map {
                            SendStallWatch(timeout: $0, outbound: outbound, activity: activity)
                        },
                        attempt: attempt
                    )
                }
                // The close handshake is over: the connection's inbound ends, with the server's reason.
                opened.withLock { $0 }?.finish(closedWith: closeFrame)
            } catch {
                opened.withLock { $0 }?.finish(failedWith: error)
                throw error
            }
        }
        attempt.set(connecting)
        let socket: ClientSocket
        switch await Self.firstSocket(of: sockets, within: configuration.connectTimeout) {
        case .opened(let opened):
            socket = opened
        case .ended:
            // The connection failed before the handler ran: report why.
            if case .failure(let error) = await connecting.result {
                await eventLoop.shutDown(afterFailedAttempt: error)
                throw error
            }
            await eventLoop.shutDown()
            throw ConnectionClosedError(reason: CloseReason(code: "normal", message: "The socket closed at once."))
        case .timedOut:
            doneContinuation.finish()
            connecting.cancel()
            eventLoop.shutDown(whenEnded: connecting, attemptEnded)
            throw ChatError(
                .unavailable,
                "The server at \(url) did not complete the WebSocket handshake within \(configuration.connectTimeout)."
            )
        case .cancelled:
            doneContinuation.finish()
            connecting.cancel()
            eventLoop.shutDown(whenEnded: connecting, attemptEnded)
            throw CancellationError()
        }
        do {
            let result = try await body(socket.connection)
            await socket.connection.outbound.close(.normal)
            doneContinuation.finish()
            // The body's result stands, whatever closing the socket reports (WSClient bounds the close handshake).
            _ = await connecting.result
            await eventLoop.shutDown()
            return result
        } catch {
            await socket.connection.outbound.close(.normal)
            doneContinuation.finish()
            _ = await connecting.result
            await eventLoop.shutDown()
            throw error
        }
    }

    /// How waiting for the socket ended.
    private enum Opening: Sendable {
        case opened(ClientSocket)
        /// The attempt ended without a socket (it failed).
        case ended
        case timedOut
        case cancelled
    }

    /// The socket the attempt hands out, unless the attempt ends first, `timeout` passes or the task is cancelled.
    private static func firstSocket(of sockets: AsyncStream<ClientSocket>, within timeout: Duration) async -> Opening {
        await withTaskGroup(of: Opening.self) { group in
            group.addTask {
                var iterator = sockets.makeAsyncIterator()
                if let socket = await iterator.next() { return .opened(socket) }
                return Task.isCancelled ? .cancelled : .ended
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            // Cancelled from outside while both waited, either child may have answered first: unless the socket
            // is open (the caller's body then sees the cancellation), the caller's cancellation is the answer.
            if case .opened = first { return first }
            return Task.isCancelled ? .cancelled : first
        }
    }
}

/// One client socket adapted to a ``ChatKitCore/Connection``.
private struct ClientSocket: Sendable {
    let connection: Connection
    private let continuation: AsyncThrowingStream<String, any Error>.Continuation

    init(outbound: WebSocketOutboundWriter, peer: String, activity: SendActivity) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self, throwing: (any Error).self)
        self.continuation = continuation
        connection = Connection(
            inbound: stream,
            outbound: OutboundWriter(
                write: { text in
                    try await activity.counting { try await outbound.write(.text(text)) }
                },
                close: { reason in
                    continuation.finish()
                    let code: WebSocketErrorCode = reason == .normal ? .normalClosure : .goingAway
                    _ = try? await activity.counting {
                        try await outbound.close(code, reason: String(reason.code.prefix(120)))
                    }
                }
            ),
            peer: peer
        )
    }

    /// Feeds inbound messages to the connection until the server closes the socket, `done` finishes (the caller's
    /// body returned), the task is cancelled or `stallWatch` finds that the socket took nothing more to send for its
    /// timeout. When the server closes, the connection's inbound stream is left open here: it ends once the close
    /// handshake is over (``finish(closedWith:)``), with the server's reason. A stall ends it with a
    /// ``ChatKitCore/ConnectionClosedError`` of code `closed` and cancels `attempt`, which closes the socket (its
    /// writes wait no longer).
    func serve(
        inbound: WebSocketInboundStream, maxMessageSize: Int, until done: AsyncStream<Never>,
        stallWatch: SendStallWatch?, attempt: ConnectionAttempt
    ) async {
        let continuation = continuation
        // Each child returns whether its end ends the connection (the stall watch's cancellation does not).
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: maxMessageSize) {
                        switch message {
                        case .text(let text): continuation.yield(text)
                        case .binary(let buffer): continuation.yield(String(buffer: buffer))
                        }
                    }
                } catch {
                    continuation.finish(throwing: Task.isCancelled ? nil : error)
                }
                return true
            }
            group.addTask {
                for await _ in done {}
                // The body is done: the connection's inbound ends here, whatever the socket still does. (Cancelled
                // because the server closed first, it is left to `finish(closedWith:)`.)
                if !Task.isCancelled { continuation.finish() }
                return true
            }
            if let stallWatch {
                group.addTask {
                    guard await stallWatch.untilStalled() else { return false }
                    let timeout = stallWatch.timeout
                    let time =
                        timeout >= .seconds(1)
                        ? "\(Int((timeout / .seconds(1)).rounded())) s"
                        : "\(Int((timeout / .milliseconds(1)).rounded())) ms"
                    let reason = CloseReason(
                        code: "closed",
                        message: "Nothing more could be sent for \(time): the network path is gone, or the server "
                            + "stopped reading."
                    )
                    continuation.finish(throwing: ConnectionClosedError(reason: reason))
                    attempt.cancel()
                    return true
                }
            }
            // Whichever ends first: the server closed (or the socket failed), the body is done, or sending stalled.
            for await ends in group where ends { break }
            group.cancelAll()
        }
    }

    /// Ends the connection's inbound stream after the socket closed with `closeFrame`: normally for a normal
    /// closure, with a ``ChatKitCore/ConnectionClosedError`` carrying the server's reason otherwise, and with one of
    /// code `closed` when the socket ended without a close frame (the server went away, the network failed). A
    /// stream that the body's end finished already stays as it is.
    func finish(closedWith closeFrame: WebSocketCloseFrame?) {
        guard let closeFrame else {
            let reason = CloseReason(code: "closed", message: "The socket ended without a close frame (1006).")
            return continuation.finish(throwing: ConnectionClosedError(reason: reason))
        }
        guard closeFrame.closeCode != .normalClosure else { return continuation.finish() }
        continuation.finish(throwing: ConnectionClosedError(reason: Self.reason(of: closeFrame)))
    }

    /// Ends the connection's inbound stream after the socket failed.
    func finish(failedWith error: any Error) {
        continuation.finish(throwing: error)
    }

    /// The reason of a server's close frame: its text is `code: message` (the server's ``ChatKitCore/CloseReason``),
    /// or anything else, which becomes the message of a reason named after the WebSocket close code.
    static func reason(of closeFrame: WebSocketCloseFrame) -> CloseReason {
        let text = closeFrame.reason ?? ""
        if let separator = text.firstRange(of: ": "), !text[..<separator.lowerBound].isEmpty,
            text[..<separator.lowerBound].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }),
            text.first?.isLowercase == true
        {
            return CloseReason(
                code: String(text[..<separator.lowerBound]), message: String(text[separator.upperBound...])
            )
        }
        let code = closeFrame.closeCode == .goingAway ? "shutdown" : "closed"
        return CloseReason(code: code, message: text.isEmpty ? "\(closeFrame.closeCode)" : text)
    }
}
