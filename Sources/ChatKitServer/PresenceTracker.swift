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
import Foundation
import Synchronization

/// Whether each user is online: online while any device is connected, offline once the last one has been gone
/// for the grace period.
final class PresenceTracker: Sendable {
    /// A user counts as online while they have an entry: from their first connection until the grace period
    /// after their last one ends.
    private struct Entry {
        var connections = 0
        /// Bumped on every change, so a pending offline timer can tell it is stale.
        var generation = 0
        /// Bumped whenever presence between this user and others is withdrawn (``noteWithdrawal(involving:)``).
        var withdrawals = 0
    }

    private let entries = Mutex<[UserID: Entry]>([:])

    /// Records a new connection; `true` if the user just came online (was offline).
    func connected(_ user: UserID) -> Bool {
        entries.withLock { entries in
            let cameOnline = entries[user] == nil
            var entry = entries[user] ?? Entry()
            entry.connections += 1
            entry.generation += 1
            entries[user] = entry
            return cameOnline
        }
    }

    /// Records a closed connection; returns the generation to pass to ``expire(_:generation:)`` after the grace
    /// period when it was the user's last connection.
    func disconnected(_ user: UserID) -> Int? {
        entries.withLock { entries in
            guard var entry = entries[user] else { return nil }
            entry.connections -= 1
            entry.generation += 1
            entries[user] = entry
            return entry.connections == 0 ? entry.generation : nil
        }
    }

    /// Marks the user offline if nothing changed since `generation`; `true` if they just went offline.
    func expire(_ user: UserID, generation: Int) -> Bool {
        entries.withLock { entries in
            guard let entry = entries[user], entry.generation == generation, entry.connections == 0 else {
                return false
            }
            entries[user] = nil
            return true
        }
    }

    /// A mark that changes whenever presence between `user` and others is withdrawn while `user` is online: a
    /// session that read its audience, then finds the mark changed, may have shown (and been shown) users who no
    /// longer share presence with it.
    func withdrawalMark(_ user: UserID) -> Int {
        entries.withLock { $0[user]?.withdrawals ?? 0 }
    }

    /// Records that presence between `users` and others is being withdrawn (before the audiences are read).
    func noteWithdrawal(involving users: some Sequence<UserID>) {
        entries.withLock { entries in
            for user in users { entries[user]?.withdrawals += 1 }
        }
    }

    /// Whether the user counts as online.
    func isOnline(_ user: UserID) -> Bool {
        entries.withLock { $0[user] != nil }
    }
}
