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
import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@Suite("ClientGoneHandler: a long poll learns that its client left")
struct ClientGoneHandlerTests {
    @Test("a poll that ended leaves nothing behind; the waiting one is told once when the client closes its side")
    func pollsOnOneConnection() throws {
        let channel = EmbeddedChannel(handler: ClientGoneHandler())
        let told = Mutex<[String]>([])
        // Polls one after another on a keep-alive connection: each ends before the next.
        for poll in 1...3 {
            let stop = ClientGoneHandler.whenClientLeaves(channel) { told.withLock { $0.append("poll \(poll)") } }
            channel.embeddedEventLoop.run()
            stop()
            channel.embeddedEventLoop.run()
        }
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(told.withLock { $0 } == [], "a poll that had ended was told")
        // Once gone, a poll that starts is told at once.
        _ = ClientGoneHandler.whenClientLeaves(channel) { told.withLock { $0.append("late") } }
        channel.embeddedEventLoop.run()
        #expect(told.withLock { $0 } == ["late"])

        // A waiting poll is told once, when the client closes its side, not again when the channel closes.
        let other = EmbeddedChannel(handler: ClientGoneHandler())
        _ = ClientGoneHandler.whenClientLeaves(other) { told.withLock { $0.append("waiting") } }
        other.embeddedEventLoop.run()
        other.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        _ = try other.finish()
        _ = try channel.finish()
        #expect(told.withLock { $0 } == ["late", "waiting"])
    }
}
