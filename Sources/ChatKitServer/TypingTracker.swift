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

/// Who is typing where. Typing is never stored: it lives here until stopped or expired.
///
/// Broadcasts are bounded per user and conversation: a start is broadcast at most once per refresh interval,
/// counting the starts before a stop (so toggling typing off and on cannot send a broadcast to every member per
/// request); one held back is broadcast when the interval ends if the user still types; and a stop or expiry goes
/// to those its start was delivered to who are still members (``removed(_:from:)``).
final class TypingTracker: Sendable {
    struct Key: Hashable, Sendable {
        var conversation: ConversationID
        var user: UserID
    }

    fileprivate struct Entry {
        var generation: Int
        /// When this typing's start was last broadcast (or the one before a stop, for a start that was not).
        var lastBroadcast: Duration
        /// Whether the other members were told that the user is typing.
        var isShown: Bool
        /// A start held back by the interval is to be shown when it ends (``show(_:now:)``).
        var isShowPending = false
        /// The users a start of this typing was delivered to, less those removed since: its stop goes to them, with
        /// no read of the members (which could fail and lose it) and under the lock that starts are delivered under
        /// (so a stop read before a newer start cannot be delivered after it).
        var shownTo: Set<UserID> = []
    }

    fileprivate struct State {
        var entries: [Key: Entry] = [:]
        /// When the starts of typing that has stopped were last broadcast, while that still holds back a new start.
        var recentStarts: [Key: Duration] = [:]
        /// `recentStarts` is pruned when it grows past this.
        var pruneAt = 1024
        /// How many removals from each conversation were noted (``removed(_:from:)``), while few conversations
        /// have any; past ``maximumRemovalCounts`` the counts are forgotten and `removalEpoch` moves on.
        var removalCounts: [ConversationID: Int] = [:]
        var removalEpoch = 0
    }

    private let state = Mutex(State())
    private let generations = Atomic<Int>(0)
    /// The shortest time between two broadcast starts of one user in one conversation.
    private let refreshInterval: Duration

    init(refreshInterval: Duration) {
        self.refreshInterval = refreshInterval
    }

    /// What ``start(_:now:)`` decided.
    struct Start {
        /// Whether to broadcast the start now.
        var broadcast: Bool
        /// The generation the expiry timer must present.
        var generation: Int
        /// When to show a start held back by the interval (``show(_:now:)``), if a timer must be set for it.
        var showAt: Duration?
    }

    /// Records typing at `now`: a start, or a refresh. It is broadcast if no start was in the last refresh
    /// interval; a start held back is shown when the interval ends (`showAt`), if the user still types.
    func start(_ key: Key, now: Duration) -> Start {
        let generation = generations.wrappingAdd(1, ordering: .relaxed).newValue
        return state.withLock { state in
            let existing = state.entries[key]
            let last = existing?.lastBroadcast ?? state.recentStarts.removeValue(forKey: key)
            let broadcast = last.map { now - $0 >= refreshInterval } ?? true
            var entry = Entry(
                generation: generation, lastBroadcast: broadcast ? now : last ?? now,
                isShown: broadcast || (existing?.isShown ?? false), isShowPending: existing?.isShowPending ?? false,
                shownTo: existing?.shownTo ?? []
            )
            var showAt: Duration?
            if !entry.isShown, !entry.isShowPending, let last {
                entry.isShowPending = true
                showAt = last + refreshInterval
            }
            state.entries[key] = entry
            return Start(broadcast: broadcast, generation: generation, showAt: showAt)
        }
    }

    /// Shows a start that the interval held back, if the user still types and it is not shown yet: `true` if it
    /// is to be broadcast now.
    func show(_ key: Key, now: Duration) -> Bool {
        state.withLock { state in
            guard var entry = state.entries[key], !entry.isShown else { return false }
            entry.isShown = true
            entry.isShowPending = false
            entry.lastBroadcast = now
            state.entries[key] = entry
            return true
        }
    }

