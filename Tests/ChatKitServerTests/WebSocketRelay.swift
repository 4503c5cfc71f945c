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
import NIOPosix
import Synchronization

/// A TCP relay on 127.0.0.1 in front of a server, whose sockets a test can cut: both sides see the TCP connection
/// end without a WebSocket close, as when a network drops.
final class TCPRelay: Sendable {
    let port: Int
    private let upstreamPort: Int
    private let channels = Mutex<[any Channel]>([])
    /// One flag per relayed connection: while set, its bytes are read and dropped in both directions (the path
    /// is dead, the sockets open).
    private final class Frozen: Sendable {
        let isSet = Atomic<Bool>(false)
    }
    private let frozenFlags = Mutex<[Frozen]>([])
    /// One flag per relayed connection: while set, the client's bytes are not read (what the server sends is
    /// forwarded as usual).
    private let clientReadingStops = Mutex<[Frozen]>([])

    private init(port: Int, upstreamPort: Int) {
        self.port = port
        self.upstreamPort = upstreamPort
    }

    /// Runs a relay to `upstreamPort` while `body` runs, then closes it. `clientReceiveBuffer` sets the size of the
    /// kernel's buffer for what clients send (by default the system's, which grows to tens of MB on loopback).
    static func run(
        to upstreamPort: Int, clientReceiveBuffer: Int? = nil, _ body: @Sendable (TCPRelay) async throws -> Void
    ) async throws {
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        if let clientReceiveBuffer {
            // Set on the listening socket, so that accepted ones have it from their handshake on.
            bootstrap = bootstrap.serverChannelOption(
                .socketOption(.so_rcvbuf), value: SocketOptionValue(clientReceiveBuffer)
            )
        }
        let server = try await bootstrap
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let relay = TCPRelay(port: server.channel.localAddress?.port ?? 0, upstreamPort: upstreamPort)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { connections in
                        for try await client in inbound {
                            connections.addTask { try? await relay.pipe(client) }
                        }
                    }
                }
            }
            defer {
                relay.cutAll()
                server.channel.close(promise: nil)
                group.cancelAll()
            }
            try await body(relay)
        }
    }

    /// Closes every relayed connection abruptly, on both sides.
    /// - Returns: How many sockets it closed (two for each relayed connection).
    @discardableResult
    func cutAll() -> Int {
        let open = channels.withLock { channels in
            defer { channels = [] }
            return channels
        }
        for channel in open { channel.close(promise: nil) }
        return open.count
    }

    /// Stops forwarding anything on the connections relayed now, in both directions, without closing a socket:
    /// as a network path that dies without a reset (a Wi-Fi roam, a NAT that forgot the connection). Only pings
    /// can tell. Connections made later are relayed as usual.
    func freezeAll() {
        for flag in frozenFlags.withLock({ $0 }) { flag.isSet.store(true, ordering: .relaxed) }
    }

    /// Stops reading what the clients of the connections relayed now send, without closing a socket; the server's
    /// bytes are still forwarded to them. A client's sends then fill the sockets' buffers and wait, as over a path that
    /// died while data waited to be sent.
    func stopReadingClients() {
        for flag in clientReadingStops.withLock({ $0 }) { flag.isSet.store(true, ordering: .relaxed) }
    }

    private func pipe(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws {
        let upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: upstreamPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        channels.withLock { $0 += [client.channel, upstream.channel] }
        let frozen = Frozen()
        frozenFlags.withLock { $0.append(frozen) }
        let clientReadingStopped = Frozen()
        clientReadingStops.withLock { $0.append(clientReadingStopped) }
        try await client.executeThenClose { clientIn, clientOut in
            try await upstream.executeThenClose { upstreamIn, upstreamOut in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await bytes in clientIn where !frozen.isSet.load(ordering: .relaxed) {
                            if clientReadingStopped.isSet.load(ordering: .relaxed) {
                                // Held, reading nothing more, until the relayed connection ends (which cancels this).
                                try await Task.sleep(for: .seconds(86_400))
                            }
                            try await upstreamOut.write(bytes)
                        }
                    }
                    group.addTask {
                        for try await bytes in upstreamIn where !frozen.isSet.load(ordering: .relaxed) {
                            try await clientOut.write(bytes)
                        }
                    }
                    // When either direction ends, the relayed connection is over.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}
