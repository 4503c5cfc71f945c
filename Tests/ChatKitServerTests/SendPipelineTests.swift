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

import ChatKitCore
import Synchronization
import Testing

@testable import ChatKitServer

/// The queue of a session's sends, driven directly (the worker's calls made by the test).
@Suite("Send pipeline")
struct SendPipelineTests {
    func send(_ number: Int) -> SendPipeline.PendingSend {
        SendPipeline.PendingSend(
            id: "s\(number)",
            request: .init(conversationID: "c", clientMessageID: ClientMessageID(rawValue: "k\(number)"), body: "m\(number)"),
            received: .now
        )
    }

    /// Flags the test sets from tasks.
    final class Flags: Sendable {
        let pushed = Atomic<Int>(0)
        let idle = Atomic<Bool>(false)
    }

    @Test func aWorkerStartsWithTheFirstSendAndTakesEverythingQueuedInOrder() async {
        let pipeline = SendPipeline(capacity: 8)
        #expect(await pipeline.push(send(0)), "the first send must start a worker")
        #expect(await pipeline.push(send(1)) == false, "a second worker started")
        #expect(await pipeline.push(send(2)) == false)
        #expect(pipeline.next()?.map(\.id) == ["s0", "s1", "s2"])
        #expect(await pipeline.push(send(3)) == false, "a worker is still running")
        #expect(pipeline.next()?.map(\.id) == ["s3"])
        #expect(pipeline.next() == nil, "the worker ends on an empty queue")
        #expect(await pipeline.push(send(4)), "the next send must start a worker again")
    }

    @Test func otherRequestsWaitUntilTheBatchInFlightIsDone() async throws {
        let pipeline = SendPipeline()
        let flags = Flags()
        _ = await pipeline.push(send(0))
        _ = pipeline.next()  // the worker appends s0
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await pipeline.waitUntilIdle()
                flags.idle.store(true, ordering: .relaxed)
            }
            _ = await pipeline.push(send(1))  // read meanwhile
            #expect(pipeline.next()?.map(\.id) == ["s1"])
            let idleEarly = flags.idle.load(ordering: .relaxed)
            #expect(!idleEarly, "idle while a batch was in flight")
            #expect(pipeline.next() == nil)
            try await waitUntil("idle once the worker found nothing left") { flags.idle.load(ordering: .relaxed) }
            try await group.waitForAll()
        }
        await pipeline.waitUntilIdle()  // returns at once when idle
    }

    @Test func aFullQueueHoldsTheReaderUntilTheWorkerTakesIt() async throws {
        let pipeline = SendPipeline(capacity: 2)
        let flags = Flags()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for number in 0..<3 {
                    _ = await pipeline.push(send(number))
                    flags.pushed.add(1, ordering: .relaxed)
                }
            }
            try await waitUntil("two sends queued") { flags.pushed.load(ordering: .relaxed) == 2 }
            let pushedEarly = flags.pushed.load(ordering: .relaxed)
            #expect(pushedEarly == 2, "a third send was queued past the capacity")
            #expect(pipeline.next()?.map(\.id) == ["s0", "s1"])
            try await waitUntil("the third send queued") { flags.pushed.load(ordering: .relaxed) == 3 }
            try await group.waitForAll()
            #expect(pipeline.next()?.map(\.id) == ["s2"])
        }
    }
}
