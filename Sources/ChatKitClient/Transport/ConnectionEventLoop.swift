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

/// The event loop one connection of ``WebSocketClientTransport`` runs on, as
/// ``WebSocketClientTransport/Configuration/eventLoops`` says: a loop of its own, shut down when the connection
/// ends, or SwiftNIO's shared ones.
///
/// Shutting its own loop down is the one way to close the socket of an attempt given up on: swift-websocket's
/// client hands nothing of the socket out before the upgrade completes, and a server that never answers the upgrade
/// (or closed its side during it) would keep the socket open for good.
struct ConnectionEventLoop: Sendable {
    /// What the connection runs on.
    let group: any EventLoopGroup
    /// The connection's own loop; `nil` on the shared ones.
    private let owned: MultiThreadedEventLoopGroup?
    /// How long an attempt given up on may go on before its own loop is shut down under it.
    private let grace: Duration

    /// The default of ``WebSocketClientTransport/Configuration/abandonedAttemptGrace``: long enough for the host
    /// name's resolution to end (NIO resolves on a thread of its own and then schedules the answer on the loop, which
    /// must still run then; the system's resolver gives up within 30 s by default), short enough that a socket whose
    /// upgrade hangs is closed within a minute.
    static let defaultAbandonedAttemptGrace = Duration.seconds(60)

    /// - Parameters:
    ///   - choice: Which loops the connection runs on.
    ///   - grace: How long an attempt given up on may go on before its own loop is shut down under it.
    init(_ choice: WebSocketClientTransport.EventLoops, grace: Duration) {
        self.grace = grace
        if choice == .shared {
            group = MultiThreadedEventLoopGroup.singleton
            owned = nil
        } else {
            let own = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            group = own
            owned = own
        }
    }

    /// After the connection (and everything on its loop) ended: stops the connection's own loop.
    func shutDown() async {
        try? await owned?.shutdownGracefully()
    }

    /// After the attempt was given up on: shuts the connection's own loop down, closing the attempt's socket, once
    /// the attempt has ended (`attemptEnded` finishes), or after the grace given at `init` at the latest. Returns at
    /// once.
    func shutDown(whenEnded attemptEnded: AsyncStream<Never>) {
        guard let owned else { return }
        let grace = grace
        // Unstructured, as the attempt itself is (``WebSocketClientTransport/withConnection(_:)``): the caller's
        // task goes on at once.
        Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in attemptEnded {} }
                group.addTask { try? await Task.sleep(for: grace) }
                await group.next()
                group.cancelAll()
            }
            try? await owned.shutdownGracefully()
        }
    }
}
