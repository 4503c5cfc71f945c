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

package import Foundation
import Synchronization

/// Makes lowercase UUIDs in the time-ordered version 7 layout of RFC 9562.
///
/// A store's unique index on such IDs grows at its end: IDs made one after another land on the last leaf page,
/// which a commit writes once, where random (version 4) UUIDs land each on a page of its own, and every dirty page
/// costs a page-sized write to the database's log at commit. Layout: 48 bits of Unix milliseconds, the version
/// (7), a 12-bit counter that orders the IDs of one millisecond (method 1 of the RFC; when it overflows the
/// millisecond is borrowed from the future), the variant, and 62 random bits. The IDs stay opaque UUIDs: nothing
/// but index locality depends on their order.
package final class TimeOrderedUUIDGenerator: Sendable {
    private struct State {
        var milliseconds: UInt64 = 0
        var counter: UInt64 = 0
        var random: SplitMix64
    }

    private let state: Mutex<State>

    /// One generator shared by the process, for IDs made outside a store (client message IDs).
    package static let shared = TimeOrderedUUIDGenerator()

    package init() {
        var system = SystemRandomNumberGenerator()
        state = Mutex(State(random: SplitMix64(seed: system.next())))
    }

    /// The next ID, for the time `date`; IDs made later by this generator compare greater.
    package func next(at date: Date = Date()) -> String {
        let (milliseconds, counter, random) = state.withLock { state in
            let now = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
            if now > state.milliseconds {
                state.milliseconds = now
                state.counter = 0
            } else if state.counter < 0xFFF {
                state.counter += 1
            } else {
                state.milliseconds += 1
                state.counter = 0
            }
            return (state.milliseconds, state.counter, state.random.next())
        }
        let high = (milliseconds & 0xFFFF_FFFF_FFFF) << 16 | 0x7000 | counter
        let low = 0x8000_0000_0000_0000 | (random >> 2)
        return UUIDText.lowercase(high, low)
    }
}

/// A small, fast pseudo-random generator (Steele, Lea and Flood's SplitMix64), seeded from the system generator:
/// the random bits of time-ordered IDs need to be unpredictable enough to avoid collisions between processes, not
/// secret, and a system call per ID would cost more than the rest of the ID.
package struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
