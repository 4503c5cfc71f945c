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

@Suite("TextRules: what text a store keeps")
struct TextRulesTests {
    /// Whether `checkStorable` refuses `text`.
    private func isRefused(_ text: String) -> Bool {
        do {
            try TextRules.checkStorable(text, "A message body")
            return false
        } catch let error as ChatError {
            return error.code == .invalidArgument
        } catch {
            return false
        }
    }

    @Test func aNULIsFoundAtEveryPlaceOfShortAndLongTexts() {
        // Texts are scanned eight bytes at a time with a byte-wise tail: every place in and around a word counts.
        for length in 0..<40 {
            let plain = String(repeating: "a", count: length)
            #expect(!isRefused(plain))
            for place in 0...length {
                var scalars = Array(plain.unicodeScalars)
                scalars.insert("\u{0}", at: place)
                var text = ""
                text.unicodeScalars.append(contentsOf: scalars)
                #expect(isRefused(text), "NUL at \(place) of \(length + 1) characters")
            }
        }
    }

    @Test func bytesNearZeroAndMultiByteCharactersAreKept() {
        // Bytes 0x01 and 0x80 are where a word-at-a-time zero test could go wrong; none of these holds a NUL.
        let texts = [
            String(repeating: "\u{1}", count: 9), "\u{80}\u{100}€😀 naïve", "Straße 🇩🇪 ünïcödé text!", "\u{7F}\u{1}\u{80}",
        ]
        for text in texts {
            #expect(!isRefused(text), "\(text.unicodeScalars.map(\.value))")
            #expect(isRefused(text + "\u{0}"))
            #expect(isRefused("\u{0}" + text))
        }
    }
}
