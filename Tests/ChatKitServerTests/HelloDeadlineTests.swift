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
import Testing

@testable import ChatKitServer

@Suite("Hello deadline")
struct HelloDeadlineTests {
    /// Something the writer's closures hold, to see when the deadline lets go of them.
    final class Socket: Sendable {}

    func writer(holding socket: Socket) -> OutboundWriter {
        OutboundWriter(write: { _ in _ = socket }, close: { _ in _ = socket })
    }

    @Test func aFrameInTimeWinsAndTheDeadlineLetsGoOfTheConnection() {
        weak var held: Socket?
        let deadline: HelloDeadline
        do {
            let socket = Socket()
            held = socket
            deadline = HelloDeadline(writer: writer(holding: socket))
        }
        #expect(held != nil, "the deadline must hold the writer while it waits")
        #expect(deadline.stopWaiting())
        #expect(held == nil, "a decided deadline still held the connection")
        #expect(deadline.expire() == nil, "the deadline closed a connection whose first frame arrived in time")
        #expect(!deadline.hasExpired)
    }

    @Test func anExpiredDeadlineClosesOnceAndALateFrameIsRefused() {
        let deadline = HelloDeadline(writer: writer(holding: Socket()))
        #expect(deadline.expire() != nil)
        #expect(deadline.expire() == nil, "the connection was to be closed twice")
        #expect(deadline.hasExpired)
        #expect(!deadline.stopWaiting(), "a frame after the deadline was accepted")
        #expect(deadline.hasExpired)
    }
}
