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
import Synchronization
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
            var configuration = WebSocketServerTransport.Configuration().withLoadTolerantHandshakeDeadline
            configuration.host = "127.0.0.1"
            configuration.port = 0
            let server = WebSocketServerTransport(
                configuration: configuration, onListening: { _, port in portContinuation.yield(port) }
            )
            return TransportConformance.Subject(
                server: server,
                client: {
                    guard let port = await ports.first(where: { _ in true }) else { throw CancellationError() }
                    return WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(port)/v1/ws")
                }
            )
        }
    }

    /// A client transport that garbles every seventh frame it writes (upper-cases it): the suite must catch it.
    struct GarblingClientTransport: ClientTransport {
        let base: any ClientTransport

        func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
            -> Result
        {
            try await base.withConnection { connection in
                let written = Atomic<Int>(0)
                let garbling = OutboundWriter(
                    write: { frame in
                        let number = written.wrappingAdd(1, ordering: .relaxed).newValue
                        try await connection.outbound.write(number % 7 == 0 ? frame.uppercased() : frame)
                    },
                    close: { reason in await connection.outbound.close(reason) }
                )
                return try await body(Connection(inbound: connection.inbound, outbound: garbling, peer: connection.peer))
            }
        }
    }

    @Test func theSuiteCatchesATransportThatChangesText() async throws {
        let garbled = TransportConformance.cases.filter { ["frames arrive in order, both ways"].contains($0.name) }
        try #require(garbled.count == 1)
        for check in garbled {
            await #expect(throws: ConformanceFailure.self) {
                try await check.run {
                    let transport = InProcessTransport()
                    return TransportConformance.Subject(
                        server: transport, client: { GarblingClientTransport(base: transport) }
                    )
                }
            }
        }
    }

    /// A client transport whose connections ignore `close`: the suite must catch a client left reading forever.
    struct UnclosableClientTransport: ClientTransport {
        let base: any ClientTransport

        func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
            -> Result
        {
            try await base.withConnection { connection in
                let unclosable = OutboundWriter(write: { try await connection.outbound.write($0) }, close: { _ in })
                return try await body(
                    Connection(inbound: connection.inbound, outbound: unclosable, peer: connection.peer)
                )
            }
        }
    }

    @Test func theSuiteCatchesAClientConnectionThatDoesNotClose() async throws {
        let checks = TransportConformance.cases.filter { $0.name.hasPrefix("a client that closes its connection") }
        try #require(checks.count == 1)
        await #expect(throws: ConformanceFailure.self) {
            try await checks[0].run {
                let transport = InProcessTransport()
                return TransportConformance.Subject(
                    server: transport, client: { UnclosableClientTransport(base: transport) }, timeout: .seconds(1)
                )
            }
        }
    }
}
