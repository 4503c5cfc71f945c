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

/// SplitMix64 (Steele, Lea and Flood): a small generator whose numbers a seed decides, so that a comparison that
/// found a difference can be run again, step for step, from the seed it reported.
struct SeededRandomNumbers: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// Whether an event of the given chance (0…1) happens.
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }

    /// A number in `0..<count`, or `count` itself (meaning "one that does not exist") with the given chance.
    mutating func index(below count: Int, unknown probability: Double = 0.05) -> Int {
        if count == 0 || chance(probability) { return count }
        return Int.random(in: 0..<count, using: &self)
    }
}
