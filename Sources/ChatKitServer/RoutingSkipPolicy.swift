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

/// When ``EventRouter`` may give up on events it cannot route: after a number of failures in a row at the same
/// place, and not sooner than ``spacing`` after its last skip (each skip closes every connection: a store that keeps
/// failing must not have the whole server reconnect to it every few seconds).
struct RoutingSkipPolicy {
    /// Failures in a row at the same place before a skip is tried.
    let attemptsBeforeSkipping: Int
    /// The least time between two skips.
    let spacing: Duration
    /// Failures in a row since routing last got anywhere.
    private(set) var failuresInARow = 0
    /// Where routing stood at the last failure.
    private var failedAt: StreamPosition?
    /// When the next skip may be tried (on the server's clock), after a skip.
    private var nextSkipAllowed: Duration?

    init(attemptsBeforeSkipping: Int, spacing: Duration) {
        self.attemptsBeforeSkipping = attemptsBeforeSkipping
        self.spacing = spacing
    }

    /// A routing round went through.
    mutating func routed() {
        failuresInARow = 0
        failedAt = nil
    }

    /// A routing round failed with routing at `position` (past what it routed before the failure).
    mutating func failed(at position: StreamPosition) {
        failuresInARow = position == failedAt ? failuresInARow + 1 : 1
        failedAt = position
    }

    /// Whether to try giving up on the unrouted events now.
    func shouldSkip(now: Duration) -> Bool {
        failuresInARow >= attemptsBeforeSkipping && nextSkipAllowed.map { now >= $0 } ?? true
    }

    /// The unrouted events were given up on at `now`.
    mutating func skipped(now: Duration) {
        routed()
        nextSkipAllowed = now + spacing
    }
}
