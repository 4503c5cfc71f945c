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
import ChatKitCore
import ChatKitServer
import ChatKitTesting
import Testing

/// The transports the package ships, against the transport conformance suite.
@Suite("Transport conformance")
struct TransportConformanceTests {
    @Test(arguments: TransportConformance.cases)
    func inProcess(_ check: TransportConformance.Case) async throws {
        try await check.run {
            let transport = InProcessTransport()
            return TransportConformance.Subject(server: transport, client: { transport })
        }
    }

    @Test(arguments: TransportConformance.cases)
    func webSocket(_ check: TransportConformance.Case) async throws {
        try await check.run {
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            var configuration = WebSocketServerTransport.Configuration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            let server = WebSocketServerTransport(
                configuration: configuration, onListening: { _, port in portContinuation.yield(port) }
            )
            return TransportConformance.Subject(
                server: server,
                client: {
                    guard let port = await ports.first(where: { _ in true }) else { throw CancellationError() }
                    return WebSocketClientTransport(url: "ws://127.0.0.1:\(port)/v1/ws")
                }
            )
        }
    }
}
