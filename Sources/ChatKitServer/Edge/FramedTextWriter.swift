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

package import NIOCore
import NIOWebSocket

/// Writes a server's text frames already framed, header and payload in one buffer, past NIO's frame encoder.
///
/// NIO's `WebSocketFrameEncoder` puts a frame's header in front of its payload only when the payload's buffer is
/// uniquely referenced, and a frame written through the pipeline never is (the pipeline's `NIOAny` holds it too):
/// so every frame went out as two buffers, two writes through the pipeline and two entries of the `writev`. That
/// was about 8 % of the server's CPU in the pairs benchmark, which writes three frames per message. A server's
/// frames are not masked, so their header is two to ten bytes this writer makes itself; it writes from the
/// encoder's own context, so the buffer goes straight on toward the socket. Other frames (pings, pongs, closes,
/// and NIO's own answers to protocol errors) still go through the encoder, in the order they are written.
///
/// Package-wide so that the benchmark's raw relay frames its writes the same way (its ratios stay fair). Use it
/// on the context's event loop only, like the context itself.
package struct FramedTextWriter {
    /// The encoder's context, from which framed buffers are written; `nil` writes frames through the pipeline.
    private let encoderContext: ChannelHandlerContext?

    /// Finds NIO's frame encoder in `context`'s pipeline; without one, frames go through the pipeline as they are.
    package init(context: ChannelHandlerContext) {
        encoderContext = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
    }

    /// Writes `text` as one text frame (not flushed).
    package func write(_ text: String, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let length = text.utf8.count
        var buffer = context.channel.allocator.buffer(capacity: Self.headerSize(length) + length)
        if encoderContext != nil { Self.writeHeader(textLength: length, to: &buffer) }
        buffer.writeString(text)
        send(buffer, context: context, promise: promise)
    }

    /// Writes each of `texts` as a text frame, in order (not flushed). Frames written together share buffers of up
    /// to ``batchBufferSize`` bytes (a larger frame has one of its own): each buffer is one write through the
    /// pipeline, where a write per frame cost about as much again as framing it.
    package func write(_ texts: [String], context: ChannelHandlerContext) {
        guard encoderContext != nil, texts.count > 1 else {
            for text in texts { write(text, context: context, promise: nil) }
            return
        }
        var unwritten = texts.reduce(0) { size, text in size + Self.headerSize(text.utf8.count) + text.utf8.count }
        var buffer: ByteBuffer?
        for text in texts {
            let length = text.utf8.count
            let size = Self.headerSize(length) + length
            if let full = buffer, full.readableBytes + size > Self.batchBufferSize {
                send(full, context: context, promise: nil)
                buffer = nil
            }
            if buffer == nil {
                let capacity = max(size, min(unwritten, Self.batchBufferSize))
                buffer = context.channel.allocator.buffer(capacity: capacity)
            }
            Self.writeHeader(textLength: length, to: &buffer!)
            buffer!.writeString(text)
            unwritten -= size
        }
        if let buffer { send(buffer, context: context, promise: nil) }
    }

    /// The size of a buffer that frames written together share.
    static let batchBufferSize = 16_384

    /// Writes the readable bytes of `payload` as one text frame (not flushed).
    package func write(
        textPayload payload: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?
    ) {
        guard encoderContext != nil else { return send(payload, context: context, promise: promise) }
        let length = payload.readableBytes
        var buffer = context.channel.allocator.buffer(capacity: Self.headerSize(length) + length)
        Self.writeHeader(textLength: length, to: &buffer)
        buffer.writeImmutableBuffer(payload)
        send(buffer, context: context, promise: promise)
    }

    /// Flushes the socket.
    package func flush(context: ChannelHandlerContext) {
        (encoderContext ?? context).flush()
    }

    /// Writes a framed buffer past the encoder, or, without one, the payload as a frame through the pipeline.
    private func send(_ buffer: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let encoderContext {
            encoderContext.write(NIOAny(buffer), promise: promise)
        } else {
            context.write(NIOAny(WebSocketFrame(fin: true, opcode: .text, data: buffer)), promise: promise)
        }
    }

    /// The size of an unmasked frame's header for a payload of `length` bytes (RFC 6455 5.2).
    static func headerSize(_ length: Int) -> Int {
        switch length {
        case ...125: 2
        case ...0xFFFF: 4
        default: 10
        }
    }

    /// Writes the header of a final, unmasked text frame of `length` bytes.
    static func writeHeader(textLength length: Int, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(0x81))  // FIN and the text opcode.
        switch length {
        case ...125:
            buffer.writeInteger(UInt8(length))
        case ...0xFFFF:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
