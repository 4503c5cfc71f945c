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
