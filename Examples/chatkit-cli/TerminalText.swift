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

import Foundation

/// Other people's text made safe to print on a terminal.
///
/// Message bodies, titles and names come from other users, and a terminal acts on control characters: an escape
/// sequence can move the cursor, rewrite lines already printed, set the window title or write the clipboard (OSC
/// 52), and a line break can start a line that looks like another sender's message. Control characters (C0 but
/// tab, DEL, C1) are shown as `\u{…}`, and so are the bidirectional overrides and isolates, which reorder what
/// follows them on the line.
enum TerminalText {
    /// `text` on one line: line breaks are shown escaped too.
    static func inline(_ text: String) -> String {
        escaped(text, keepingLineBreaks: false)
    }

    /// `text` with its line breaks kept, each following line indented by `indent`, so that no line of it can pass
    /// for a line of its own.
    static func block(_ text: String, indent: String = "    ") -> String {
        escaped(text, keepingLineBreaks: true).replacingOccurrences(of: "\n", with: "\n" + indent)
    }

    private static func escaped(_ text: String, keepingLineBreaks: Bool) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar == "\n", keepingLineBreaks {
                result.unicodeScalars.append(scalar)
            } else if isUnsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false  // tab
        case 0x00...0x1F, 0x7F...0x9F: true  // C0 (line breaks and escape included), DEL, C1
        case 0x202A...0x202E, 0x2066...0x2069: true  // bidirectional embeddings, overrides and isolates
        default: false
        }
    }
}
