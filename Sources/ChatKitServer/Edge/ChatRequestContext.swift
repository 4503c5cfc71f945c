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

public import Hummingbird
public import HummingbirdWebSocket
public import NIOCore

/// A request context for ChatKit's routes in an application of your own (Documentation/Embedding.md), and the
/// standalone server's: WebSocket upgrades, the client's address, so that ``HTTPRoutes`` limits sign-ups and logins
/// per address (and a username's login attempts per client, so that guesses from elsewhere do not lock its owner
/// out), and the connection's channel, so that a long poll whose client left ends at once.
///
/// Hummingbird's `BasicWebSocketRequestContext` has neither the address nor the channel. With it (or a context of
/// your own without `RemoteAddressRequestContext`), the limits per address are off, every login attempt for a
/// username counts in one bucket (ten wrong guesses keep its owner out), and ``HTTPRoutes`` logs a warning once.
public struct ChatRequestContext: RequestContext, WebSocketRequestContext, RemoteAddressRequestContext,
    ChannelRequestContext
{
    /// Hummingbird's storage of the request's context.
    public var coreContext: CoreRequestContextStorage
    /// Where a WebSocket upgrade's handler goes.
    public let webSocket: WebSocketHandlerReference<Self>
    /// The address of the peer that sent the request (behind a proxy, the proxy's:
    /// ``HTTPRoutes/Configuration/trustedProxies`` tells whose address it names instead).
    public let remoteAddress: SocketAddress?
    /// The request's connection.
    public let channel: any Channel

    /// Creates the context of a request arriving on `source`'s channel.
    public init(source: ApplicationRequestContextSource) {
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
