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

import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// One client WebSocket, as cheap as the stack allows: text frames in (handed to a closure on the socket's event
/// loop), text frames out. No protocol logic.
///
/// The socket is a NIO channel with NIOWebSocket's client upgrade, frame decoder and encoder, and a
/// `WireSocketHandler`: no task per connection and no async sequence per frame, so that the generator spends as
/// little of the two shared cores as it can on each frame it reads (a fan-out member reads every broadcast).
///
/// `open(url:firstFrame:onText:onClose:)` returns once the server's first frame arrived (ChatKit's `welcome`, the raw
/// relay's `ready`), so the connection is known to be registered before anything is sent.
final class WireSocket: Sendable {
    /// The server's first frame.
    let firstFrame: String
    private let channel: any Channel

    private init(firstFrame: String, channel: any Channel) {
        self.firstFrame = firstFrame
        self.channel = channel
    }

    /// The connection closed before the server's first frame.
    struct ClosedEarly: Error, CustomStringConvertible {
        var underlying: (any Error)?
        var description: String {
            "The WebSocket closed before the server's first frame (\(underlying.map { "\($0)" } ?? "no error"))."
        }
    }

    /// The server answered the upgrade request with something other than `101 Switching Protocols`.
    struct UpgradeRefused: Error, CustomStringConvertible {
        var url: String
        var description: String { "The server at \(url) did not upgrade the connection to a WebSocket." }
    }

    /// A fragmented message grew past `WireSocketHandler.maxMessageSize`.
    struct MessageTooLarge: Error, CustomStringConvertible {
        var description: String { "A WebSocket message was larger than \(WireSocketHandler.maxMessageSize) bytes." }
    }

    /// What the HTTP upgrade came to.
    private enum Upgrade: Sendable {
        case upgraded(firstFrame: EventLoopFuture<String>)
        case refused
    }

    /// How long the upgrade and the server's first frame may take once connected (generous: a storm of thousands
    /// of reconnects is welcomed in seconds).
    static let handshakeTimeout = TimeAmount.seconds(120)

    /// The upgrade or the server's first frame did not come within ``handshakeTimeout``.
    struct HandshakeTimedOut: Error, CustomStringConvertible {
        var url: String
        var description: String { "No WebSocket upgrade or first frame from \(url) within \(handshakeTimeout)." }
    }

