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
        /// Bumped whenever this user is introduced to others (``noteIntroduction(involving:)``).
        var introductions = 0
        /// Whether the user's audience was told they came online (``markAnnounced(_:)``). A session that failed
        /// before telling them leaves an entry that is not: the next session tells them, however soon it comes.
        var isAnnounced = false
    }

    private struct State {
        var entries: [UserID: Entry] = [:]
        /// The offline period each user's pending "offline" update announces (``expire(_:generation:)``), until it
        /// is delivered, given up, or the user comes back.
        var announcements: [UserID: Int] = [:]
        var nextAnnouncement = 0
    }

    private let state = Mutex(State())

    /// Records a new connection; `true` if the user's audience is yet to be told they are online: they just came
    /// online (were offline), or the session that brought them online failed before telling (call
    /// ``markAnnounced(_:)`` once told).
    func connected(_ user: UserID) -> Bool {
        state.withLock { state in
            state.announcements[user] = nil
            let needsAnnouncement = !(state.entries[user]?.isAnnounced ?? false)
            var entry = state.entries[user] ?? Entry()
            entry.connections += 1
            entry.generation += 1
            state.entries[user] = entry
            return needsAnnouncement
        }
    }

    /// Records that the user's audience was told they are online.
    func markAnnounced(_ user: UserID) {
        state.withLock { $0.entries[user]?.isAnnounced = true }
    }

    /// Records a closed connection; returns the generation to pass to ``expire(_:generation:)`` after the grace
    /// period when it was the user's last connection.
    func disconnected(_ user: UserID) -> Int? {
        state.withLock { state in
            guard var entry = state.entries[user] else { return nil }
            entry.connections -= 1
            entry.generation += 1
            state.entries[user] = entry
            return entry.connections == 0 ? entry.generation : nil
        }
    }

    /// Marks the user offline if nothing changed since `generation`. Returns, when they just went offline, the
    /// announcement to pass to ``isAnnouncing(_:_:)`` and ``endAnnouncement(_:_:)`` while telling their audience.
    func expire(_ user: UserID, generation: Int) -> Int? {
        state.withLock { state in
            guard let entry = state.entries[user], entry.generation == generation, entry.connections == 0 else {
                return nil
            }
            state.entries[user] = nil
            state.nextAnnouncement += 1
            state.announcements[user] = state.nextAnnouncement
            return state.nextAnnouncement
        }
    }

    /// Whether `announcement` still says the truth: the user has stayed offline since it began.
    func isAnnouncing(_ user: UserID, _ announcement: Int) -> Bool {
        state.withLock { $0.announcements[user] == announcement }
    }

    /// Runs `deliver` if `announcement` still holds, under the tracker's lock: a reconnect cannot come between the
    /// check and the delivery (its "online" goes out after). Keep `deliver` quick (frames encoded before).
    func whileAnnouncing(_ user: UserID, _ announcement: Int, _ deliver: () -> Void) {
        state.withLock { state in
            if state.announcements[user] == announcement { deliver() }
        }
    }

    /// Ends `announcement` (delivered or given up), unless a later one took its place.
    func endAnnouncement(_ user: UserID, _ announcement: Int) {
        state.withLock { state in
            if state.announcements[user] == announcement { state.announcements[user] = nil }
        }
    }

    /// A mark that changes whenever presence between `user` and others is withdrawn while `user` is online: a
    /// session that read its audience, then finds the mark changed, may have shown (and been shown) users who no
    /// longer share presence with it.
    func withdrawalMark(_ user: UserID) -> Int {
        state.withLock { $0.entries[user]?.withdrawals ?? 0 }
    }

    /// Records that presence between `users` and others is being withdrawn (before the audiences are read).
    func noteWithdrawal(involving users: some Sequence<UserID>) {
        state.withLock { state in
            for user in users { state.entries[user]?.withdrawals += 1 }
        }
    }

    /// Marks that change whenever one of `users` who is online is introduced to others: a withdrawal that read its
    /// audience, then finds them changed, may be about to take back an introduction made after its read.
    func introductionMarks(_ users: Set<UserID>) -> [UserID: Int] {
        state.withLock { state in
            var marks: [UserID: Int] = [:]
            for user in users { marks[user] = state.entries[user]?.introductions }
            return marks
        }
    }

    /// Records that `users` are being introduced to others (before the frames go out).
    func noteIntroduction(involving users: some Sequence<UserID>) {
        state.withLock { state in
            for user in users { state.entries[user]?.introductions += 1 }
        }
    }

    /// Whether the user counts as online.
    func isOnline(_ user: UserID) -> Bool {
        state.withLock { $0.entries[user] != nil }
    }
}
