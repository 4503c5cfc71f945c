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

/// When the search index's catch-ups may be tried again after failing: a full disk, or an index file that cannot be
/// written. A failed catch-up may have read and indexed up to ``SearchIndex/batchLimit`` messages before its commit
/// failed; tried again after every append and before every search, it would keep a core busy for nothing while
/// searches wait for it. Each failure in a row doubles the wait, from ``SearchIndex/delay`` up to ``maximumDelay``;
/// a catch-up that succeeds ends it. Meanwhile searches match the messages the index lacks by scanning them.
///
/// Times are the store's clock (``SQLiteChatStore/Configuration/now``). A clock set back past the last failure ends
/// the wait rather than stretching it.
struct CatchUpBackoff: Sendable {
    /// The longest wait between two attempts.
    static let maximumDelay = Duration.seconds(30)

    /// How many catch-ups in a row failed.
    private(set) var failures = 0
    /// When the last one failed, and when the next may run.
    private var window: (failedAt: Date, retryAt: Date)?

    /// The wait after `failures` failures in a row (at least one).
    static func delay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures, 1) - 1, 16)
        return min(maximumDelay, SearchIndex.delay * (1 << doublings))
    }

    /// Records a catch-up that failed at `now`.
    mutating func recordFailure(at now: Date) {
        failures += 1
        let delay = Self.delay(afterFailures: failures)
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        window = (now, now.addingTimeInterval(seconds))
    }

    /// Records a catch-up that succeeded.
    mutating func recordSuccess() {
        failures = 0
        window = nil
    }

    /// Whether a catch-up may run at `now`.
    func allowsAttempt(at now: Date) -> Bool {
        guard let window else { return true }
        return now >= window.retryAt || now < window.failedAt
    }

    /// How long until a catch-up may run, seen at `now`: zero when it may now.
    func remainingWait(at now: Date) -> Duration {
        guard let window, !allowsAttempt(at: now) else { return .zero }
        return .milliseconds(Int64((window.retryAt.timeIntervalSince(now) * 1000).rounded(.up)))
    }
}
