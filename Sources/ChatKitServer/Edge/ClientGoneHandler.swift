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

/// Tells whoever asks when an HTTP connection's client has gone: it closed its side (Hummingbird allows half-closed
/// connections, so the channel itself stays open until the response is written) or the connection ended.
///
/// Hummingbird does not cancel a request handler whose client went away; a long poll (`GET /v1/sync`) asks this
/// handler instead, so that it ends then rather than holding its place among the user's connections until its
/// wait runs out. It sits first in a plain HTTP connection's pipeline and passes everything on.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var isGone = false
    private var waiters: [@Sendable () -> Void] = []

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
        if isGone { leave() } else { waiters.append(leave) }
    }

    private func gone() {
        guard !isGone else { return }
        isGone = true
        let waiters = waiters
        self.waiters = []
        for leave in waiters { leave() }
    }

    /// Calls `leave` once the client of `channel` has gone (see ``ClientGoneHandler``), or once the channel closes
    /// when it has no such handler.
    static func whenClientLeaves(_ channel: any Channel, _ leave: @escaping @Sendable () -> Void) {
        channel.eventLoop.execute {
            if let handler = try? channel.pipeline.syncOperations.handler(type: ClientGoneHandler.self) {
                handler.whenGone(leave)
            } else {
                channel.closeFuture.whenComplete { _ in leave() }
            }
        }
    }
}
