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

import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the standalone server: WebSocket upgrades, the client's address so that
/// ``HTTPRoutes`` can limit sign-ups per address, and the channel, so that a socket whose peer stopped reading can
/// be closed outright.
struct EdgeRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext, ChannelRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<Self>
    let remoteAddress: SocketAddress?
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }
}

/// A request context that knows its connection's channel.
protocol ChannelRequestContext {
    var channel: any Channel { get }
}
