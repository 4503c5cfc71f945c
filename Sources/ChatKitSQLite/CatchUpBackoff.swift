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
/// While catch-ups fail, one at a time is tried: when the wait ends, the first search (or the background) tries, and
/// the others scan as during the wait. Attempts are numbered, and only the outcome of the newest one to end counts:
/// an attempt that ends late (a success read after a newer failure, or the reverse) changes nothing.
///
/// Times are the store's clock (``SQLiteChatStore/Configuration/now``). A clock set back past the last failure ends
/// the wait rather than stretching it.
struct CatchUpBackoff: Sendable {
    /// The longest wait between two attempts.
    static let maximumDelay = Duration.seconds(30)

    /// What a caller that wants to catch up is to do.
    enum Decision: Equatable {
        /// Try now: the attempt's number, for ``CatchUpBackoff/record(_:succeeded:at:)``.
        case attempt(Int)
        /// Do not: the back-off lasts this much longer, or (zero) another attempt is under way while catch-ups fail.
        case wait(Duration)
    }

    /// How many catch-ups in a row failed.
    private(set) var failures = 0
    /// When the last one failed, and when the next may run.
    private var window: (failedAt: Date, retryAt: Date)?
    /// How many attempts began: the number of the last one.
    private(set) var started = 0
    /// How many attempts are under way.
    private(set) var underWay = 0
    /// The number of the newest attempt whose outcome was recorded.
    private var newestRecorded = 0
    /// How many times a caller was told to wait.
    private(set) var deferrals = 0

    /// The wait after `failures` failures in a row (at least one).
    static func delay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures, 1) - 1, 16)
        return min(maximumDelay, SearchIndex.delay * (1 << doublings))
    }

    /// Decides whether a catch-up may begin at `now`, and counts it as begun if so. `whateverTheWait` begins one in
    /// any case (a backup's catch-up, which must not leave rows out).
    mutating func begin(at now: Date, whateverTheWait: Bool = false) -> Decision {
        if !whateverTheWait {
            let remaining = remainingWait(at: now)
            if remaining > .zero || (failures > 0 && underWay > 0) {
                deferrals += 1
                return .wait(remaining)
            }
        }
        started += 1
        underWay += 1
        return .attempt(started)
    }

    /// Records how attempt `attempt` ended, at `now`: a failure starts or lengthens the wait, a success ends it,
    /// unless a newer attempt's outcome was recorded already.
    mutating func record(_ attempt: Int, succeeded: Bool, at now: Date) {
        underWay -= 1
        guard attempt > newestRecorded else { return }
        newestRecorded = attempt
        guard !succeeded else {
            failures = 0
            window = nil
            return
        }
        failures += 1
        let delay = Self.delay(afterFailures: failures)
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        window = (now, now.addingTimeInterval(seconds))
    }

    /// Records that an attempt was given up (cancelled) without an outcome.
    mutating func abandon() {
        underWay -= 1
    }

    /// How long until a catch-up may run, seen at `now`: zero when it may now (unless another is under way while
    /// catch-ups fail).
    func remainingWait(at now: Date) -> Duration {
        guard let window, now < window.retryAt, now >= window.failedAt else { return .zero }
        let microseconds = (window.retryAt.timeIntervalSince(now) * 1_000_000).rounded()
        guard microseconds.isFinite, microseconds < 1e12 else { return Self.maximumDelay }
        return max(.microseconds(Int64(microseconds)), .microseconds(1))
    }
}
