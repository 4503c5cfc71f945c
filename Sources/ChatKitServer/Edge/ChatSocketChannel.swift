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

import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// HTTP/1 with the WebSocket upgrade (Hummingbird's channel), tuned for many sockets of small frames.
///
/// - Each socket reads into a buffer that starts small. NIO keeps a socket's read buffer between reads, at the
///   size its receive allocator last chose: 2 KiB by default, about a twentieth of an idle connection's memory.
///   Chat frames are small; this allocator starts at 512 bytes (an upgrade request or a `hello` fits), shrinks
///   to 64 on a quiet socket and grows to 64 KiB for a busy one, as NIO's adaptive allocator does.
/// - Flushes are coalesced (``FlushCoalescingHandler``): frames written back to back leave in one system call.
/// - A long poll learns when its client has gone (``ClientGoneHandler``), as on ``ChatEdgeChannel``: Hummingbird
///   allows half-closed connections, so a client that closed its side leaves the channel open until the poll's
///   answer is written, which the poll would otherwise hold back for its whole wait.
struct ChatSocketChannel: ServerChildChannel {
    /// The receive allocator of every accepted socket.
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    /// Hummingbird's HTTP/1 channel with the WebSocket upgrade, which this one sets up and serves.
    let base: HTTP1WebSocketUpgradeChannel

    /// Sets the read allocator and adds the flush coalescing and the client-gone watch next to the socket, then
    /// Hummingbird's handlers.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        channel.setOption(ChannelOptions.recvAllocator, value: Self.allocator).flatMapThrowing {
            // Next to the socket, so that it sees every flush and close of the handlers added after it.
            try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler(), position: .first)
            try channel.pipeline.syncOperations.addHandler(ClientGoneHandler(), position: .first)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    /// Serves the connection as Hummingbird's channel does.
    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
