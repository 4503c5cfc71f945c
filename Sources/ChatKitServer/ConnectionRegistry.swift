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

    /// A connection being admitted: its token was (or is being) checked, and it is not registered yet. A login
    /// session revoked meanwhile finds no connection to close, so
    /// ``add(_:connection:outbox:sessionID:isLongPoll:admission:)`` checks the revocations made since
    /// ``beginAdmission()``.
    final class Admission: Sendable {
        fileprivate let generation: UInt64
        /// Set once the admission ended: ending it again does nothing.
        fileprivate let isEnded = Atomic<Bool>(false)

        fileprivate init(generation: UInt64) {
            self.generation = generation
        }
    }

    /// The revocations that connections still being admitted must check.
    private struct Revocations {
        /// Counts revocations.
        var generation: UInt64 = 0
        /// The admissions in flight, by the generation they began at.
        var admitting: [UInt64: Int] = [:]
        /// The revocations newer than the oldest admission in flight (none when none is in flight).
        var recent: [(generation: UInt64, user: UserID, sessionID: String?)] = []

        mutating func end(_ admission: Admission) {
            guard !admission.isEnded.exchange(true, ordering: .relaxed) else { return }
            let left = (admitting[admission.generation] ?? 1) - 1
            admitting[admission.generation] = left > 0 ? left : nil
            guard let oldest = admitting.keys.min() else {
                recent = []
                return
            }
            recent.removeAll { $0.generation <= oldest }
        }

        func isRevoked(_ user: UserID, sessionID: String?, since admission: Admission) -> Bool {
            recent.contains { revocation in
                revocation.generation > admission.generation && revocation.user == user
                    && (revocation.sessionID == nil || revocation.sessionID == sessionID)
            }
        }
    }

    private let shards: [Shard]
    private let revocations = Mutex(Revocations())
    private let nextConnectionID = Atomic<Int>(0)
    /// How many connections are registered. Changed and reported to the metrics under one lock: two changes
    /// reported outside it could reach the gauge in the other order and leave it wrong until the next change.
    private let openConnections = Mutex<Int>(0)
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
    var connectionCount: Int { openConnections.withLock { $0 } }

    /// A new connection ID, unique within the server.
    func makeConnectionID() -> Int {
        nextConnectionID.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Begins admitting a connection: call it before checking its token. Registering the connection
    /// (``add(_:connection:outbox:sessionID:isLongPoll:admission:)``) ends the admission; ``endAdmission(_:)`` ends
    /// one that registers nothing (a refused token, a failed handshake), and does nothing after `add`, so a caller
    /// may defer it.
    func beginAdmission() -> Admission {
        revocations.withLock { revocations in
            let admission = Admission(generation: revocations.generation)
            revocations.admitting[admission.generation, default: 0] += 1
            return admission
        }
    }

    /// Ends an admission, unless it has ended (its connection was registered).
    func endAdmission(_ admission: Admission) {
        revocations.withLock { $0.end(admission) }
    }

    /// Why ``add(_:connection:outbox:sessionID:isLongPoll:admission:)`` registered nothing.
    enum Refusal: Error {
        /// The login session was revoked since the admission began (``revoke(_:sessionID:)``).
        case revoked
        /// The user holds as many connections as ``ChatServerConfiguration/Limits/maxConnectionsPerUser``.
        case tooManyConnections
    }

    /// Registers a connection and ends its admission; registers nothing, and says why, if the login session it was
    /// opened with was revoked since the admission began, or the user already holds `maxPerUser` connections.
    func add(
        _ user: UserID, connection id: Int, outbox: Outbox, sessionID: String?, isLongPoll: Bool = false,
        maxPerUser: Int = .max, admission: Admission
    ) -> Refusal? {
        // Registered under the revocations' lock: a revocation either comes before, and is seen here, or after,
        // and finds the connection.
        let refusal = revocations.withLock { revocations -> Refusal? in
            defer { revocations.end(admission) }
            guard !revocations.isRevoked(user, sessionID: sessionID, since: admission) else { return .revoked }
            return shard(user).connections.withLock { connections -> Refusal? in
                guard connections[user, default: [:]].count < maxPerUser else { return .tooManyConnections }
                connections[user, default: [:]][id] = Entry(
                    outbox: outbox, sessionID: sessionID, isLongPoll: isLongPoll
                )
                return nil
            }
        }
        if refusal == nil { countConnections(by: 1) }
        return refusal
    }

    /// Revokes the outboxes of the user's connections opened with login session `sessionID` (all when `nil`),
    /// and refuses the connections of that session still being admitted.
    func revoke(_ user: UserID, sessionID: String?) {
        revocations.withLock { revocations in
            revocations.generation += 1
            if !revocations.admitting.isEmpty {
                revocations.recent.append((revocations.generation, user, sessionID))
            }
        }
        for outbox in outboxes(of: user, session: sessionID) { outbox.revoke() }
    }

    /// Unregisters a connection.
    func remove(_ user: UserID, connection id: Int) {
        let removed = shard(user).connections.withLock { connections in
            let removed = connections[user]?.removeValue(forKey: id) != nil
            if connections[user]?.isEmpty == true { connections[user] = nil }
            return removed
        }
        // A connection removed twice (or never added) is counted once (or not at all).
        if removed { countConnections(by: -1) }
    }

    private func countConnections(by change: Int) {
        openConnections.withLock { count in
            count += change
            metrics.connectionsChanged(to: count)
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

    /// Ends every connection's outbox for a catch-up (``Outbox/endForCatchUp()``): sessions close with the reason
    /// `resync`, waiting long polls answer with what they read (their clients poll again from their cursors).
    /// Returns how many were ended.
    @discardableResult
    func endAllForCatchUp() -> Int {
        let outboxes = shards.flatMap { shard in
            shard.connections.withLock { connections in connections.values.flatMap { $0.values.map(\.outbox) } }
        }
        for outbox in outboxes { outbox.endForCatchUp() }
        return outboxes.count
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

    /// Queues a frame (presence, typing) for every session of `users`. Not for their waiting long polls, which
    /// answer stored events only: such a frame would end each one's wait for nothing (and a store read).
    func deliver(_ frame: String, to users: some Sequence<UserID>) {
        for user in users {
            let outboxes = shard(user).connections.withLock { connections in
                (connections[user] ?? [:]).values.filter { !$0.isLongPoll }.map(\.outbox)
            }
            for outbox in outboxes { outbox.enqueue(frame) }
        }
    }
}
