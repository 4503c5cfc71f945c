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

@testable import ChatKitServer
import ChatKitCore
import Synchronization
import Testing

/// The outbox's catch-up hand-over, driven directly: deterministic where an end-to-end test would depend on
/// scheduling.
@Suite("Outbox")
struct OutboxTests {
    private func drain(_ outbox: Outbox) async -> [String] {
        outbox.close()
        var frames: [String] = []
        while let batch = await outbox.next() { frames += batch }
        return frames
    }

    @Test func heldEventsAfterTheCatchUpAreReleasedInOrderAndOlderOnesDropped() async {
        let outbox = Outbox(capacity: 10, floor: StreamPosition(2))
        outbox.enqueueEvent("e2", position: StreamPosition(2))  // before the session's cursor
        outbox.enqueueEvent("e5", position: StreamPosition(5))
        outbox.enqueueEvent("e4", position: StreamPosition(4))
        outbox.enqueueEvent("e7", position: StreamPosition(7))
        outbox.enqueue("result")
        #expect(outbox.release(after: StreamPosition(5)))  // catch-up sent up to 5
        outbox.enqueueEvent("e6", position: StreamPosition(6))  // late duplicate of what was released
        outbox.enqueueEvent("e8", position: StreamPosition(8))
        #expect(await drain(outbox) == ["result", "e7", "e8"])
    }

    @Test func heldEventsThatOverflowAskForAnotherCatchUpInsteadOfClosing() async {
        let outbox = Outbox(capacity: 3, floor: .start)
        for position in 1...5 { outbox.enqueueEvent("e\(position)", position: StreamPosition(Int64(position))) }
        #expect(outbox.ending == nil, "held events overflowing closed the connection")
        #expect(!outbox.release(after: StreamPosition(2)), "the dropped events 3...5 must be caught up again")
        outbox.enqueueEvent("e6", position: StreamPosition(6))
        #expect(outbox.release(after: StreamPosition(5)))  // the second catch-up sent 3...5
        #expect(await drain(outbox) == ["e6"])
    }

    @Test("held events that fit alone but not beside the frames queued during the catch-up ask for another one")
    func heldEventsBesideQueuedFramesAskForAnotherCatchUp() async {
        let outbox = Outbox(capacity: 4, floor: .start)
        outbox.enqueue("typing")  // queued at once, while catching up
        outbox.enqueue("presence")
        for position in 1...3 { outbox.enqueueEvent("e\(position)", position: StreamPosition(Int64(position))) }
        #expect(!outbox.release(after: .start), "2 queued and 3 held do not fit in 4: catch up again")
        #expect(outbox.ending == nil, "the catch-up closed the connection as a slow consumer")
        outbox.enqueueEvent("e4", position: StreamPosition(4))
        #expect(outbox.release(after: StreamPosition(3)))  // the second catch-up sent 1...3
        #expect(await drain(outbox) == ["typing", "presence", "e4"])

        let bytes = Outbox(capacity: 100, byteCapacity: 1000, floor: .start)
        bytes.enqueue(String(repeating: "t", count: 600))
        bytes.enqueueEvent(String(repeating: "x", count: 500), position: StreamPosition(1))
        #expect(!bytes.release(after: .start), "1,100 bytes do not fit in 1,000: catch up again")
        #expect(bytes.ending == nil)
        #expect(bytes.release(after: StreamPosition(1)))
    }

    @Test("a writer task takes a bounded chunk at a time, so a stalled peer holds little outside the outbox's bound")
    func aWriterTaskTakesChunks() async throws {
        let outbox = Outbox(capacity: 100, byteCapacity: 1 << 20, floor: .start)
        #expect(outbox.release(after: .start))
        let frame = String(repeating: "x", count: 40 * 1024)
        for _ in 0..<3 { outbox.enqueue(frame) }
        #expect(await outbox.next(upToBytes: 64 * 1024)?.count == 1)  // two would be 80 KiB
        #expect(await outbox.next(upToBytes: 100 * 1024)?.count == 2)

        // A waiting writer is woken with a chunk too, and the rest stays queued (and counted).
        let waiting = Task { await outbox.next(upToBytes: 64 * 1024) }
        try await waitUntil("the writer to wait") { outbox.hasWaitingWriter }
        outbox.enqueue(contentsOf: [frame, frame, frame])
        #expect(await waiting.value?.count == 1)
        #expect(outbox.take()?.count == 2)
    }

    @Test func queuedFramesOverCapacityEndTheOutboxAsASlowConsumer() async {
        let endings = Mutex<[Outbox.Ending]>([])
        let outbox = Outbox(capacity: 2, floor: .start) { ending in endings.withLock { $0.append(ending) } }
        #expect(outbox.release(after: .start))
        for index in 0..<3 { outbox.enqueue("r\(index)") }
        #expect(outbox.ending == .overflowed)
        outbox.enqueue("r3")
        outbox.revoke()
        #expect(endings.withLock { $0 } == [.overflowed], "the ending was not reported exactly once")
    }

