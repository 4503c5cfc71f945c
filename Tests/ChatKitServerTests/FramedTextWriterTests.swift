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
import NIOWebSocket
import Testing

@testable import ChatKitServer

/// Writes text frames the way a socket's handler does, behind NIO's encoder, and reads the bytes that reach the
/// socket back with NIO's own decoder.
@Suite("FramedTextWriter: text frames framed past NIO's encoder")
struct FramedTextWriterTests {
    /// A handler that writes through a `FramedTextWriter` from its own context, as `ChatSocketHandler` does.
    final class Writing: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var context: ChannelHandlerContext?
        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    }

    /// An embedded channel with NIO's frame encoder and a `Writing` handler after it.
    static func channel(withEncoder: Bool) throws -> (EmbeddedChannel, Writing) {
        let channel = EmbeddedChannel()
        if withEncoder { try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder()) }
        let writing = Writing()
        try channel.pipeline.syncOperations.addHandler(writing)
        return (channel, writing)
    }

    /// Decodes every frame in `bytes` with NIO's decoder.
    static func decode(_ bytes: ByteBuffer) throws -> [WebSocketFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try channel.writeInbound(bytes)
        var frames: [WebSocketFrame] = []
        while let frame = try channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        _ = try channel.finish()
        return frames
    }

    @Test("Each length form of the header (7-bit, 16-bit, 64-bit) decodes to the same text, one buffer a frame",
          arguments: [0, 1, 125, 126, 65_535, 65_536, 70_000])
    func lengths(length: Int) throws {
        let (channel, writing) = try Self.channel(withEncoder: true)
        let context = try #require(writing.context)
        let text = String((0..<length).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) })
        let writer = FramedTextWriter(context: context)
        writer.write(text, context: context, promise: nil)
        writer.write(textPayload: ByteBuffer(string: "é" + text), context: context, promise: nil)
        writer.flush(context: context)
        var bytes = ByteBuffer()
        var buffers = 0
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            buffers += 1
            bytes.writeBuffer(&buffer)
        }
        #expect(buffers == 2, "each frame should leave as one buffer, header and payload together")
        let frames = try Self.decode(bytes)
        #expect(frames.count == 2)
        #expect(frames.allSatisfy { $0.fin && $0.opcode == .text && $0.maskKey == nil })
        #expect(frames.map { String(buffer: $0.data) } == [text, "é" + text])
        _ = try channel.finish()
    }

    @Test("Frames written past the encoder and through it leave in the order they were written")
    func orderWithEncodedFrames() throws {
        let (channel, writing) = try Self.channel(withEncoder: true)
        let context = try #require(writing.context)
        let writer = FramedTextWriter(context: context)
        writer.write("first", context: context, promise: nil)
        let ping = WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "ping"))
        context.write(NIOAny(ping), promise: nil)
        writer.write("second", context: context, promise: nil)
        var close = ByteBuffer()
        close.write(webSocketErrorCode: .normalClosure)
        context.write(NIOAny(WebSocketFrame(fin: true, opcode: .connectionClose, data: close)), promise: nil)
        writer.flush(context: context)
        var bytes = ByteBuffer()
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes.writeBuffer(&buffer) }
        let frames = try Self.decode(bytes)
        #expect(frames.map(\.opcode) == [.text, .ping, .text, .connectionClose])
        #expect(frames.filter { $0.opcode == .text }.map { String(buffer: $0.data) } == ["first", "second"])
        _ = try channel.finish()
    }

    @Test("Frames written together share buffers of at most batchBufferSize bytes; a larger one goes alone")
    func framesWrittenTogether() throws {
        let (channel, writing) = try Self.channel(withEncoder: true)
        let context = try #require(writing.context)
        let writer = FramedTextWriter(context: context)
        let fiveThousand = (0..<3).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 5_000) }
        let texts = ["a"] + fiveThousand + [String(repeating: "z", count: 20_000), "b", "é"]
        writer.write(texts, context: context)
        writer.flush(context: context)
        var bytes = ByteBuffer()
        var sizes: [Int] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            sizes.append(buffer.readableBytes)
            bytes.writeBuffer(&buffer)
        }
        // "a" and the three of 5,000 (3 + 3 × 5,004 bytes) fit one buffer; 20,000 does not fit with them and goes
        // alone; "b" and "é" share the last.
        #expect(sizes == [15_015, 20_004, 3 + 4])
        #expect(sizes.dropLast().allSatisfy { $0 <= FramedTextWriter.batchBufferSize || $0 == 20_004 })
        let frames = try Self.decode(bytes)
        #expect(frames.allSatisfy { $0.fin && $0.opcode == .text && $0.maskKey == nil })
        #expect(frames.map { String(buffer: $0.data) } == texts)
        _ = try channel.finish()
    }

    @Test("Frames written together without NIO's encoder go on one by one as WebSocketFrame values")
    func framesWrittenTogetherWithoutEncoder() throws {
        let (channel, writing) = try Self.channel(withEncoder: false)
        let context = try #require(writing.context)
        let writer = FramedTextWriter(context: context)
        writer.write(["one", "two"], context: context)
        writer.flush(context: context)
        var texts: [String] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) { texts.append(String(buffer: frame.data)) }
        #expect(texts == ["one", "two"])
        _ = try channel.finish()
    }

    @Test("Without NIO's encoder in the pipeline, frames go on as WebSocketFrame values")
    func withoutEncoder() throws {
        let (channel, writing) = try Self.channel(withEncoder: false)
        let context = try #require(writing.context)
        let writer = FramedTextWriter(context: context)
        writer.write("hello", context: context, promise: nil)
        writer.flush(context: context)
        let frame = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(frame.opcode == .text && String(buffer: frame.data) == "hello")
        _ = try channel.finish()
    }
}
