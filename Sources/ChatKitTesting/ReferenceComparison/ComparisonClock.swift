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


import Foundation
import Synchronization

/// The time both stores read: a second and a quarter later at each step, whole milliseconds.
final class ComparisonClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_780_000_000))

    var now: @Sendable () -> Date { { [self] in current.withLock { $0 } } }

    func advance() { current.withLock { $0 += 1.25 } }
}
