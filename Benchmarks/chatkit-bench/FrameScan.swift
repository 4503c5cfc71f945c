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

/// Substring checks on frame text, without decoding it.
enum FrameScan {
    static let bodyKey = Array("\"body\":\"".utf8)

    /// Whether `text` contains `needle`.
    static func contains(_ text: String, _ needle: [UInt8]) -> Bool {
        var text = text
        return text.withUTF8 { index(of: needle, in: $0) != nil }
    }

    /// The offset of the first `needle` in `bytes`.
    static func index(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard needle.count <= bytes.count, let first = needle.first else { return nil }
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }

    /// The offset of the last `needle` in `bytes`.
    static func lastIndex(of needle: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard needle.count <= bytes.count, let first = needle.first else { return nil }
        var index = bytes.count - needle.count
        while index >= 0 {
            if bytes[index] == first {
                var matched = 1
                while matched < needle.count, bytes[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index -= 1
        }
        return nil
    }

    /// The type of a server frame: the value of its last `"type"` key. ChatKit writes keys sorted, so the frame's
    /// own `type` comes after `event` and `message`, near the end (nothing nested has a `type` key): telling an
    /// event from a result or an error reads a few bytes instead of the whole frame. Receivers look at every
    /// frame several times, on the cores of the server being measured.
    static func type(of text: String) -> FrameType {
        var text = text
        return text.withUTF8 { bytes -> FrameType in
            guard let start = lastIndex(of: typeKey, in: bytes) else { return .other }
            let value = UnsafeBufferPointer(rebasing: bytes[(start + typeKey.count)...])
            for (type, name) in quotedTypeNames where value.count >= name.count {
                if value.prefix(name.count).elementsEqual(name) { return type }
            }
            return .other
        }
    }

    /// The `position` of a `welcome` frame, `nil` if `text` is another frame. ChatKit writes a welcome's keys
    /// sorted and without spaces (`id`, `limits`, `position`, …, `type`, `user`, `version`), and nothing in `limits`
    /// is called `position`: the first `"position":` is the welcome's own. Every connect reads one: decoding it
    /// with `JSONDecoder` took 8 % of the generator's CPU in the idle scenario, on the cores the server is
    /// measured on.
    static func welcomePosition(of text: String) -> StreamPosition? {
        var text = text
        return text.withUTF8 { bytes -> StreamPosition? in
            guard index(of: welcomeType, in: bytes) != nil, let start = index(of: positionKey, in: bytes) else {
                return nil
            }
            var value: Int64 = 0
            var digits = 0
            for byte in bytes[(start + positionKey.count)...] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 18 else { break }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
                digits += 1
            }
            return digits > 0 ? StreamPosition(value) : nil
        }
    }

    private static let welcomeType = Array("\"type\":\"welcome\"".utf8)
    private static let positionKey = Array("\"position\":".utf8)
    private static let typeKey = Array("\"type\":\"".utf8)
    /// Each type's name and the closing quote, as bytes.
    private static let quotedTypeNames: [(FrameType, [UInt8])] = [
        (.event, Array("event\"".utf8)), (.result, Array("result\"".utf8)), (.error, Array("error\"".utf8)),
        (.synced, Array("synced\"".utf8)),
    ]
}

/// The types of server frames the generator tells apart (``FrameScan/type(of:)``).
enum FrameType {
    case event, result, error, synced, other
}
