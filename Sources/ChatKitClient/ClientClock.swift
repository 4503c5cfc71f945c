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

/// The clock a ``ChatClient`` waits on, type-erased: backoff waits, retry-after waits and session uptimes.
struct ClientClock: Sendable {
    let sleep: @Sendable (Duration) async throws -> Void
    /// Time since the clock was wrapped.
    let elapsed: @Sendable () -> Duration

    init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let start = clock.now
        sleep = { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) }
        elapsed = { start.duration(to: clock.now) }
    }
}
