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
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Runs the tasks that serve connections in many small task groups instead of one large one.
///
/// Hummingbird serves every accepted socket in a child task of one task group per listening port. Swift's
/// runtime (6.3 and earlier) keeps a group's children in a singly linked list and, when a child ends, walks the
/// list to unlink it (swiftlang/swift#71212): with N open connections, each connection that closes costs a walk
/// over up to N tasks. In a reconnect storm of 10,000 clients over four ports that walk was 16 % of the
/// server's CPU. Here the server's child task hands its connection to one of ``count`` shards, round robin,
/// and ends at once; each shard serves its connections in a group of its own, so a close walks about
/// N / ``count`` tasks.
///
/// It is a `Service` of the standalone server's service group, listed before the HTTP application so that it
/// shuts down after it: the application stops accepting first, then the shards stop taking connections and
/// wait for the ones they serve. Connections see the graceful shutdown of the shards' service (no longer the
/// application's), once the application has returned, and its cancellation; their tasks inherit the task-local
/// values of the shards' task, not of Hummingbird's server task. A connection handed over before ``run()``
/// starts waits for it; one handed over after the shards stopped is served in the caller's task.
///
/// Hummingbird's server now returns as soon as its listener is closed (its child tasks end at once), and with
/// it its date cache: responses written while connections drain carry the date it last had.
final class ConnectionShards: Service, Sendable {
    /// Serves one connection.
    typealias Work = @Sendable () async -> Void

    /// How many shards (task groups) share the connections.
    let count: Int
    private let shards: [Shard]
    private let nextShard = Atomic<Int>(0)

    /// - Parameter count: How many task groups share the connections; at least one.
    init(count: Int = 256) {
        self.count = max(1, count)
        shards = (0..<self.count).map { _ in Shard() }
    }

    /// Serves a connection in the next shard and returns at once, or serves it here (returning when it is
    /// done) once the shards have stopped.
    func serve(_ work: @escaping Work) async {
        if !start(work) { await work() }
    }

    /// Starts `work` in the next shard and returns at once; `false` (and `work` is not run) once the shards have
    /// stopped. Sockets served from event loops start their sessions' short-lived workers this way.
    func start(_ work: @escaping Work) -> Bool {
        let index = (nextShard.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max) % count
        return shards[index].add(work)
    }

    /// Runs the shards until a graceful shutdown or cancellation, then stops taking connections and returns once
    /// every connection it took is done.
    ///
    /// A connection taken is always served, also on cancellation (it then sees the cancellation and closes):
    /// a shard waits for its next connection without observing cancellation and ends only when it is stopped
    /// and has none left.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            for shard in shards {
                group.addTask {
                    await withDiscardingTaskGroup { connections in
                        while let work = await shard.next() {
                            connections.addTask { await work() }
                        }
                    }
                }
            }
            try? await gracefulShutdown()
            for shard in shards { shard.stop() }
        }
    }

    /// The connections waiting for one shard's task to start them.
    private final class Shard: Sendable {
        private struct State {
            /// Connections not yet started, from `head` on (taken ones are dropped when the queue empties).
            var waiting: [Work] = []
            var head = 0
            var next: CheckedContinuation<Work?, Never>?
            var isStopped = false
        }

        private let state = Mutex(State())

        /// Queues a connection; `false` if the shard has stopped.
        func add(_ work: @escaping Work) -> Bool {
            let (added, next) = state.withLock { state -> (Bool, CheckedContinuation<Work?, Never>?) in
                guard !state.isStopped else { return (false, nil) }
                if let next = state.next {
                    state.next = nil
                    return (true, next)
                }
                state.waiting.append(work)
                return (true, nil)
            }
            next?.resume(returning: work)
            return added
        }

        /// Stops taking connections; the shard ends once those already taken have started.
        func stop() {
            let next = state.withLock { state in
                state.isStopped = true
                defer { state.next = nil }
                return state.next
            }
            next?.resume(returning: nil)
        }

        /// The next connection, waiting for one (without observing cancellation); `nil` once stopped and empty.
        func next() async -> Work? {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Work?? in
                    if state.head < state.waiting.count {
                        let work = state.waiting[state.head]
                        state.head += 1
                        if state.head == state.waiting.count {
                            state.waiting.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                        return .some(work)
                    }
                    if state.isStopped { return .some(nil) }
                    state.next = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}

/// A server child channel whose connections are served by ``ConnectionShards`` instead of the server's task group.
struct ShardedChildChannel<Base: ServerChildChannel>: ServerChildChannel {
    /// The channel that sets up and serves each connection.
    let base: Base
    /// Where connections are served.
    let shards: ConnectionShards

    /// Sets the connection up as `base` does.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Base.Value> {
        base.setup(channel: channel, logger: logger)
    }

    /// Hands the connection to a shard, which serves it as `base` does.
    func handle(value: Base.Value, logger: Logger) async {
        let base = base
        await shards.serve { await base.handle(value: value, logger: logger) }
    }
}
