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

/// Strings made from bytes that must be valid UTF-8, as `String(validating:as:)` makes them, but cheaper for the
/// text most frames carry.
///
/// `String(validating:as:)` is generic over its encoding and is not specialized outside the standard library: each
/// call looks its types' metadata up at run time (about 2 % of the server's time per message in `perf`, at a
/// dozen strings per frame). ASCII text, checked eight bytes at a time, goes through `String(decoding:as:)`,
/// whose UTF-8 path is specialized; it is exact there, as every ASCII byte sequence is valid UTF-8. Other text
/// takes the validating initializer, which refuses what `String(decoding:as:)` would repair.
package enum ValidUTF8 {
    /// The string `bytes` hold, or `nil` if they are not valid UTF-8.
    package static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Whether every byte of `bytes` is below 0x80.
    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var highBits: UInt64 = 0
        while index + 8 <= bytes.count {
            highBits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            highBits |= UInt64(bytes[index])
            index += 1
        }
        return highBits & 0x8080_8080_8080_8080 == 0
    }
}
