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

/// A type-erased clock: the server measures time as durations since it started, and sleeps until such a
/// duration. Tests inject a manual clock; production uses `ContinuousClock`.
struct ServerClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        self.elapsed = { start.duration(to: clock.now) }
        self.sleeper = { offset in try await clock.sleep(until: start.advanced(by: offset), tolerance: nil) }
    }

    /// Time since the server started.
    var now: Duration { elapsed() }

    /// Sleeps until `deadline` (a time since the server started).
    func sleep(until deadline: Duration) async throws { try await sleeper(deadline) }
}
