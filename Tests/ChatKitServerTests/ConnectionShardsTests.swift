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

import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import ChatKitServer

@Suite("Connection shards")
struct ConnectionShardsTests {
    /// Set around a hand-over, so that a connection can tell whether it runs in the caller's task.
    @TaskLocal static var inCaller = false

    /// Counts connections as they start and end, and notes what the test observes.
    final class Counter: Sendable {
        let started = Atomic<Int>(0)
        let ended = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
        let ranInCaller = Atomic<Bool>(false)
    }

    @Test func connectionsAreServedByTheShardsAndHandingOverReturnsAtOnce() async throws {
        let shards = ConnectionShards(count: 4)
        let group = ServiceGroup(services: [shards], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let gate = TestGate()
        // Also when the test fails: the connections held at the gate would keep the shards, and the test, running.
        defer { gate.open() }
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            for _ in 0..<10 {
                // Returns although the connection waits for the gate: a shard serves it. (A connection served in the
                // caller instead ends its wait when the time limit cancels it: the test fails rather than hangs.)
                try await withTimeout("handing over a connection") {
                    await shards.serve {
                        counter.started.add(1, ordering: .relaxed)
                        await gate.wait()
                        counter.ended.add(1, ordering: .relaxed)
                    }
                }
            }
            try await waitUntil("every connection to start") { counter.started.load(ordering: .relaxed) == 10 }
            gate.open()
            try await waitUntil("every connection to end") { counter.ended.load(ordering: .relaxed) == 10 }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
    }

    @Test func aShutdownWaitsForTakenConnectionsAndLaterOnesRunInTheCaller() async throws {
        let shards = ConnectionShards(count: 2)
        let group = ServiceGroup(services: [shards], gracefulShutdownSignals: [], logger: Logger(label: "test"))
        let gate = TestGate()
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await group.run()
                counter.stopped.store(true, ordering: .relaxed)
            }
            await shards.serve {
                counter.started.add(1, ordering: .relaxed)
                await gate.waitUntilOpen()
                counter.ended.add(1, ordering: .relaxed)
            }
            // A failure below must not leave the gated connection, and so the group, running: the test would hang
            // instead of failing (a run under heavy load did).
            defer {
                gate.open()
                tasks.cancelAll()
            }
            try await waitUntil("the connection to start") { counter.started.load(ordering: .relaxed) == 1 }
            await group.triggerGracefulShutdown()
            // Once stopped, a shard refuses connections: the caller serves them itself, to the end.
            try await withTimeout("the shards to stop taking connections") {
                var servedHere = false
                while !servedHere {
                    try Task.checkCancellation()
                    let probe = Counter()
                    await Self.$inCaller.withValue(true) {
                        await shards.serve {
                            if Self.inCaller { probe.ranInCaller.store(true, ordering: .relaxed) }
                            counter.ended.add(100, ordering: .relaxed)
                        }
                    }
                    servedHere = probe.ranInCaller.load(ordering: .relaxed)
                    await Task.yield()
                }
            }
            let stoppedEarly = counter.stopped.load(ordering: .relaxed)
            #expect(!stoppedEarly, "the shards stopped before the connection they took ended")
            gate.open()
            try await tasks.next()
            let (stopped, ended) = (counter.stopped.load(ordering: .relaxed), counter.ended.load(ordering: .relaxed))
            #expect(stopped)
            #expect(ended % 100 == 1, "the taken connection did not end")
        }
    }

    @Test func cancellationStillServesEveryTakenConnection() async throws {
        let shards = ConnectionShards(count: 3)
        let counter = Counter()
        let running = Task { try await shards.run() }
        for _ in 0..<30 {
            await shards.serve {
                counter.started.add(1, ordering: .relaxed)
            }
        }
        running.cancel()
        try await withTimeout("the shards to stop when cancelled") { try await running.value }
        // Each taken connection ran, none was dropped with its socket unclosed.
        let started = counter.started.load(ordering: .relaxed)
        #expect(started == 30)
    }
}
