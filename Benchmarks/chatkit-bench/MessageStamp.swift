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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the generator puts in each message body: its stream (the pair, or 0 where there is one sender), a number
/// (per stream) and the time it was meant to be sent, `"<stream> <n> <nanoseconds> <padding>"`. Receivers find it by
/// scanning the frame's text for `"body":"` instead of decoding the JSON, so that the generator stays cheap (a real
/// client decodes fully). The stream tells a message delivered to the wrong receiver from one of its own.
struct MessageStamp: Sendable, Equatable {
    var stream = 0
    var number: Int
    var sentAt: UInt64

    /// The body: the stamp, padded with `x` to `size` bytes.
    func body(size: Int) -> String {
        var body = "\(stream) \(number) \(sentAt) "
        let missing = size - body.utf8.count
        guard missing > 0 else { return body }
        if missing <= Self.padding.utf8.count {
            body += Self.padding[..<Self.padding.utf8.index(Self.padding.startIndex, offsetBy: missing)]
        } else {
            body += String(repeating: "x", count: missing)
        }
        return body
    }

    /// Padding for the usual body sizes, made once.
    private static let padding = String(repeating: "x", count: 1024)

    /// A raw relay frame: the body in the same envelope, so that one scanner reads both.
    func rawFrame(size: Int) -> String {
        "{\"body\":\"" + body(size: size) + "\"}"
    }

    /// The stamp in the first `"body":"` of `text`, or `nil` if there is none.
    static func find(in text: String) -> MessageStamp? {
        var text = text
        return text.withUTF8 { bytes -> MessageStamp? in
            guard let start = FrameScan.index(of: FrameScan.bodyKey, in: bytes) else { return nil }
            var index = start + FrameScan.bodyKey.count
            func readNumber() -> UInt64? {
                var value: UInt64 = 0
                var digits = 0
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    value = value &* 10 &+ UInt64(bytes[index] - 48)
                    index += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            guard let stream = readNumber(), index < bytes.count, bytes[index] == 32 else { return nil }
            index += 1
            guard let number = readNumber(), index < bytes.count, bytes[index] == 32 else { return nil }
            index += 1
            guard let sentAt = readNumber() else { return nil }
            return MessageStamp(stream: Int(stream), number: Int(number), sentAt: sentAt)
        }
    }
}

/// Nanoseconds on the monotonic clock (the generator both sends and receives, so one clock serves).
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
