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

import ChatKitClient
import ChatKitCore
import ChatKitTesting
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

    /// What a raw in-process connection ends with: `nil` when closed normally, else the close reason's text.
    func ending(of connection: Connection) async -> String? {
        do {
            for try await _ in connection.inbound {}
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aSilentConnectionIsClosedWithTimeoutOnTheServersClock() async throws {
        var configuration = ChatServerConfiguration()
        configuration.helloTimeout = .seconds(10)
        try await ServerHarness.run(configuration: configuration) { harness in
            try await harness.transport.withConnection { connection in
                // The deadline is a timer: wait until it is scheduled, then move the clock past it.
                try await waitUntil("the hello deadline") { harness.server.timers.pendingCount == 1 }
                harness.clock.advance(by: .seconds(10))
                let reason: String = try await withTimeout("the silent connection to close") {
                    await ending(of: connection) ?? "closed normally"
                }
                #expect(reason.contains("timeout"), "\(reason)")
            }
        }
    }

    @Test func aConnectionThatSaidHelloInTimeOutlivesItsDeadline() async throws {
        var configuration = ChatServerConfiguration()
        configuration.helloTimeout = .seconds(10)
        try await ServerHarness.run(configuration: configuration) { harness in
            _ = try await harness.user("alice")
            let alice = try await harness.connect("alice")
            harness.clock.advance(by: .seconds(30))
            // Still open: a request after the deadline is answered.
            try await alice.client.ping()
            #expect(alice.client.connectionState == .connected)
            await alice.disconnect()
        }
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
