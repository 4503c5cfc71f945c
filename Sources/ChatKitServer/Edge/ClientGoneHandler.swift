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
import Synchronization

/// Tells whoever asks when an HTTP connection's client has gone: it closed its side (Hummingbird allows half-closed
/// connections, so the channel itself stays open until the response is written) or the connection ended.
///
/// Hummingbird does not cancel a request handler whose client went away; a long poll (`GET /v1/sync`) asks this
/// handler instead, so that it ends then rather than holding its place among the user's connections until its
/// wait runs out. It sits first in the pipeline of each connection the standalone server serves (``ChatEdgeChannel``:
/// plain HTTP connections; ``ChatSocketChannel``, with compression: every connection), or of an app's own server's
/// connection from its first poll (``whenClientLeaves(_:_:)``), and passes everything on.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var isGone = false
    /// The waiting poll's callback: HTTP/1 answers one request at a time, so a connection has one poll at most,
    /// and a later poll's callback replaces an earlier one's.
    private var waiter: (@Sendable () -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { gone() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        gone()
        context.fireChannelInactive()
    }

    /// Calls `leave` once the client has gone, at once if it has; on the channel's event loop.
    func whenGone(_ leave: @escaping @Sendable () -> Void) {
        if isGone { leave() } else { waiter = leave }
    }

    private func gone() {
        guard !isGone else { return }
        isGone = true
        let leave = waiter
        waiter = nil
        leave?()
    }

    /// Calls `leave` once the client of `channel` has gone (see ``ClientGoneHandler``); returns a closure that drops
    /// `leave` (call it when the poll ends: a keep-alive connection serves many polls, and what is left with it
    /// afterwards holds nothing of the poll's).
    ///
    /// A connection whose pipeline has no such handler (the chat API mounted on an app's own Hummingbird server)
    /// gets one, first in its pipeline, at its first poll. Waiting for the channel's `closeFuture` instead would
    /// leave a callback there at every poll, one that NIO cannot remove: a client polling on one keep-alive
    /// connection would grow the server's memory for as long as it kept polling.
    static func whenClientLeaves(
        _ channel: any Channel, _ leave: @escaping @Sendable () -> Void
    ) -> @Sendable () -> Void {
        let pending = LeaveOnce(leave)
        channel.eventLoop.execute {
            let pipeline = channel.pipeline.syncOperations
            if let handler = try? pipeline.handler(type: ClientGoneHandler.self) {
                handler.whenGone { pending.run() }
            } else if !channel.isActive {
                pending.run()
            } else {
                let handler = ClientGoneHandler()
                do {
                    try pipeline.addHandler(handler, position: .first)
                    handler.whenGone { pending.run() }
                } catch {
                    // The pipeline refused it (the channel is closing): the poll ends with the channel.
                    channel.closeFuture.whenComplete { _ in pending.run() }
                }
            }
        }
        return { pending.drop() }
    }
}

/// A callback that runs at most once and can be dropped before (releasing what it holds): what a long poll
/// leaves with its connection.
private final class LeaveOnce: Sendable {
    private let leave: Mutex<(@Sendable () -> Void)?>

    init(_ leave: @escaping @Sendable () -> Void) {
        self.leave = Mutex(leave)
    }

    func run() {
        let leave = self.leave.withLock { leave in
            defer { leave = nil }
            return leave
        }
        leave?()
    }

    func drop() {
        leave.withLock { $0 = nil }
    }
}
