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

import ChatKitCore
import Synchronization

/// Which connections each user has open, sharded by user so that routing does not contend on one lock.
final class ConnectionRegistry: Sendable {
    private final class Shard: Sendable {
        let connections = Mutex<[UserID: [Int: Entry]]>([:])
    }

    /// One open connection.
    struct Entry: Sendable {
        var outbox: Outbox
        /// The login session the connection was opened with, if the authenticator tracks sessions.
        var sessionID: String?
        /// Whether this is a waiting long poll rather than a realtime session.
        var isLongPoll = false
    }

    private let shards: [Shard]
    private let nextConnectionID = Atomic<Int>(0)
    private let openConnections = Atomic<Int>(0)
    private let metrics: ServerMetrics

    init(shardCount: Int = 16, metrics: ServerMetrics) {
        shards = (0..<max(1, shardCount)).map { _ in Shard() }
        self.metrics = metrics
    }

    private func shard(_ user: UserID) -> Shard {
        var hasher = Hasher()
        hasher.combine(user)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }

    /// How many connections are open.
    var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    /// A new connection ID, unique within the server.
    func makeConnectionID() -> Int {
        nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Registers a connection.
    func add(_ user: UserID, connection id: Int, outbox: Outbox, sessionID: String?, isLongPoll: Bool = false) {
        metrics.connectionsChanged(to: openConnections.wrappingAdd(1, ordering: .relaxed).newValue)
        shard(user).connections.withLock { connections in
            connections[user, default: [:]][id] = Entry(outbox: outbox, sessionID: sessionID, isLongPoll: isLongPoll)
        }
    }

    /// Unregisters a connection.
    func remove(_ user: UserID, connection id: Int) {
        metrics.connectionsChanged(to: openConnections.wrappingSubtract(1, ordering: .relaxed).newValue)
        shard(user).connections.withLock { connections in
            connections[user]?[id] = nil
            if connections[user]?.isEmpty == true { connections[user] = nil }
        }
    }

    /// The outboxes of the user's connections opened with login session `sessionID` (all when `nil`).
    func outboxes(of user: UserID, session sessionID: String? = nil) -> [Outbox] {
        shard(user).connections.withLock { connections in
            (connections[user] ?? [:]).values.filter { sessionID == nil || $0.sessionID == sessionID }.map(\.outbox)
        }
    }

    /// The outboxes of every waiting long poll.
    func longPollOutboxes() -> [Outbox] {
        shards.flatMap { shard in
            shard.connections.withLock { connections in
                connections.values.flatMap { $0.values.filter(\.isLongPoll).map(\.outbox) }
            }
        }
    }

    /// Queues event frames, in position order, for every connection of `users`: each connection gets them in one
    /// hand-over (one wake-up of its writer).
    func deliverEvents(_ events: [RoutedEvent], to users: some Sequence<UserID>) {
        var deliveries = 0
        for user in users {
            for outbox in outboxes(of: user) {
                outbox.enqueueEvents(events)
                deliveries += events.count
            }
        }
        metrics.delivered(deliveries)
    }

    /// Queues a frame (presence, typing) for every connection of `users`.
    func deliver(_ frame: String, to users: some Sequence<UserID>) {
        for user in users {
            for outbox in outboxes(of: user) { outbox.enqueue(frame) }
        }
    }
}
