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

    @Test("a connection without the handler (the API mounted on an app's server) gets one, shared by its polls")
    func connectionWithoutTheHandler() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let told = Mutex<[String]>([])
        for poll in 1...3 {
            let stop = ClientGoneHandler.whenClientLeaves(channel) { told.withLock { $0.append("poll \(poll)") } }
            channel.embeddedEventLoop.run()
            stop()
            channel.embeddedEventLoop.run()
        }
        _ = ClientGoneHandler.whenClientLeaves(channel) { told.withLock { $0.append("waiting") } }
        channel.embeddedEventLoop.run()
        // Told when the client closes its side, while the channel is still open (waiting for the channel to close,
        // each poll left a callback on it that only the close would free).
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(told.withLock { $0 } == ["waiting"])
        // One handler for all four polls.
        let pipeline = channel.pipeline.syncOperations
        try pipeline.removeHandler(try pipeline.handler(type: ClientGoneHandler.self)).wait()
        #expect(throws: (any Error).self) { try pipeline.handler(type: ClientGoneHandler.self) }
        _ = try channel.finish()
    }
}
