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
import NIOWebSocket
import Testing

@testable import ChatKitServer

@Suite("MaskedText: a client frame's payload unmasked into text")
struct MaskedTextTests {
    /// `text`'s bytes masked with `key` from `offset` on, as a client sends them (NIO's own masking).
    private func masked(_ bytes: [UInt8], _ key: WebSocketMaskingKey, offset: Int = 0) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: bytes)
        buffer.webSocketMask(key, indexOffset: offset)
        return buffer
    }

    @Test func unmasksEveryLengthAsNIODoes() {
        let key: WebSocketMaskingKey = [0x37, 0xFA, 0x21, 0x3D]
        let characters = ["a", "é", "€", "😀", " ", "{", "\"", "b", "c"]
        for length in 0..<70 {
            // One to four bytes a character: byte lengths from 0 to well past a few eight-byte words.
            let text = (0..<length).map { characters[$0 % characters.count] }.joined()
            for offset in 0..<4 {
                let payload = masked(Array(text.utf8), key, offset: offset)
                #expect(MaskedText.string(payload, maskKey: key, keyOffset: offset) == text, "\(length) \(offset)")
            }
        }
        let mixed = "aé€😀 {\"type\":\"send\",\"body\":\"naïve Straße\"} and some more text to pass eight bytes"
        #expect(MaskedText.string(masked(Array(mixed.utf8), key), maskKey: key) == mixed)
    }

    @Test func aSliceOfALargerBufferIsUnmaskedFromItsOwnStart() {
        // A frame's payload is a slice of the bytes read from the socket, starting anywhere in them.
        let key: WebSocketMaskingKey = [1, 2, 3, 4]
        var read = ByteBuffer(string: "header")
        var payload = masked(Array("the payload of a frame".utf8), key)
        read.writeBuffer(&payload)
        let slice = read.getSlice(at: 6, length: read.readableBytes - 6)!
        #expect(MaskedText.string(slice, maskKey: key) == "the payload of a frame")
    }

    @Test func invalidUTF8IsRefused() {
        let key: WebSocketMaskingKey = [9, 8, 7, 6]
        for bytes: [UInt8] in [[0xFF], [0x61, 0xC3], Array("abcdefgh".utf8) + [0xE2, 0x82], [0xC0, 0x80]] {
            #expect(MaskedText.string(masked(bytes, key), maskKey: key) == nil, "\(bytes)")
        }
    }
}