    @Test func queuedBytesOverTheByteCapacityEndTheOutboxAsASlowConsumer() async {
        // Few frames, but large ones: a count alone would let a peer that reads nothing hold gigabytes.
        let endings = Mutex<[Outbox.Ending]>([])
        let outbox = Outbox(capacity: 100, byteCapacity: 1000, floor: .start) { ending in
            endings.withLock { $0.append(ending) }
        }
        #expect(outbox.release(after: .start))
        let large = String(repeating: "x", count: 400)
        outbox.enqueue(large)
        outbox.enqueue(large)
        // What the writer takes no longer counts.
        #expect(outbox.take() == [large, large])
        outbox.enqueue(contentsOf: [large, large])
        #expect(outbox.ending == nil)
        outbox.enqueueEvent(large, position: StreamPosition(1))
        #expect(outbox.ending == .overflowed)
        #expect(endings.withLock { $0 } == [.overflowed])
        #expect(outbox.take() == nil, "what waited was not dropped")

        // One frame larger than the bound waits on its own (it is an answer the server chose to send).
        let single = Outbox(capacity: 100, byteCapacity: 1000, floor: .start)
        #expect(single.release(after: .start))
        single.enqueue(String(repeating: "y", count: 5000))
        #expect(single.ending == nil)
        single.enqueue("one more")
        #expect(single.ending == .overflowed)
    }

    @Test func heldBytesOverTheByteCapacityAskForAnotherCatchUp() async {
        let outbox = Outbox(capacity: 100, byteCapacity: 1000, floor: .start)
        let large = String(repeating: "x", count: 400)
        for position in 1...3 { outbox.enqueueEvent(large, position: StreamPosition(Int64(position))) }
        #expect(outbox.ending == nil, "held events overflowing closed the connection")
        #expect(!outbox.release(after: .start), "the dropped events must be caught up again")
        outbox.enqueueEvent("e4", position: StreamPosition(4))
        #expect(outbox.release(after: StreamPosition(3)))
        #expect(await drain(outbox) == ["e4"])
    }

    @Test func revokingEndsTheOutbox() async {
        let endings = Mutex<[Outbox.Ending]>([])
        let outbox = Outbox(capacity: 2, floor: .start) { ending in endings.withLock { $0.append(ending) } }
        outbox.enqueue("r0")
        outbox.revoke()
        outbox.revoke()
        #expect(endings.withLock { $0 } == [.revoked])
        #expect(await outbox.next() == nil, "frames queued before the revocation were still handed out")
    }

    @Test func closingIsNotReportedAsAnEnding() async {
        let endings = Mutex<[Outbox.Ending]>([])
        let outbox = Outbox(capacity: 2, floor: .start) { ending in endings.withLock { $0.append(ending) } }
        outbox.close()
        outbox.revoke()
        #expect(outbox.ending == .closed)
        #expect(endings.withLock { $0 }.isEmpty)
    }

    @Test func aWriterWithoutATaskIsCalledBackOnceFramesAreQueuedAndWhenTheOutboxEnds() {
        let outbox = Outbox(capacity: 10, floor: .start)
        #expect(outbox.release(after: .start))
        let calls = Mutex(0)
        #expect(outbox.take() == [])
        outbox.whenReady { calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 0, "called back with nothing queued")
        outbox.enqueue("r1")
        outbox.enqueue("r2")
        #expect(calls.withLock { $0 } == 1, "not called back exactly once for the frames queued")
        #expect(outbox.take() == ["r1", "r2"])
        outbox.enqueue("r3")
        outbox.whenReady { calls.withLock { $0 += 1 } }
        #expect(calls.withLock { $0 } == 2, "frames already queued must call back at once")
        #expect(outbox.take() == ["r3"])
        outbox.whenReady { calls.withLock { $0 += 1 } }
        outbox.close()
        #expect(calls.withLock { $0 } == 3, "the close must call the writer back")
        #expect(outbox.take() == nil)
    }

    @Test func aWriterWithoutATaskLearnsOfAnOverflow() {
        let outbox = Outbox(capacity: 1, floor: .start)
        #expect(outbox.release(after: .start))
        let calls = Mutex(0)
        outbox.whenReady { calls.withLock { $0 += 1 } }
        outbox.enqueue("r1")
        outbox.whenReady { calls.withLock { $0 += 1 } }  // the writer has not taken r1 yet: at once
        outbox.enqueue("r2")  // over capacity: ended, what waited is dropped
        #expect(outbox.ending == .overflowed)
        #expect(calls.withLock { $0 } == 2)
        #expect(outbox.take() == nil)
    }
}
