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

/// When a periodic clean-up last ran, and whether it is due again: the first call is due, then one per interval.
final class PurgeSchedule: Sendable {
    private let interval: Duration
    private let lastRun = Mutex<Duration?>(nil)

    /// A schedule of one run per `interval`.
    init(every interval: Duration) {
        self.interval = interval
    }

    /// Makes the next ``claim(at:)`` due (the last run left work for another).
    func runAgain() {
        lastRun.withLock { $0 = nil }
    }

    /// Whether a run is due at `now` (a monotonic time); if so, it counts as run.
    func claim(at now: Duration) -> Bool {
        lastRun.withLock { last in
            guard last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
    }
}
