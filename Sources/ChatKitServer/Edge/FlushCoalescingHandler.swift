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

/// Turns the flushes requested while the event loop works through its queue into one, so that frames written
/// back to back leave in one `writev` instead of one system call each (Netty's `FlushConsolidationHandler`).
///
/// The WebSocket writer flushes after every frame it is given: a reconnecting client's welcome and catch-up
/// events, an answer and its echo, a burst of deliveries each cost a system call, which was a fifth of the
/// server's CPU in a reconnect storm. Placed next to the socket, this handler answers a flush by queueing one
/// real flush on the event loop, behind the writes already queued there; further flushes until it runs are
/// absorbed. After ``maximumAbsorbedFlushes`` absorbed flushes it flushes at once, so a long queue does not hold
/// data back. A close flushes first, so nothing written before it is dropped.
final class FlushCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = Any

    /// Flushes absorbed before one is passed on at once.
    static let maximumAbsorbedFlushes = 64

    /// Flushes absorbed since the last real one; `nil` when no flush is queued.
    private var absorbed: Int?

    /// Queues one real flush behind the writes queued on the event loop, or absorbs this one if one is queued.
    func flush(context: ChannelHandlerContext) {
        guard let count = absorbed else {
            absorbed = 0
            context.eventLoop.assumeIsolated().execute { [self] in
                guard absorbed != nil else { return }
                absorbed = nil
                context.flush()
            }
            return
        }
        if count + 1 >= Self.maximumAbsorbedFlushes {
            absorbed = 0
            context.flush()
        } else {
            absorbed = count + 1
        }
    }

    /// Flushes what is written (a queued flush would come too late) and passes the close on.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if absorbed != nil {
            absorbed = nil
            context.flush()
        }
        context.close(mode: mode, promise: promise)
    }

    /// Flushes what is written if a flush is queued: once the handler is out of the pipeline, the queued flush
    /// would reach nothing.
    func handlerRemoved(context: ChannelHandlerContext) {
        if absorbed != nil {
            absorbed = nil
            context.flush()
        }
    }
}
