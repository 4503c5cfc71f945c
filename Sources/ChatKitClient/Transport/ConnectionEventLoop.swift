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
    var group: any EventLoopGroup { owned ?? MultiThreadedEventLoopGroup.singleton }
    /// The connection's own loop; `nil` on the shared ones.
    private let owned: MultiThreadedEventLoopGroup?
    /// How long an attempt given up on (or one whose name's resolution may go on) keeps its own loop.
    private let grace: Duration

    /// The default of ``WebSocketClientTransport/Configuration/abandonedAttemptGrace``: long enough for the host
    /// name's resolution to end (NIO resolves on a thread of its own and then schedules the answer on the loop, which
    /// must still run then; the system's resolver gives up within 30 s by default), short enough that a socket whose
    /// upgrade hangs is closed within a minute. It must be longer than NIO's connect timeout (10 s), which ends a
    /// resolution's wait: shut down before, the loop would drop the resolution's answer and the attempt wait for it
    /// for good.
    static let defaultAbandonedAttemptGrace = Duration.seconds(60)

    /// - Parameters:
    ///   - choice: Which loops the connection runs on.
    ///   - grace: How long an attempt given up on may go on before its own loop is shut down under it.
    init(_ choice: WebSocketClientTransport.EventLoops, grace: Duration) {
        self.grace = grace
        owned = choice == .shared ? nil : MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// After the connection (and everything on its loop) ended: stops the connection's own loop.
    func shutDown() async {
        try? await owned?.shutdownGracefully()
    }

    /// After an attempt that ended without a socket (it failed with `error`): stops the connection's own loop, at
    /// once unless the host name's resolution may still be under way (``resolutionMayGoOn(after:)``); then a grace
    /// after now. Returns at once in that case.
    func shutDown(afterFailedAttempt error: any Error) async {
        guard Self.resolutionMayGoOn(after: error) else { return await shutDown() }
        shutDownInBackground(after: nil)
    }

    /// After the attempt was given up on: shuts the connection's own loop down, closing the attempt's socket, once
    /// the attempt has ended (`attemptEnded` finishes), or after the grace given at `init` at the latest; when the
    /// attempt ended in a way that leaves its name's resolution going on, at the end of the grace. Returns at once.
    ///
    /// - Parameters:
    ///   - attempt: The attempt's task.
    ///   - attemptEnded: Finishes when the attempt's task ends.
    func shutDown(whenEnded attempt: Task<Void, any Error>, _ attemptEnded: AsyncStream<Never>) {
        shutDownInBackground(after: (attempt, attemptEnded))
    }

    private func shutDownInBackground(after attempt: (task: Task<Void, any Error>, ended: AsyncStream<Never>)?) {
        guard let owned else { return }
        let grace = grace
        let deadline = ContinuousClock.now + grace
        // Unstructured, as the attempt itself is (``WebSocketClientTransport/withConnection(_:)``): the caller's
        // task goes on at once.
        Task {
            if let attempt {
                let ended = await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        for await _ in attempt.ended {}
                        return !Task.isCancelled
                    }
                    group.addTask {
                        try? await Task.sleep(until: deadline)
                        return false
                    }
                    defer { group.cancelAll() }
                    return await group.next() ?? false
                }
                if ended, case .failure(let error) = await attempt.task.result, !Self.resolutionMayGoOn(after: error) {
                    try? await owned.shutdownGracefully()
                    return
                }
            }
            try? await Task.sleep(until: deadline)
            try? await owned.shutdownGracefully()
        }
    }

    /// Whether an attempt that failed with `error` may have left its host name's resolution going on: NIO gives
    /// resolution and TCP connect together 10 seconds (`ChannelError.connectTimeout`), and the system's resolver
    /// call it started goes on after that, to hand its answer to the loop.
    static func resolutionMayGoOn(after error: any Error) -> Bool {
        if case ChannelError.connectTimeout = error { return true }
        return false
    }
}
