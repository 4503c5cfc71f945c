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
            // A timer due now runs; once it has, any timer wrongly due by now would have run before it.
            queue.schedule(at: .seconds(9)) { log.add("nine") }
            try await waitUntil("the timer due now") { log.all.contains("nine") }
            #expect(log.all == ["nine"], "a timer ran before its deadline")
            #expect(queue.pendingCount == 4)
            clock.advance(by: .seconds(11))
            try await waitUntil("the timers due by 20 s") { log.all.count == 4 }
            #expect(log.all == ["nine", "ten", "ten again", "twenty"])
            #expect(queue.pendingCount == 1)
            clock.advance(by: .seconds(10))
            try await waitUntil("the last timer") { log.all.count == 5 }
            #expect(log.all.last == "thirty")
        }
    }

    @Test func anEarlierTimerWakesTheQueueSleepingForALaterOne() async throws {
        try await withQueue { queue, clock, log in
            queue.schedule(at: .seconds(60)) { log.add("late") }
            await clock.waitForSleepers(1)
            queue.schedule(at: .seconds(5)) { log.add("early") }
            // Had the queue not woken up for it, it would sleep until 60 s and the early timer would never run.
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
            // Each ran once (in deadline order within each task of due actions; the tasks run side by side).
            let ran = Set(log.all)
            #expect(ran.count == 10_000 && ran == Set((0..<10_000).map { "\($0)" }), "a timer ran twice or not at all")
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
        try await withTimeout("the queue to stop when cancelled") { await running.value }
        clock.advance(by: .seconds(2))
        #expect(log.all.isEmpty)
    }
}
