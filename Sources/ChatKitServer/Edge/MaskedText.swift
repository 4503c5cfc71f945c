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
import NIOCore
import NIOWebSocket

/// The text of a masked client frame (RFC 6455 5.3), unmasked eight bytes at a time straight into the string.
///
/// NIO's `WebSocketFrame.unmaskedData` copies the payload into a new buffer and unmasks it a byte at a time;
/// turning that into a `String` copies it again. Every request a client sends goes through here, so it unmasks
/// into scratch memory (the stack for payloads up to a few KiB) and makes the string from that: one copy.
enum MaskedText {
    /// The payload unmasked with `maskKey`, as UTF-8 text; `nil` if it is not valid UTF-8.
    ///
    /// - Parameters:
    ///   - payload: The frame's payload as it arrived (masked).
    ///   - maskKey: The frame's masking key.
    ///   - keyOffset: Where in the key the payload's first byte is (0 for a frame's payload; a later part of one
    ///     payload continues where the part before it ended, modulo 4).
    static func string(_ payload: ByteBuffer, maskKey: WebSocketMaskingKey, keyOffset: Int = 0) -> String? {
        precondition(keyOffset >= 0, "A key offset counts bytes already unmasked: it cannot be negative")
        let count = payload.readableBytes
        func keyByte(_ index: Int) -> UInt8 {
            maskKey[maskKey.index(maskKey.startIndex, offsetBy: (index + keyOffset) % 4)]
        }
        // The key repeated over eight bytes, read in memory order so that it lines up with the payload's bytes
        // whatever the machine's byte order.
        let pattern = (keyByte(0), keyByte(1), keyByte(2), keyByte(3), keyByte(4), keyByte(5), keyByte(6), keyByte(7))
        let keyWord = withUnsafeBytes(of: pattern) { $0.loadUnaligned(as: UInt64.self) }
        return payload.withUnsafeReadableBytes { source in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { target in
                let targetBytes = UnsafeMutableRawBufferPointer(target)
                var index = 0
                while index + 8 <= count {
                    let word = source.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    targetBytes.storeBytes(of: word ^ keyWord, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                while index < count {
                    target[index] = source[index] ^ keyByte(index)
                    index += 1
                }
                return ValidUTF8.string(UnsafeBufferPointer(target))
            }
        }
    }
}
