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

/// Other people's text made safe to print on a terminal.
///
/// Message bodies, titles and names come from other users, and a terminal acts on control characters: an escape
/// sequence can move the cursor, rewrite lines already printed, set the window title or write the clipboard (OSC
/// 52), and a line break can start a line that looks like another sender's message. Control characters (C0 but
/// tab, DEL, C1) are shown as `\u{…}`, and so are format characters (the bidirectional controls, which reorder
/// what follows them on the line, and invisible ones) and line and paragraph separators.
enum TerminalText {
    /// `text` on one line: line breaks are shown escaped too.
    static func inline(_ text: String) -> String {
        escaped(text)
    }

    /// `text` with its line breaks kept, each following line indented by `indent`, so that no line of it can pass
    /// for a line of its own.
    static func block(_ text: String, indent: String = "    ") -> String {
        escaped(text, lineBreak: "\n" + indent)
    }

    private static func escaped(_ text: String, lineBreak: String? = nil) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            if scalar == "\n", let lineBreak {
                result += lineBreak
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
        case 0x09: return false  // tab
        case 0x200D: return false  // zero-width joiner: emoji sequences are made with it
        default: break
        }
        switch scalar.properties.generalCategory {
        // Control characters (C0 with line breaks and escape, DEL, C1); format characters (bidirectional marks,
        // embeddings, overrides and isolates, zero-width spaces, tags); line and paragraph separators.
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }
}
