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

import Synchronization

/// A transport that connects clients and a server in the same process, without sockets.
///
/// Give the same instance to the server (as a ``ServerTransport``) and to clients (as a ``ClientTransport``).
/// Each ``connect()`` hands the server a new connection whose frames are the client's and vice versa. Tests
/// and apps that embed both sides use it.
///
/// ```swift
/// let transport = InProcessTransport()
/// // server: try await transport.serve { connection in await server.handle(connection) }
/// let connection = try await transport.connect()
/// ```
public final class InProcessTransport: ServerTransport, ClientTransport {
    private let pending: AsyncStream<Connection>
    private let pendingContinuation: AsyncStream<Connection>.Continuation
    private let nextPeer = Atomic<Int>(0)

    /// Creates a transport with no connections.
    public init() {
        (pending, pendingContinuation) = AsyncStream.makeStream(of: Connection.self)
    }

    /// Serves every connection opened with ``connect()`` until the calling task is cancelled.
    public func serve(_ onConnection: @escaping @Sendable (Connection) async -> Void) async throws {
        await withDiscardingTaskGroup { group in
            for await connection in pending {
                group.addTask {
                    await onConnection(connection)
                    await connection.outbound.close(.normal)
                }
            }
        }
    }

    /// Opens a connection, runs `body` with it, then closes it.
    public func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result)
        async throws -> Result
    {
        let connection = connect()
        do {
            let result = try await body(connection)
            await connection.outbound.close(.normal)
            return result
        } catch {
            await connection.outbound.close(.normal)
            throw error
        }
    }

    /// Opens a connection to the server that is serving this transport; the caller closes it. Never fails:
    /// frames wait until the server serves.
    public func connect() -> Connection {
        let number = nextPeer.wrappingAdd(1, ordering: .relaxed).newValue
        let toServer = AsyncThrowingStream.makeStream(of: String.self, throwing: (any Error).self)
        let toClient = AsyncThrowingStream.makeStream(of: String.self, throwing: (any Error).self)
        let serverSide = Connection(
            inbound: toServer.stream,
            outbound: Self.writer(sending: toClient.continuation, closing: toServer.continuation),
            peer: "in-process client \(number)"
        )
        pendingContinuation.yield(serverSide)
        return Connection(
            inbound: toClient.stream,
            outbound: Self.writer(sending: toServer.continuation, closing: toClient.continuation),
            peer: "in-process server"
        )
    }

    /// A writer that yields to `sending`; closing finishes both directions.
    private static func writer(
        sending: AsyncThrowingStream<String, any Error>.Continuation,
        closing: AsyncThrowingStream<String, any Error>.Continuation
    ) -> OutboundWriter {
        OutboundWriter(
            write: { frame in
                if case .terminated = sending.yield(frame) {
                    throw ConnectionClosedError()
                }
            },
            close: { reason in
                // The peer learns why, unless the close is normal.
                sending.finish(throwing: reason == .normal ? nil : ConnectionClosedError(reason: reason))
                closing.finish()
            }
        )
    }
}
