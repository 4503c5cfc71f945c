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
import Testing

@testable import ChatKitServer

@Suite("BoundedInbound")
struct BoundedInboundTests {
    struct Broken: Error {}

    @Test func aPushWaitsWhileCapacityMessagesWaitAndOrderIsKept() async throws {
        let inbound = BoundedInbound(capacity: 2)
        let pushed = Atomic<Int>(0)
        let pusher = Task {
            for number in 0..<4 {
                await inbound.push("m\(number)")
                pushed.add(1, ordering: .relaxed)
            }
            inbound.finish()
        }
        try await waitUntil("the second push to wait") { inbound.isPushWaiting }
        #expect(pushed.load(ordering: .relaxed) == 1, "a push returned with two messages waiting")
        var messages = inbound.stream.makeAsyncIterator()
        #expect(try await messages.next() == "m0")
        try await waitUntil("the third push to wait") { pushed.load(ordering: .relaxed) == 2 && inbound.isPushWaiting }
        var rest: [String] = []
        while let message = try await messages.next() { rest.append(message) }
        #expect(rest == ["m1", "m2", "m3"])
        await pusher.value
    }

    @Test func anErrorEndsTheMessagesAfterThoseWaiting() async throws {
        let inbound = BoundedInbound(capacity: 4)
        await inbound.push("a")
        inbound.finish(throwing: Broken())
        await inbound.push("dropped")
        var messages = inbound.stream.makeAsyncIterator()
        #expect(try await messages.next() == "a")
        await #expect(throws: Broken.self) { _ = try await messages.next() }
    }

    @Test func finishingReleasesAWaitingPushAndAWaitingReader() async throws {
        let full = BoundedInbound(capacity: 1)
        let pusher = Task { await full.push("x") }
        try await waitUntil("the push to wait") { full.isPushWaiting }
        full.finish()
        await pusher.value

        let empty = BoundedInbound(capacity: 1)
        let reader = Task { () -> String? in
            var messages = empty.stream.makeAsyncIterator()
            return try await messages.next()
        }
        try await waitUntil("the reader to wait") { empty.isReaderWaiting }
        empty.finish()
        #expect(try await reader.value == nil)
    }

    @Test func cancellingAWaitingReaderEndsItsMessages() async throws {
        let inbound = BoundedInbound(capacity: 1)
        let reader = Task { () -> String? in
            var messages = inbound.stream.makeAsyncIterator()
            return try await messages.next()
        }
        try await waitUntil("the reader to wait") { inbound.isReaderWaiting }
        reader.cancel()
        #expect(try await reader.value == nil)
    }
}
