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

import ChatKitTesting
import Synchronization
import Testing

@testable import ChatKitServer

@Suite("Timer queue")
struct TimerQueueTests {
    /// The names of the actions that ran, in order.
    final class Log: Sendable {
        private let names = Mutex<[String]>([])
        var all: [String] { names.withLock { $0 } }
        func add(_ name: String) { names.withLock { $0.append(name) } }
    }

    /// Runs a timer queue on a manual clock while `body` runs, then cancels it.
    func withQueue(_ body: (TimerQueue, ManualClock, Log) async throws -> Void) async throws {
        let queue = TimerQueue()
        let clock = ManualClock()
        let log = Log()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await queue.run(clock: ServerClock(clock)) }
            defer { group.cancelAll() }
            try await body(queue, clock, log)
        }
    }

    @Test func actionsRunAtTheirDeadlinesInDeadlineOrder() async throws {
        try await withQueue { queue, clock, log in
            queue.schedule(at: .seconds(30)) { log.add("thirty") }
            queue.schedule(at: .seconds(10)) { log.add("ten") }
            queue.schedule(at: .seconds(20)) { log.add("twenty") }
            queue.schedule(at: .seconds(10)) { log.add("ten again") }
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(9))
            #expect(queue.pendingCount == 4, "a timer ran before its deadline")
            clock.advance(by: .seconds(11))
            try await waitUntil("the timers due by 20 s") { log.all.count == 3 }
            #expect(log.all == ["ten", "ten again", "twenty"])
            #expect(queue.pendingCount == 1)
            clock.advance(by: .seconds(10))
            try await waitUntil("the last timer") { log.all.count == 4 }
            #expect(log.all.last == "thirty")
        }
    }

    @Test func anEarlierTimerWakesTheQueueSleepingForALaterOne() async throws {
        try await withQueue { queue, clock, log in
            queue.schedule(at: .seconds(60)) { log.add("late") }
            await clock.waitForSleepers(1)
            queue.schedule(at: .seconds(5)) { log.add("early") }
            // The queue now sleeps until 5 s instead of 60 s.
            try await waitUntil("the queue to sleep for the earlier timer") {
                clock.sleeperCount == 1 && queue.pendingCount == 2
            }
            clock.advance(by: .seconds(5))
            try await waitUntil("the early timer") { log.all == ["early"] }
            #expect(queue.pendingCount == 1)
        }
    }

    @Test func manyPendingTimersShareOneSleepingTask() async throws {
        try await withQueue { queue, clock, log in
            for number in 0..<10_000 {
                queue.schedule(at: .seconds(10) + .milliseconds(number)) { log.add("\(number)") }
            }
            try await waitUntil("the queue to sleep") { clock.sleeperCount == 1 }
            #expect(clock.sleeperCount == 1, "a task sleeps per timer")
            clock.advance(by: .seconds(20))
            try await waitUntil("every timer") { log.all.count == 10_000 }
            #expect(log.all == (0..<10_000).map { "\($0)" })
        }
    }

    @Test func cancellingTheQueueDropsPendingTimers() async throws {
        let queue = TimerQueue()
        let clock = ManualClock()
        let log = Log()
        let running = Task { await queue.run(clock: ServerClock(clock)) }
        queue.schedule(at: .seconds(1)) { log.add("dropped") }
        await clock.waitForSleepers(1)
        running.cancel()
        await running.value
        clock.advance(by: .seconds(2))
        #expect(log.all.isEmpty)
    }
}
