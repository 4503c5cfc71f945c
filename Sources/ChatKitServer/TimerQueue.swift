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

/// Runs delayed actions (presence grace periods, typing expiry) on the server's clock, from the server's `run()`.
///
/// Pending timers wait in a heap ordered by deadline (then by scheduling order); one loop sleeps until the earliest
/// deadline, or until an earlier timer is scheduled, and then runs the due actions in child tasks, up to
/// ``actionsPerTask`` one after another in each (a slow action delays only those behind it in its task, and a storm's
/// thousands of due timers make dozens of tasks, not thousands). A task per timer, as before, cost a sleeping task's
/// memory per pending timer (a reconnect storm of 10,000 clients leaves 10,000 presence timers), and Swift's task
/// groups unlink a finished child by walking their list of children (swiftlang/swift#71212): 20 % of the server's CPU
/// in that storm.
final class TimerQueue: Sendable {
    private struct State {
        var timers = TimerHeap()
        /// The deadline the loop sleeps until (`nil`: no timer, it waits for one).
        var sleepingUntil: Duration?
        /// Set when a timer earlier than `sleepingUntil` was scheduled: the loop must look again.
        var isWoken = false
        /// The loop, waiting for an earlier timer.
        var wakeUp: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// How many due actions run one after another in one child task.
    static let actionsPerTask = 64

    /// Runs `action` once the clock reaches `deadline`. Actions check themselves whether they are still wanted,
    /// and should be quick: one that waits long delays the due actions that share its task.
    func schedule(at deadline: Duration, _ action: @escaping @Sendable () async -> Void) {
        let wakeUp = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.timers.insert(deadline: deadline, action: action)
            if let sleepingUntil = state.sleepingUntil, sleepingUntil <= deadline { return nil }
            state.sleepingUntil = deadline
            state.isWoken = true
            defer { state.wakeUp = nil }
            return state.wakeUp
        }
        wakeUp?.resume()
    }

    /// How many timers wait for their deadline (observed by tests).
    var pendingCount: Int { state.withLock { $0.timers.count } }

    /// Whether a timer waits for exactly `deadline` (observed by tests).
    func hasTimer(at deadline: Duration) -> Bool { state.withLock { $0.timers.hasEntry(at: deadline) } }

    /// Runs scheduled timers until the task is cancelled; pending timers are then dropped.
    func run(clock: ServerClock) async {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let now = clock.now
                let (due, next) = state.withLock { state in
                    let due = state.timers.removeAll(dueBy: now)
                    state.sleepingUntil = state.timers.earliestDeadline
                    state.isWoken = false
                    return (due, state.sleepingUntil)
                }
                for start in stride(from: 0, to: due.count, by: Self.actionsPerTask) {
                    let actions = due[start..<min(start + Self.actionsPerTask, due.count)]
                    group.addTask {
                        for action in actions {
                            if Task.isCancelled { return }
                            await action()
                        }
                    }
                }
                await waitForTimers(until: next, clock: clock)
            }
        }
    }

    /// Returns when the clock reaches `deadline` (if any), when an earlier timer is scheduled, or when cancelled.
    private func waitForTimers(until deadline: Duration?, clock: ServerClock) async {
        await withTaskGroup(of: Void.self) { group in
            if let deadline {
                group.addTask { try? await clock.sleep(until: deadline) }
            }
            group.addTask { await self.waitForEarlierTimer() }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns once a timer earlier than the loop's deadline is scheduled, or when cancelled.
    private func waitForEarlierTimer() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isWoken || Task.isCancelled { return true }
                    state.wakeUp = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let wakeUp = state.withLock { state in
                defer { state.wakeUp = nil }
                return state.wakeUp
            }
            wakeUp?.resume()
        }
    }
}

/// Pending timers as a binary min-heap on (deadline, scheduling order).
private struct TimerHeap {
    typealias Action = @Sendable () async -> Void

    private struct Entry {
        var deadline: Duration
        var order: Int
        var action: Action

        func precedes(_ other: Entry) -> Bool {
            (deadline, order) < (other.deadline, other.order)
        }
    }

    private var entries: [Entry] = []
    private var nextOrder = 0

    var count: Int { entries.count }
    var earliestDeadline: Duration? { entries.first?.deadline }

    func hasEntry(at deadline: Duration) -> Bool { entries.contains { $0.deadline == deadline } }

    mutating func insert(deadline: Duration, action: @escaping Action) {
        entries.append(Entry(deadline: deadline, order: nextOrder, action: action))
        nextOrder += 1
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the actions of every timer whose deadline is at or before `now`, earliest first.
    mutating func removeAll(dueBy now: Duration) -> [Action] {
        var due: [Action] = []
        while let first = entries.first, first.deadline <= now {
            due.append(first.action)
            removeFirst()
        }
        return due
    }

    private mutating func removeFirst() {
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < entries.count && entries[left].precedes(entries[first]) { first = left }
            if right < entries.count && entries[right].precedes(entries[first]) { first = right }
            if first == parent { return }
            entries.swapAt(parent, first)
            parent = first
        }
    }
}
