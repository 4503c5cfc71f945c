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

/// Which numbered messages one receiver got from one stream (numbers start at 1), so that losses and duplicates
/// are counted exactly.
final class DeliveryTracker: Sendable {
    private struct State {
        var seen: [Bool] = []
        var unique = 0
        var duplicates = 0
        var outOfOrder = 0
        var highest = 0
    }

    private let state = Mutex(State())

    /// Records message `number`; returns whether it was new.
    @discardableResult
    func record(_ number: Int) -> Bool {
        state.withLock { state in
            if number >= state.seen.count { state.seen.append(contentsOf: repeatElement(false, count: max(number + 1 - state.seen.count, state.seen.count))) }
            if state.seen[number] {
                state.duplicates += 1
                return false
            }
            state.seen[number] = true
            state.unique += 1
            if number < state.highest { state.outOfOrder += 1 }
            state.highest = max(state.highest, number)
            return true
        }
    }

    /// Records a message of another stream: counted with the duplicates (a message this receiver was never sent).
    func recordForeign() {
        state.withLock { $0.duplicates += 1 }
    }

    /// Distinct messages received.
    var unique: Int { state.withLock { $0.unique } }

    /// The counts once `expected` messages (1...expected) were sent.
    func tally(expected: Int) -> DeliveryTally {
        state.withLock { state in
            var missing = 0
            for number in 1...max(expected, 1) where number <= expected {
                if number >= state.seen.count || !state.seen[number] { missing += 1 }
            }
            let unexpected = state.unique - (expected - missing)
            return DeliveryTally(
                expected: expected, delivered: state.unique, lost: missing, duplicates: state.duplicates + unexpected,
                outOfOrder: state.outOfOrder
            )
        }
    }
}

/// Delivery counts of a scenario: what was sent, what arrived, what was lost or came twice.
struct DeliveryTally: Sendable, Codable {
    var expected = 0
    var delivered = 0
    var lost = 0
    /// Messages received more than once (or never sent).
    var duplicates = 0
    var outOfOrder = 0

    static func + (lhs: DeliveryTally, rhs: DeliveryTally) -> DeliveryTally {
        DeliveryTally(
            expected: lhs.expected + rhs.expected, delivered: lhs.delivered + rhs.delivered, lost: lhs.lost + rhs.lost,
            duplicates: lhs.duplicates + rhs.duplicates, outOfOrder: lhs.outOfOrder + rhs.outOfOrder
        )
    }
}
