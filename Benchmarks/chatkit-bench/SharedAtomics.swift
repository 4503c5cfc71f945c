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

/// An integer counter closures can share (a local `Atomic` cannot be captured).
final class SharedCounter: Sendable {
    private let storage = Atomic<Int>(0)

    func add(_ amount: Int = 1) { storage.add(amount, ordering: .relaxed) }
    var value: Int { storage.load(ordering: .relaxed) }
}

/// The latest of some monotonic times (0 until one is recorded), shareable by closures.
final class SharedLatestTime: Sendable {
    private let storage = Atomic<UInt64>(0)

    func record(_ time: UInt64 = monotonicNanoseconds()) { storage.max(time, ordering: .relaxed) }
    var value: UInt64 { storage.load(ordering: .relaxed) }
}

/// A flag that is set once.
final class SharedFlag: Sendable {
    private let storage = Atomic<Bool>(false)

    /// Sets the flag; returns whether this call set it.
    @discardableResult
    func set() -> Bool { !storage.exchange(true, ordering: .relaxed) }

    /// Whether the flag is set.
    var isSet: Bool { storage.load(ordering: .relaxed) }
}