    /// Connects, sends `firstFrame` (if any), and returns once the server's first frame arrived. Every later text
    /// frame goes to `onText`, on the socket's event loop; `onClose` runs once the socket has closed.
    static func open(
        url: String,
        firstFrame: String?,
        onText: @escaping @Sendable (String) -> Void,
        onClose: @escaping @Sendable () -> Void = {}
    ) async throws -> WireSocket {
        let address = try WebSocketAddress(url)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
            )
            .connectTimeout(.seconds(30))
        if let source = try SourceAddresses.next(toward: address.host) {
            // The port is chosen at connect, for the whole address pair (IP_BIND_ADDRESS_NO_PORT), not at bind.
            bootstrap = bootstrap.channelOption(SourceAddresses.bindAddressNoPort, value: 1).bind(to: source)
        }
        let (channel, upgrade) = try await bootstrap
            .connect(to: try SocketAddress(ipAddress: address.host, port: address.port)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: 1 << 24) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let handler = WireSocketHandler(onText: onText, firstFrame: channel.eventLoop.makePromise())
                            try channel.pipeline.syncOperations.addHandler(handler)
                            return .upgraded(firstFrame: handler.firstFrame.futureResult)
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(address.host):\(address.port)")
                    headers.add(name: "Content-Length", value: "0")
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: HTTPRequestHead(
                            version: .http1_1, method: .GET, uri: address.path, headers: headers
                        ),
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) }
                    )
                    // A server may send its first frame right behind the 101 response (the raw relay does): the HTTP
                    // decoder hands those bytes on to the WebSocket decoder instead of dropping them.
                    var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                    pipeline.leftOverBytesStrategy = .forwardBytes
                    let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                        configuration: pipeline
                    )
                    return (channel, upgrade)
                }
            }
        channel.closeFuture.whenComplete { _ in onClose() }
        // A server that accepts and then says nothing (no upgrade, no first frame) must not hang the scenario:
        // closing the channel fails both waits.
        let timedOut = SharedFlag()
        let deadline = channel.eventLoop.scheduleTask(in: handshakeTimeout) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            guard case .upgraded(let firstFrameArrived) = try await upgrade.get() else {
                throw UpgradeRefused(url: url)
            }
            if let firstFrame { try await channel.writeAndFlush(WireSocketHandler.textFrame(firstFrame)).get() }
            return WireSocket(firstFrame: try await firstFrameArrived.get(), channel: channel)
        } catch {
            channel.close(promise: nil)
            if timedOut.isSet { throw HandshakeTimedOut(url: url) }
            throw error
        }
    }

    /// Text frames waiting for the event loop, whether a hand-over to it is scheduled, and whether a close frame
    /// follows them.
    private struct Waiting {
        var frames: [String] = []
        var scheduled = false
        var closeRequested = false
    }

    private let waiting = Mutex(Waiting())

    /// The socket has closed, or `close()` was called; nothing more can be sent.
    struct Closed: Error, CustomStringConvertible {
        var description: String { "The WebSocket is closed." }
    }

    /// How long `close()` waits for the server's answer to its close frame before dropping the connection.
    static let closeTimeout = TimeAmount.seconds(15)

    /// Sends one text frame. It returns once the frame is queued: frames queued together reach the event loop in one
    /// hand-over and leave in one flush, as NIO's async writer would hand them over (waiting for each write's
    /// completion instead halved the pairs figures of both servers). A frame queued as the connection drops is
    /// lost without an error here; the scenarios count lost messages, and requests fail when the socket closes.
    func write(_ text: String) async throws {
        guard channel.isActive else { throw Closed() }
        let schedule = try waiting.withLock { waiting in
            guard !waiting.closeRequested else { throw Closed() }
            waiting.frames.append(text)
            defer { waiting.scheduled = true }
            return !waiting.scheduled
        }
        if schedule { channel.eventLoop.execute { self.writeWaiting() } }
    }

    /// Writes the waiting frames, then the close frame if one was asked for, and flushes once (on the event loop).
    private func writeWaiting() {
        let (frames, close) = waiting.withLock { waiting in
            defer {
                waiting.frames = []
                waiting.scheduled = false
            }
            return (waiting.frames, waiting.closeRequested)
        }
        for text in frames { channel.write(WireSocketHandler.textFrame(text), promise: nil) }
        if close {
            var code = channel.allocator.buffer(capacity: 2)
            code.write(webSocketErrorCode: .normalClosure)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
            channel.write(frame, promise: nil)
            let channel = channel
            channel.eventLoop.scheduleTask(in: Self.closeTimeout) { channel.close(promise: nil) }
        }
        channel.flush()
    }

    /// Sends a close frame after the frames already queued; the socket ends when the server answers it, or after
    /// `closeTimeout` if it does not. Later writes throw ``Closed``.
    func close() async {
        let schedule = waiting.withLock { waiting in
            guard !waiting.closeRequested else { return false }
            waiting.closeRequested = true
            defer { waiting.scheduled = true }
            return !waiting.scheduled
        }
        if schedule { channel.eventLoop.execute { self.writeWaiting() } }
    }

    /// Waits until the socket has ended (at most ``closeTimeout`` after ``close()``).
    func closed() async {
        try? await channel.closeFuture.get()
    }

    /// Drops the connection without a close handshake.
    func cancel() {
        channel.close(promise: nil)
    }
}

/// Loopback source addresses for the generator's connections, taken in turn.
///
/// Connecting many sockets from 127.0.0.1 to one listening port makes the kernel search the one address's
/// ephemeral ports for a free pair at every connect: with 19,000 connections to the raw relay's single port, that
/// search (`__inet_hash_connect`, `__inet_check_established`) was half the generator's CPU. Spreading connections
/// over 64 addresses of 127.0.1.0/24 (all of 127/8 is loopback on Linux) keeps each address's share small.
enum SourceAddresses {
    /// How many addresses: 127.0.1.1 to 127.0.1.64.
    static let count = 64
    private static let nextIndex = Atomic<Int>(0)

