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

import ChatKitClient
import ChatKitServer

extension ChatServerConfiguration {
    /// A configuration for a test's server on the system clock: the default 10 s hello deadline.
    ///
    /// The whole suite runs its tests in parallel on two cores, and under that load a client's `hello` has reached
    /// the server more than 10 s after its connection: seventeen tests failed in one CI run, each closed with the
    /// reason `timeout`. A test's server therefore waits ``failsafeTimeout`` for it.
    static var loadTolerant: ChatServerConfiguration { ChatServerConfiguration().withLoadTolerantHelloDeadline }

    /// This configuration with the hello deadline raised to ``failsafeTimeout`` when it is the default: a test of
    /// the deadline itself sets a deadline of its own, or runs on a manual clock, which only the test moves.
    var withLoadTolerantHelloDeadline: ChatServerConfiguration {
        var configuration = self
        if helloTimeout == ChatServerConfiguration().helloTimeout { configuration.helloTimeout = failsafeTimeout }
        return configuration
    }
}

extension WebSocketServerTransport.Configuration {
    /// This configuration with the handshake deadline (a new connection's first request) raised from its default
    /// to ``failsafeTimeout``, for the same reason as ``ChatServerConfiguration/withLoadTolerantHelloDeadline``: a
    /// test of the deadline sets one of its own.
    var withLoadTolerantHandshakeDeadline: WebSocketServerTransport.Configuration {
        var configuration = self
        if handshakeTimeout == WebSocketServerTransport.Configuration().handshakeTimeout {
            configuration.handshakeTimeout = failsafeTimeout
        }
        return configuration
    }
}

extension WebSocketClientTransport.Configuration {
    /// This configuration with the time allowed to open a socket, upgrade included, raised from its default to
    /// ``failsafeTimeout``: a test of the limit sets one of its own.
    var withLoadTolerantConnectTimeout: WebSocketClientTransport.Configuration {
        var configuration = self
        if connectTimeout == WebSocketClientTransport.Configuration().connectTimeout {
            configuration.connectTimeout = failsafeTimeout
        }
        return configuration
    }
}

extension WebSocketClientTransport {
    /// A transport for a test's client, allowed ``failsafeTimeout`` to open its socket (see
    /// ``WebSocketClientTransport/Configuration/withLoadTolerantConnectTimeout``).
    static func loadTolerant(url: String) -> WebSocketClientTransport {
        WebSocketClientTransport(url: url, configuration: Configuration().withLoadTolerantConnectTimeout)
    }
}
