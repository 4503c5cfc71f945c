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

import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import Synchronization

/// HTTP/1 with the upgrade to ChatKit's WebSocket served by a ``ChatSocketHandler``: once upgraded, a socket has
/// no task; HTTP requests are served by Hummingbird's responder as usual.
///
/// It replaces Hummingbird's `HTTP1WebSocketUpgradeChannel` for the standalone server of a ``ChatServer``. That
/// channel serves each WebSocket in a task (plus one for its pings) whose frames, with the session's reader and
/// writer tasks, were about 25 KB of an idle connection's 40 KB, and it runs the WebSocket router, a request
/// context and a task for every upgrade. Here the upgrade is decided on the event loop from the request's path.
struct ChatEdgeChannel: ServerChildChannel, HTTPChannelHandler {
    /// What became of the connection's first request.
    enum UpgradeResult: Sendable {
        /// Upgraded: the socket's handler serves it from now on.
        case webSocket
        /// Plain HTTP.
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// A WebSocket upgrade that was refused, with the status to answer.
        case refusedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, HTTPResponse.Status)
    }

    /// The set-up connection.
    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    /// Hummingbird's responder for HTTP requests; for a connection being served, the one
    /// ``answeringUpgrades(_:)`` makes.
    private(set) var responder: HTTPChannelHandler.Responder
    /// HTTP settings (idle timeout, header limits).
    let http1: HTTP1Channel.Configuration
    /// The path of the WebSocket endpoint.
    let path: String
    /// The largest WebSocket frame accepted.
    let maxFrameSize: Int
    /// How long a new connection may take to send its first request head (its TLS handshake included); after that
    /// it is closed. Hummingbird's idle timeout only starts with the first request, so without it a connection
    /// that sends nothing, or its head a byte at a time, would hold a descriptor for as long as it likes.
    let handshakeTimeout: TimeAmount
    /// Whether the server takes sockets now; an upgrade is refused with `503 Service Unavailable` when not.
    let isServing: @Sendable () -> Bool
    /// Makes the handler for an upgraded socket; `nil` when the server stopped taking sockets meanwhile.
    let makeHandler: @Sendable () -> ChatSocketHandler?

    /// - Parameter responder: Hummingbird's responder. WebSocket upgrades that reach it are answered by
    ///   ``answeringUpgrades(_:)`` instead.
    init(
        responder: @escaping HTTPChannelHandler.Responder,
        http1: HTTP1Channel.Configuration,
        path: String,
        maxFrameSize: Int,
        handshakeTimeout: TimeAmount,
        isServing: @escaping @Sendable () -> Bool,
        makeHandler: @escaping @Sendable () -> ChatSocketHandler?
    ) {
        self.responder = responder
        self.http1 = http1
        self.path = path
        self.maxFrameSize = maxFrameSize
        self.handshakeTimeout = handshakeTimeout
        self.isServing = isServing
        self.makeHandler = makeHandler
    }

    /// Sets the read allocator and the HTTP pipeline with the WebSocket upgrade.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.setOption(ChannelOptions.recvAllocator, value: ChatSocketChannel.allocator).flatMapThrowing {
            let refusal = NIOLoopBoundBox<HTTPResponse.Status?>(nil, eventLoop: channel.eventLoop)
            // Cancelled once the first request head has arrived (upgraded or not): from then on the socket's pings
            // or Hummingbird's idle timeout look after the connection, and an idle connection keeps nothing of it
            // (a pending task per connection was 600 bytes of each idle connection's memory). A connection that
            // closes earlier leaves it to fire on a closed channel.
            let deadline = NIOLoopBoundBox<Scheduled<Void>?>(nil, eventLoop: channel.eventLoop)
            if handshakeTimeout > .zero {
                deadline.value = channel.eventLoop.scheduleTask(in: handshakeTimeout) { channel.close(promise: nil) }
            }
            let hasFirstRequest: @Sendable () -> Void = {
                deadline.value?.cancel()
                deadline.value = nil
            }
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    guard Self.isSamePath(Self.path(of: head.uri), path) else {
                        refusal.value = .notFound
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    guard isServing() else {
                        refusal.value = .serviceUnavailable
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                    return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
                },
                upgradePipelineHandler: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        hasFirstRequest()
                        guard let handler = makeHandler() else {
                            // Not serving: close at once (a client sees the socket end and retries later).
                            channel.close(promise: nil)
                            return UpgradeResult.webSocket
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return UpgradeResult.webSocket
                    }
                }
            )
            let upgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        hasFirstRequest()
                        try channel.pipeline.syncOperations.addHandler(ClientGoneHandler(), position: .first)
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandlers(http1.additionalChannelHandlers())
                        let idleTimeout = http1.idleTimeout.map { Duration($0) }
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        if let status = refusal.value { return UpgradeResult.refusedUpgrade(asyncChannel, status) }
                        return UpgradeResult.notUpgraded(asyncChannel)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(
                upgradeConfiguration: upgrade
            )
            configuration.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validates
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: configuration
            )
            return Value(upgradeResult: result, channel: channel)
        }
    }

    /// Serves plain HTTP with Hummingbird's responder; an upgraded socket needs nothing more from this task.
    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .webSocket:
                return
            case .notUpgraded(let http1):
                var connection = self
                connection.responder = Self.answeringUpgrades(responder)
                await connection.handleHTTP(asyncChannel: http1, logger: logger)
            case .refusedUpgrade(let http1, let status):
                try await http1.executeThenClose { _, outbound in
                    let headers: HTTPFields = [.connection: "close", .contentLength: "0"]
                    let head = HTTPResponse(status: status, headerFields: headers)
                    try await outbound.write(contentsOf: [.head(head), .end(nil)])
                }
            }
        } catch {
            logger.debug("Connection ended before it was served", metadata: ["chatkit.error": "\(error)"])
        }
    }

    /// The responder of one plain HTTP connection: a WebSocket upgrade that arrives after a plain request gets
    /// `307 Temporary Redirect` to the same target and ends the connection, so that the client upgrades on a new
    /// connection (HummingbirdWebSocket answers the same way); any other request goes to `responder`.
    ///
    /// NIO's upgrade handler only looks at a connection's first request, after which the connection is plain HTTP:
    /// without this, such an upgrade would reach the HTTP routes and get `404 Not Found`. A first request is never
    /// redirected: NIO declined to upgrade it, and a redirect would send the client back to the same refusal on
    /// every new connection.
    static func answeringUpgrades(
        _ responder: @escaping HTTPChannelHandler.Responder
    ) -> HTTPChannelHandler.Responder {
        struct AnsweredUpgrade: Error {}
        final class Requests: Sendable {
            let isFirst = Atomic<Bool>(true)
        }
        let requests = Requests()
        return { request, responseWriter, channel in
            let isFirst = requests.isFirst.exchange(false, ordering: .relaxed)
            guard !isFirst, request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            let headers: HTTPFields = [.connection: "close", .location: request.uri.string, .contentLength: "0"]
            try await responseWriter.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: headers))
            // Ends the connection once the response is written.
            throw AnsweredUpgrade()
        }
    }

    /// The path of a request target, without its query.
    private static func path(of uri: String) -> Substring {
        uri[..<(uri.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? uri.endIndex)]
    }

    /// Whether two paths name the same endpoint, as Hummingbird's router (compression on, or mounted) matches them:
    /// by their components, so that repeated, leading and trailing slashes do not count (`/v1/ws/` is `/v1/ws`).
    static func isSamePath(_ requested: Substring, _ endpoint: String) -> Bool {
        requested.split(separator: "/").elementsEqual(endpoint.split(separator: "/"))
    }
}
