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

@Suite("Strings from bytes that must be valid UTF-8")
struct ValidUTF8Tests {
    static func string(_ bytes: [UInt8]) -> String? { bytes.withUnsafeBufferPointer(ValidUTF8.string) }

    /// What the standard library's validating initializer makes of the bytes, the reference.
    static func reference(_ bytes: [UInt8]) -> String? { String(validating: bytes, as: UTF8.self) }

    static let invalidSequences: [[UInt8]] = [
        [0x80],  // a continuation byte alone
        [0xC0, 0x80],  // an overlong NUL
        [0xED, 0xA0, 0x80],  // a surrogate
        [0xE2, 0x82],  // cut short
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xFF],
    ]

    @Test("ASCII of every length up to a few words reads as itself")
    func ascii() {
        for length in 0...40 {
            let text = String((0..<length).map { Character(Unicode.Scalar(UInt8(32 + ($0 * 7) % 95))) })
            #expect(Self.string(Array(text.utf8)) == text, "length \(length)")
        }
        let controls: [UInt8] = [0, 1, 0x1F, 0x7F, 0x41, 0, 0x7F, 0x0A, 0x09]
        #expect(Self.string(controls) == Self.reference(controls))
    }

    @Test("valid text beyond ASCII reads as the validating initializer reads it, at every position in a word")
    func validBeyondASCII() {
        for scalar in ["é", "€", "😀", "\u{10FFFF}"] {
            for prefix in 0...9 {
                let text = String(repeating: "a", count: prefix) + scalar + String(repeating: "b", count: 9 - prefix)
                #expect(Self.string(Array(text.utf8)) == text)
            }
        }
    }

    @Test("invalid UTF-8 is refused wherever it sits, in the words read eight at a time or in the tail")
    func invalid() {
        for sequence in Self.invalidSequences {
            for prefix in [0, 3, 7, 8, 13, 16] {
                for suffix in [0, 1, 5, 8] {
                    let bytes = Array(repeating: UInt8(ascii: "x"), count: prefix) + sequence
                        + Array(repeating: UInt8(ascii: "y"), count: suffix)
                    #expect(Self.reference(bytes) == nil)
                    #expect(Self.string(bytes) == nil, "\(sequence) after \(prefix) bytes, before \(suffix)")
                }
            }
        }
    }
}
