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

@testable import ChatKitClient

/// The send-stall watch's decisions, on a manual clock: when it writes heartbeats (only while the app writes, and at
/// one look more), and when it reports a stall (a heartbeat not taken within the timeout; a slow one is no stall).
@Suite("The send-stall watch's decisions")
struct SendStallWatchTests {
    /// Opens once; whoever waits before or after goes on, and so does a waiter whose task is cancelled (as a write
    /// on a socket does).
    typealias Gate = TestGate

    /// A watch with a timeout of 400 ms (a look every 100 ms) on a manual clock, whose heartbeats are taken once
    /// `heartbeatGate` opens, and the streams that tell the test what it did.
    struct Harness {
        let clock = ManualClock()
        let activity = SendActivity()
        let heartbeatGate = Gate()
        let looks: AsyncStream<Bool>
        let heartbeatsStarted: AsyncStream<Void>
        let watch: SendStallWatch

        init() {
            let (looks, lookContinuation) = AsyncStream.makeStream(of: Bool.self)
            let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
            self.looks = looks
            heartbeatsStarted = started
            let gate = heartbeatGate
            watch = SendStallWatch(
                timeout: .milliseconds(400), activity: activity, clock: ClientClock(clock),
                writeHeartbeat: {
                    startedContinuation.yield()
                    await gate.wait()
                },
                onLook: { wrote in lookContinuation.yield(wrote) }
            )
        }

        /// Moves the clock to the next look, once the watch sleeps until it.
        func advanceToNextLook() async {
            await clock.waitForSleepers(1)
            clock.advance(by: .milliseconds(100))
        }
    }

    /// Starts a write of the app's that lasts until `gate` opens; returns once it is counted.
    func startWrite(_ activity: SendActivity, until gate: Gate) async -> Task<Void, Never> {
        let (started, continuation) = AsyncStream.makeStream(of: Void.self)
        let write = Task {
            _ = try? await activity.counting {
                continuation.yield()
                await gate.wait()
            }
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        return write
    }

    /// Starts the watch and a write that lasts until the returned gate opens, moves the clock to the first look,
    /// and returns once that look's heartbeat was written (held by `harness.heartbeatGate`) and its deadline sleeps.
    func holdingAHeartbeat(
        _ harness: Harness
    ) async -> (watching: Task<Bool, Never>, writeGate: Gate, write: Task<Void, Never>) {
        let watching = Task { await harness.watch.untilStalled() }
        let writeGate = Gate()
        let write = await startWrite(harness.activity, until: writeGate)
        var started = harness.heartbeatsStarted.makeAsyncIterator()
        await harness.advanceToNextLook()
        _ = await started.next()
        // The heartbeat's deadline sleeps on the clock.
        await harness.clock.waitForSleepers(1)
        return (watching, writeGate, write)
    }

    @Test("an idle connection writes no heartbeat")
    func idleWritesNone() async throws {
        let harness = Harness()
        harness.heartbeatGate.open()
        let watching = Task { await harness.watch.untilStalled() }
        var looks = harness.looks.makeAsyncIterator()
        for _ in 0..<4 {
            await harness.advanceToNextLook()
            #expect(await looks.next() == false)
        }
        watching.cancel()
        #expect(await watching.value == false)
    }

    @Test("heartbeats go out while a write is in flight, after one ended, and at one look more; then none")
    func heartbeatsFollowWrites() async throws {
        let harness = Harness()
        harness.heartbeatGate.open()
        let watching = Task { await harness.watch.untilStalled() }
        var looks = harness.looks.makeAsyncIterator()
        let writeGate = Gate()
        let write = await startWrite(harness.activity, until: writeGate)
        for _ in 0..<3 {
            await harness.advanceToNextLook()
            #expect(await looks.next() == true, "a write in flight")
        }
        writeGate.open()
        await write.value
        await harness.advanceToNextLook()
        #expect(await looks.next() == true, "a write ended since the last look")
        await harness.advanceToNextLook()
        #expect(await looks.next() == true, "one look more")
        for _ in 0..<2 {
            await harness.advanceToNextLook()
            #expect(await looks.next() == false)
        }
        watching.cancel()
        #expect(await watching.value == false)
    }

    @Test("a heartbeat not taken within the timeout is a stall")
    func aHeldHeartbeatIsAStall() async throws {
        let harness = Harness()
        let (watching, writeGate, write) = await holdingAHeartbeat(harness)
        harness.clock.advance(by: .milliseconds(400))
        #expect(await watching.value == true)
        writeGate.open()
        await write.value
    }

    @Test("a heartbeat taken late but within the timeout is no stall")
    func aSlowHeartbeatIsNoStall() async throws {
        let harness = Harness()
        var looks = harness.looks.makeAsyncIterator()
        let (watching, writeGate, write) = await holdingAHeartbeat(harness)
        harness.clock.advance(by: .milliseconds(300))
        harness.heartbeatGate.open()
        #expect(await looks.next() == true)
        await harness.advanceToNextLook()
        #expect(await looks.next() == true)
        watching.cancel()
        #expect(await watching.value == false)
        writeGate.open()
        await write.value
    }
}
