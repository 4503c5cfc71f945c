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

/// Skips the plain bytes of a JSON string's text eight at a time: those that are neither a control character,
/// `"` nor `\`. Writing a string escapes exactly those bytes; reading one stops at them. Most strings (IDs, plain
/// text) have none, and looking at one byte at a time was the larger part of writing or reading them.
enum JSONStringScan {
    /// The first index at or after `start` from which the bytes must be looked at one by one: the start of the
    /// first eight bytes that hold a control character, `"` or `\`, or of the last seven or fewer bytes.
    static func plainPrefixEnd(of bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        var index = start
        while index + 8 <= bytes.count,
            !holdsSpecialByte(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
        {
            index += 8
        }
        return index
    }

    /// Whether any of the eight bytes of `word` is a control character, `"` or `\`. (A borrow between bytes can
    /// mark a byte above a special one too, never a word without one; the caller looks at its bytes one by one.)
    static func holdsSpecialByte(_ word: UInt64) -> Bool {
        let hasControl = (word &- ones &* 0x20) & ~word & highBits != 0
        return hasControl || hasZeroByte(word ^ (ones &* 0x22)) || hasZeroByte(word ^ (ones &* 0x5C))
    }

    /// Whether any of the eight bytes of `word` is zero: exact as a yes or no (a borrow can mark a byte above a
    /// zero one too, never a word without one). ``TextRules`` finds NUL characters with it.
    static func hasZeroByte(_ word: UInt64) -> Bool { (word &- ones) & ~word & highBits != 0 }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080
}
