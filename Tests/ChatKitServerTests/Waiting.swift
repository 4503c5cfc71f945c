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

import Dispatch

/// How long a test waits for an event before it fails: a hang detector, not a speed check.
///
/// The whole suite runs its tests in parallel on two cores, and under that load an await that takes milliseconds
/// alone has taken over ten seconds (two tests failed that way in CI with a 10 s limit). A passing test never
/// waits this long; a hung one fails with the name of what it waited for instead of stopping the run.
let failsafeTimeout: Duration = .seconds(120)

/// ``failsafeTimeout`` from now, for a blocking wait on a dedicated thread (a `DispatchSemaphore`).
func failsafeDeadline() -> DispatchTime {
    .now() + .seconds(Int(failsafeTimeout.components.seconds))
}

/// A wait that ran out of time: what the test waited for, and how many events had arrived.
struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var events: Int
    var description: String { "Timed out waiting for \(what) (\(events) events received)." }
}

/// Runs `body`, failing with a `TimeoutError` if it takes longer than `timeout`.
func withTimeout<T: Sendable>(
    _ what: String,
    _ timeout: Duration = failsafeTimeout,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimeoutError(what: what, events: 0)
        }
        return value
    }
}

/// Waits until `condition` holds, failing with a `TimeoutError` after `timeout`. For state that no event
/// announces: the condition is checked after each of the first yields, then every millisecond, so that a long
/// wait does not keep a core busy that the work it waits for needs.
func waitUntil(_ what: String, timeout: Duration = failsafeTimeout, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    var checks = 0
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimeoutError(what: what, events: 0) }
        checks += 1
        if checks < 100 {
            await Task.yield()
        } else {
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// Waits until the asynchronous `condition` holds (a store read), failing with a `TimeoutError` after `timeout`.
/// For state that no event announces: the condition is checked every millisecond.
func waitUntilAsync(
    _ what: String, timeout: Duration = failsafeTimeout, _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimeoutError(what: what, events: 0) }
        try await Task.sleep(for: .milliseconds(1))
    }
}
