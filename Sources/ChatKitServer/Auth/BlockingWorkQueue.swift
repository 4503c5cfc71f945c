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
import NIOCore
import Synchronization

/// Runs blocking work (bcrypt) on a dispatch queue, a few jobs at a time, with a bounded number waiting.
///
/// A concurrent dispatch queue starts a thread for every job it is given while others block: a burst of logins
/// used to run dozens of bcrypt checks at once, each wanting a core for 100 ms or more, and the two cores of a
/// small server then served chat traffic at a fraction of their time for as long as the burst lasted. Here at most
/// ``limit`` jobs run; up to ``waitingLimit`` more wait their turn in order; any further job is refused at once,
/// so that a flood of logins is answered "busy" (cheaply) instead of queueing for minutes.
final class BlockingWorkQueue: Sendable {
    /// Thrown by ``run(_:)`` when ``limit`` jobs run and ``waitingLimit`` wait already.
    struct Full: Error {}

    private struct State {
        var running = 0
        var waiting = CircularBuffer<CheckedContinuation<Bool, Never>>()
    }

    /// How many jobs run at once.
    let limit: Int
    /// How many jobs may wait for a turn.
    let waitingLimit: Int
    private let queue: DispatchQueue
    private let state = Mutex(State())

    /// Creates a queue.
    ///
    /// - Parameters:
    ///   - label: The dispatch queue's label (it names the threads in a debugger or profiler).
    ///   - limit: How many jobs run at once; at least 1.
    ///   - waitingLimit: How many jobs may wait for a turn; 0 refuses every job while `limit` run.
    init(label: String, limit: Int, waitingLimit: Int) {
        precondition(limit >= 1 && waitingLimit >= 0, "A blocking-work queue runs at least one job at once")
        self.limit = limit
        self.waitingLimit = waitingLimit
        queue = DispatchQueue(label: label, qos: .userInitiated, attributes: .concurrent)
    }

    /// The number of jobs waiting for a turn (for tests).
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Runs `work` on the queue's threads once a turn is free, and returns its result.
    ///
    /// - Throws: ``Full`` without running `work` when ``limit`` jobs run and ``waitingLimit`` jobs wait.
    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(Full) -> T {
        guard await takeTurn() else { throw Full() }
        let result = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
        passTurn()
        return result
    }

    /// Waits for a turn; `false` when none is free and the waiting line is full.
    private func takeTurn() async -> Bool {
        await withCheckedContinuation { continuation in
            let answer: Bool? = state.withLock { state in
                if state.running < limit {
                    state.running += 1
                    return true
                }
                guard state.waiting.count < waitingLimit else { return false }
                state.waiting.append(continuation)
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Hands the finished job's turn to the first waiting job, or frees it.
    private func passTurn() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let next = state.waiting.popFirst() { return next }
            state.running -= 1
            return nil
        }
        next?.resume(returning: true)
    }
}
