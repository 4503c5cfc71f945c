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

/// Runs delayed actions (presence grace periods, typing expiry) on the server's clock, as child tasks of the
/// server's `run()`.
final class TimerQueue: Sendable {
    private struct Timer: Sendable {
        var deadline: Duration
        var action: @Sendable () async -> Void
    }

    private let timers: AsyncStream<Timer>
    private let continuation: AsyncStream<Timer>.Continuation

    init() {
        (timers, continuation) = AsyncStream.makeStream(of: Timer.self)
    }

    /// Runs `action` once the clock reaches `deadline`. Actions check themselves whether they are still wanted.
    func schedule(at deadline: Duration, _ action: @escaping @Sendable () async -> Void) {
        continuation.yield(Timer(deadline: deadline, action: action))
    }

    /// Runs scheduled timers until the task is cancelled.
    func run(clock: ServerClock) async {
        await withDiscardingTaskGroup { group in
            for await timer in timers {
                group.addTask {
                    do {
                        try await clock.sleep(until: timer.deadline)
                    } catch {
                        return
                    }
                    await timer.action()
                }
            }
        }
    }
}
