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
final class TypingTracker: Sendable {
    struct Key: Hashable, Sendable {
        var conversation: ConversationID
        var user: UserID
    }

    private struct Entry {
        var generation: Int
        var lastBroadcast: Duration
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let generations = Atomic<Int>(0)

    /// Records typing at `now`. Returns whether to broadcast (a start, or a refresh after `refreshInterval`) and
    /// the generation the expiry timer must present.
    func start(_ key: Key, now: Duration, refreshInterval: Duration) -> (broadcast: Bool, generation: Int) {
        let generation = generations.wrappingAdd(1, ordering: .relaxed).newValue
        return entries.withLock { entries in
            let broadcast = entries[key].map { now - $0.lastBroadcast >= refreshInterval } ?? true
            let lastBroadcast = broadcast ? now : entries[key]!.lastBroadcast
            entries[key] = Entry(generation: generation, lastBroadcast: lastBroadcast)
            return (broadcast, generation)
        }
    }

    /// Records an explicit stop; `true` if the user was typing.
    func stop(_ key: Key) -> Bool {
        entries.withLock { $0.removeValue(forKey: key) != nil }
    }

    /// Expires typing that was not refreshed since `generation`; `true` if it expired now.
    func expire(_ key: Key, generation: Int) -> Bool {
        entries.withLock { entries in
            guard entries[key]?.generation == generation else { return false }
            entries[key] = nil
            return true
        }
    }
}
