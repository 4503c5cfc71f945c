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

/// HTTP/1 with the WebSocket upgrade (Hummingbird's channel), reading each socket into a buffer that starts small.
///
/// NIO keeps a socket's read buffer between reads, at the size its receive allocator last chose: 2 KiB by
/// default, about a twentieth of an idle connection's memory. Chat frames are small; this allocator starts at
/// 512 bytes (an upgrade request or a `hello` fits), shrinks to 64 on a quiet socket and grows to 64 KiB for a
/// busy one, as NIO's adaptive allocator does.
struct SmallReadBufferChannel: ServerChildChannel {
    /// The receive allocator of every accepted socket.
    static let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)

    let base: HTTP1WebSocketUpgradeChannel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        channel.setOption(ChannelOptions.recvAllocator, value: Self.allocator).flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
