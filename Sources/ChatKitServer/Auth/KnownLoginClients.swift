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

/// The clients (their keys: the address, for the HTTP edge) each username logged in from with its password
/// lately. Their attempts skip the username's bucket of failures, so that someone guessing from elsewhere, who can
/// empty that bucket, does not lock the owner out where they logged in before. Kept in memory, bounded: a restart
/// forgets them, and the owner is then treated as any new client until they log in once.
final class KnownLoginClients: Sendable {
    /// How many clients are kept per username; the least recently used go first.
    static let clientsPerUsername = 16
    /// How many usernames are kept by default; when there are more, those whose clients are all stale go first,
    /// then the least recently used tenth.
    static let defaultUsernameLimit = 100_000

    private struct State {
        /// Username → client → when it last logged in.
        var clients: [String: [String: Duration]] = [:]
    }

    private let lifetime: Duration
    private let usernameLimit: Int
    private let state = Mutex(State())
    /// How many times the table was pruned (it is read whole then): for tests.
    let prunings = Atomic<Int>(0)

    /// Clients are known for `lifetime` after their last successful login; at most `usernameLimit` usernames.
    init(lifetime: Duration, usernameLimit: Int = defaultUsernameLimit) {
        self.lifetime = lifetime
        self.usernameLimit = max(usernameLimit, 10)
    }

    /// Whether `client` logged in as `username` within the lifetime before `now`.
    func contains(_ client: String, of username: String, now: Duration) -> Bool {
        state.withLock { state in
            guard let last = state.clients[username]?[client] else { return false }
            return now - last <= lifetime
        }
    }

    /// Forgets every client of `username` (its password changed: they logged in with the old one).
    func forget(_ username: String) {
        _ = state.withLock { $0.clients.removeValue(forKey: username) }
    }

    /// Notes a successful login of `username` from `client` at `now`.
    func note(_ client: String, of username: String, now: Duration) {
        state.withLock { state in
            if state.clients[username] == nil, state.clients.count >= usernameLimit {
                // Room for a tenth of the limit at once: each pruning reads the whole table, so one per new username
                // (a full table's usual state) copied 100,000 entries under the lock at every such login.
                prunings.add(1, ordering: .relaxed)
                state.clients = state.clients.filter { _, clients in clients.values.contains { now - $0 <= lifetime } }
                let excess = state.clients.count - (usernameLimit - usernameLimit / 10)
                if excess > 0 {
                    let lastLogins = state.clients.map { name, clients in (name, clients.values.max() ?? .zero) }
                    for (name, _) in lastLogins.sorted(by: { $0.1 < $1.1 }).prefix(excess) {
                        state.clients[name] = nil
                    }
                }
            }
            var clients = state.clients[username] ?? [:]
            clients[client] = now
            if clients.count > Self.clientsPerUsername, let oldest = clients.min(by: { $0.value < $1.value }) {
                clients[oldest.key] = nil
            }
            state.clients[username] = clients
        }
    }
}