    /// `IP_BIND_ADDRESS_NO_PORT`: a bind to port 0 leaves the port to `connect`.
    static let bindAddressNoPort = ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24))

    /// The next source address for a connection to `host`, or `nil` (the kernel chooses) when `host` is not
    /// 127.0.0.1 or the system is not Linux.
    static func next(toward host: String) throws -> SocketAddress? {
        #if os(Linux)
        guard host == "127.0.0.1" else { return nil }
        let index = nextIndex.add(1, ordering: .relaxed).oldValue % count
        return try SocketAddress(ipAddress: "127.0.1.\(index + 1)", port: 0)
        #else
        return nil
        #endif
    }
}

/// Where a `ws://HOST:PORT/PATH?QUERY` URL points.
private struct WebSocketAddress {
    var host: String
    var port: Int
    /// The path with its query.
    var path: String

    init(_ url: String) throws {
        // An IP address, not a name: the generator connects to it without a resolver (getaddrinfo on every connect
        // was 15 % of the generator's time in `idle`).
        guard url.hasPrefix("ws://") else { throw BenchError("Only ws:// URLs are supported, not \(url).") }
        let rest = url.dropFirst("ws://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let path = rest.dropFirst(authority.count)
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...])
        else {
            throw BenchError("\(url) has no port.")
        }
        host = String(authority[..<colon])
        guard (try? SocketAddress(ipAddress: host, port: port)) != nil else {
            throw BenchError("\(url) names a host, not an IP address: the generator connects to an IP address only.")
        }
        self.port = port
        self.path = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
    }
}

/// Serves one client WebSocket on its event loop: hands each text message (reassembled from fragments) to
/// `onText` (the first one to `firstFrame`), answers pings, and answers a close frame (or takes the answer to its own)
/// and closes.
private final class WireSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// The largest message reassembled from fragments (a single frame is capped by the decoder's `maxFrameSize`).
    static let maxMessageSize = 1 << 24

    let firstFrame: EventLoopPromise<String>
    private let onText: @Sendable (String) -> Void
    private var firstFrameArrived = false
    private var fragments: ByteBuffer?
    private var closing = false

    init(onText: @escaping @Sendable (String) -> Void, firstFrame: EventLoopPromise<String>) {
        self.onText = onText
        self.firstFrame = firstFrame
    }

    /// A masked text frame, as a client sends them.
    static func textFrame(_ text: String) -> WebSocketFrame {
        WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            if frame.fin { deliver(frame.unmaskedData) } else { fragments = frame.unmaskedData }
        case .continuation:
            guard var buffer = fragments else { return }
            var data = frame.unmaskedData
            guard buffer.readableBytes + data.readableBytes <= Self.maxMessageSize else {
                fragments = nil
                context.fireErrorCaught(WireSocket.MessageTooLarge())
                context.close(promise: nil)
                return
            }
            buffer.writeBuffer(&data)
            if frame.fin {
                fragments = nil
                deliver(buffer)
            } else {
                fragments = buffer
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            if !closing {
                closing = true
                let answer = WebSocketFrame(
                    fin: true, opcode: .connectionClose, maskKey: .random(), data: frame.unmaskedData
                )
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in bound.value.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    private func deliver(_ buffer: ByteBuffer) {
        let text = String(buffer: buffer)
        if firstFrameArrived {
            onText(text)
        } else {
            firstFrameArrived = true
            firstFrame.succeed(text)
        }
    }

    /// Notes a close frame this side sends, so that the server's answer to it is not answered again.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if unwrapOutboundIn(data).opcode == .connectionClose { closing = true }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !firstFrameArrived { firstFrame.fail(WireSocket.ClosedEarly()) }
        firstFrameArrived = true
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !firstFrameArrived { firstFrame.fail(WireSocket.ClosedEarly(underlying: error)) }
        firstFrameArrived = true
        // NIOWebSocket's protocol error handler answers a malformed frame with a close frame and closes the channel
        // after writing it; closing here at once could cut that frame off.
        if !(error is NIOWebSocketError) { context.close(promise: nil) }
    }
}
