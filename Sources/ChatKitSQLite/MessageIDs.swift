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

/// Makes the IDs of new messages: lowercase UUIDs in the time-ordered version 7 layout of RFC 9562.
///
/// The unique index on `message.id` is written once per append. With random (version 4) IDs every append lands
/// on a different leaf page of that index, and each dirty page costs a 4 KiB write to the write-ahead log at
/// commit; IDs that grow with time land on the last leaf, which a batch of appends writes once. Layout: 48 bits
/// of Unix milliseconds, the version (7), a 12-bit counter that orders the IDs of one millisecond (method 1 of
/// the RFC; when it overflows the millisecond is borrowed from the future), the variant, and 62 random bits.
/// IDs stay opaque to clients: they are still UUIDs, and nothing but the index depends on their order.
final class MessageIDGenerator: Sendable {
    private struct State {
        var milliseconds: UInt64 = 0
        var counter: UInt64 = 0
        var random: SplitMix64
    }

    private let state: Mutex<State>

    init() {
        var system = SystemRandomNumberGenerator()
        state = Mutex(State(random: SplitMix64(seed: system.next())))
    }

    func next(at date: Date) -> MessageID {
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
        return MessageID(rawValue: Self.format(high, low))
    }

    /// The 36-character lowercase form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of a 128-bit value.
    static func format(_ high: UInt64, _ low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var index = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[index] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    index += 1
                }
            }
            func dash() {
                buffer[index] = UInt8(ascii: "-")
                index += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put(high >> 16, nibbles: 4)
            dash()
            put(high, nibbles: 4)
            dash()
            put(low >> 48, nibbles: 4)
            dash()
            put(low, nibbles: 12)
            return index
        }
    }
}

/// A small, fast pseudo-random generator (Steele, Lea and Flood's SplitMix64), seeded from the system generator:
/// the random bits of message IDs need to be unpredictable enough to avoid collisions between processes, not
/// secret (reading a message always requires membership), and a system call per ID would cost more than the rest
/// of the ID.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
