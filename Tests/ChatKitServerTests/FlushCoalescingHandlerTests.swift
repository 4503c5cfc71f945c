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

import NIOCore
import NIOEmbedded
import Testing

@testable import ChatKitServer

/// The handler on an embedded channel, whose event loop runs queued tasks only when told to.
@Suite("Flush coalescing")
struct FlushCoalescingHandlerTests {
    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func frame(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    /// Everything the channel wrote to its socket so far, in order.
    func written(_ channel: EmbeddedChannel) throws -> [String] {
        var texts: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { texts.append(String(buffer: buffer)) }
        return texts
    }

    @Test func flushesRequestedInOneTurnOfTheLoopBecomeOne() throws {
        let channel = try channel()
        for text in ["welcome", "event 1", "event 2"] { channel.writeAndFlush(frame(text), promise: nil) }
        #expect(try written(channel).isEmpty, "a flush was passed on before the loop's queue ran")
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["welcome", "event 1", "event 2"])
        // The next frame starts a new round.
        channel.writeAndFlush(frame("event 3"), promise: nil)
        channel.embeddedEventLoop.run()
        #expect(try written(channel) == ["event 3"])
        _ = try channel.finish()
    }

    @Test func aCloseFlushesWhatWasWrittenBeforeIt() throws {
        let channel = try channel()
        channel.writeAndFlush(frame("last event"), promise: nil)
        channel.writeAndFlush(frame("close frame"), promise: nil)
        let closed = channel.close()
        channel.embeddedEventLoop.run()
        try closed.wait()
        #expect(try written(channel) == ["last event", "close frame"])
    }

    @Test func aLongRunOfFlushesIsPassedOnWithoutWaitingForTheLoop() throws {
        let channel = try channel()
        let count = FlushCoalescingHandler.maximumAbsorbedFlushes + 1
        for number in 0..<count { channel.writeAndFlush(frame("\(number)"), promise: nil) }
        #expect(try written(channel) == (0..<count).map { "\($0)" })
        _ = try channel.finish()
    }
}
