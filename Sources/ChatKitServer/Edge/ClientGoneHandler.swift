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
/// wait runs out. It sits first in a plain HTTP connection's pipeline and passes everything on.
final class ClientGoneHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private var isGone = false
    /// The waiting poll's callback: HTTP/1 answers one request at a time, so a connection has one poll at most,
    /// and a later poll's callback replaces an earlier one's.
    private var waiter: (id: UInt64, leave: @Sendable () -> Void)?
    private var nextID: UInt64 = 0

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

    /// Calls `leave` once the client has gone, at once if it has; on the channel's event loop. Returns what to
    /// pass to ``stopWaiting(_:)``.
    func whenGone(_ leave: @escaping @Sendable () -> Void) -> UInt64 {
        nextID &+= 1
        if isGone {
            leave()
        } else {
            waiter = (nextID, leave)
        }
        return nextID
    }

    /// Forgets the callback registered as `id` (its poll ended), so that it does not outlive it.
    func stopWaiting(_ id: UInt64) {
        if waiter?.id == id { waiter = nil }
    }

    private func gone() {
        guard !isGone else { return }
        isGone = true
        let leave = waiter?.leave
        waiter = nil
        leave?()
    }

    /// Calls `leave` once the client of `channel` has gone (see ``ClientGoneHandler``), or once the channel closes
    /// when it has no such handler; returns a closure that forgets `leave` (call it when the poll ends: a
    /// keep-alive connection serves many polls).
    static func whenClientLeaves(
        _ channel: any Channel, _ leave: @escaping @Sendable () -> Void
    ) -> @Sendable () -> Void {
        let pending = LeaveOnce(leave)
        channel.eventLoop.execute {
            if let handler = try? channel.pipeline.syncOperations.handler(type: ClientGoneHandler.self) {
                let id = handler.whenGone { pending.run() }
                pending.onStop {
                    channel.eventLoop.execute {
                        (try? channel.pipeline.syncOperations.handler(type: ClientGoneHandler.self))?.stopWaiting(id)
                    }
                }
            } else {
                channel.closeFuture.whenComplete { _ in pending.run() }
            }
        }
        return { pending.stop() }
    }
}

/// A callback that runs at most once and can be dropped before: what a long poll left with the connection.
private final class LeaveOnce: Sendable {
    private struct State {
        var leave: (@Sendable () -> Void)?
        var onStop: (@Sendable () -> Void)?
        var isStopped = false
    }

    private let state: Mutex<State>

    init(_ leave: @escaping @Sendable () -> Void) {
        state = Mutex(State(leave: leave))
    }

    func run() {
        let leave = state.withLock { state in
            defer { state.leave = nil }
            return state.leave
        }
        leave?()
    }

    /// Drops the callback (releasing what it holds) and runs `onStop`'s clean-up.
    func stop() {
        let onStop = state.withLock { state in
            state.leave = nil
            state.isStopped = true
            defer { state.onStop = nil }
            return state.onStop
        }
        onStop?()
    }

    /// Runs `clean` when stopped, at once if stopped already.
    func onStop(_ clean: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if state.isStopped { return true }
            state.onStop = clean
            return false
        }
        if now { clean() }
    }
}