    /// Records an explicit stop (a sent message, a removal) at `now`, and runs `tell` under the tracker's lock with
    /// the users the typing's start was delivered to, if any: they are to be told it stopped.
    func stop(_ key: Key, now: Duration, tell: (Set<UserID>) -> Void) {
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: key) else { return }
            state.remember(key, entry, now: now, refreshInterval: refreshInterval)
            if !entry.shownTo.isEmpty { tell(entry.shownTo) }
        }
    }

    /// Runs `deliver` (a start's broadcast to `users`) under the tracker's lock if `key` still types with its start
    /// shown, and records them as shown it. A stop or expiry takes the same lock and tells those recorded, so a
    /// start read before a stop (the typer removed, say) is either delivered before the stop is decided, and the stop
    /// follows it to the same users, or not at all: never after the stop, which would leave the others showing the
    /// user typing with no stop to come. Likewise a stop cannot reach anyone after a newer start. (A newer typing not
    /// shown yet, from another device within the refresh interval, would end without a stop: it does not let an
    /// older start through.)
    ///
    /// - Parameter removals: ``removals(from:)`` of `key`'s conversation as read before `users` were: if a member was
    ///   removed from it since, nothing is delivered and the answer is `false` (read the members again), so that a
    ///   start never reaches a user after their removal.
    /// - Returns: `false` if removals were noted since `removals`, else `true` (whether or not it was delivered).
    func whileTyping(_ key: Key, to users: [UserID], removals: Removals, _ deliver: () -> Void) -> Bool {
        state.withLock { state in
            guard state.removals(from: key.conversation) == removals else { return false }
            guard state.entries[key]?.isShown == true else { return true }
            deliver()
            state.entries[key]?.shownTo.formUnion(users)
            return true
        }
    }

    /// The removals noted from a conversation so far, to compare: read before its members are read for a start's
    /// delivery (``whileTyping(_:to:removals:_:)``).
    struct Removals: Equatable, Sendable {
        fileprivate var epoch: Int
        fileprivate var count: Int
    }

    /// The most conversations whose removals are counted at once; past it all counts are forgotten (a start whose
    /// members were read before then reads them again).
    static let maximumRemovalCounts = 4096

    /// The removals noted from `conversation` so far.
    func removals(from conversation: ConversationID) -> Removals {
        state.withLock { $0.removals(from: conversation) }
    }

    /// Notes that `user` left or was removed from `conversation`, once the removal has committed: starts whose
    /// members were read before it are not delivered, and `user` no longer hears the stop of typing shown to them
    /// there. Runs `tell` under the tracker's lock with each typing that was shown to `user`, to tell them it stopped
    /// now: added back before it stops, they would never hear that stop, and show it for good.
    func removed(_ user: UserID, from conversation: ConversationID, tell: (Key) -> Void) {
        state.withLock { state in
            if state.removalCounts[conversation] == nil, state.removalCounts.count >= Self.maximumRemovalCounts {
                state.removalCounts = [:]
                state.removalEpoch &+= 1
            }
            state.removalCounts[conversation, default: 0] &+= 1
            for key in state.entries.keys where key.conversation == conversation {
                if state.entries[key]?.shownTo.remove(user) != nil { tell(key) }
            }
        }
    }

    /// The conversations `user` types in now (shown or held back).
    func conversations(typedInBy user: UserID) -> [ConversationID] {
        state.withLock { state in state.entries.keys.filter { $0.user == user }.map(\.conversation) }
    }

    /// How many keys the tracker holds, typing or remembered (observed by tests).
    var keyCount: Int { state.withLock { $0.entries.count + $0.recentStarts.count } }

    /// Expires typing that was not refreshed since `generation`, and runs `tell` as ``stop(_:now:tell:)`` does.
    func expire(_ key: Key, generation: Int, now: Duration, tell: (Set<UserID>) -> Void) {
        state.withLock { state in
            guard let entry = state.entries[key], entry.generation == generation else { return }
            state.entries[key] = nil
            state.remember(key, entry, now: now, refreshInterval: refreshInterval)
            if !entry.shownTo.isEmpty { tell(entry.shownTo) }
        }
    }
}

extension TypingTracker.State {
    fileprivate func removals(from conversation: ConversationID) -> TypingTracker.Removals {
        TypingTracker.Removals(epoch: removalEpoch, count: removalCounts[conversation] ?? 0)
    }

    /// Keeps a stopped typing's last start broadcast while it holds back a new one; drops those that no longer do
    /// once there are many.
    fileprivate mutating func remember(
        _ key: TypingTracker.Key, _ entry: TypingTracker.Entry, now: Duration, refreshInterval: Duration
    ) {
        guard now - entry.lastBroadcast < refreshInterval else { return }
        recentStarts[key] = entry.lastBroadcast
        if recentStarts.count > pruneAt {
            recentStarts = recentStarts.filter { now - $0.value < refreshInterval }
            pruneAt = max(1024, 2 * recentStarts.count)
        }
    }
}
