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

/// What text a store keeps: any Unicode text except the character U+0000 (NUL).
///
/// Stores keep text byte for byte, but not every database can hold NUL: SQLite's C interface, as GRDB and most
/// drivers use it, ends text at the first NUL byte, and PostgreSQL refuses it in `text` columns. A store that
/// silently cut `"k\u{0}1"` to `"k"` would take a second client message ID `"k\u{0}2"` for a resend of the first
/// and drop that message. So every store refuses NUL in the text it is given to keep (message bodies and client
/// message IDs, edits, titles, reactions, usernames, display names, status texts) with `.invalidArgument`; no
/// chat needs it. Custom stores get this from the shared rules (``MembershipRules``, and `validate(_:)` here for
/// new users and profile updates) and the conformance suite checks it.
public enum TextRules {
    /// Checks that `text` can be stored.
    ///
    /// - Parameter what: What the text is, for the error message ("A message body").
    /// - Throws: `.invalidArgument` if it contains U+0000 (NUL).
    public static func checkStorable(_ text: String, _ what: String) throws {
        if containsNUL(text) {
            throw ChatError(.invalidArgument, "\(what) must not contain the character U+0000 (NUL).")
        }
    }

    /// Whether `text` holds U+0000: its UTF-8 bytes looked at eight at a time (every message body and client
    /// message ID is checked, and a byte at a time was a visible part of an in-memory append).
    static func containsNUL(_ text: String) -> Bool {
        let found = text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            guard let base = bytes.baseAddress else { return false }
            var index = 0
            while index + 8 <= bytes.count {
                if JSONStringScan.hasZeroByte(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                    return true
                }
                index += 8
            }
            while index < bytes.count {
                if bytes[index] == 0 { return true }
                index += 1
            }
            return false
        }
        return found ?? text.utf8.contains(0)
    }

    /// Checks the text of a new user: username, display name and status text.
    ///
    /// - Throws: `.invalidArgument` for an empty username, or text that contains U+0000.
    public static func validate(_ user: NewUser) throws {
        guard !user.username.isEmpty else { throw ChatError(.invalidArgument, "A username must not be empty.") }
        try checkStorable(user.username, "A username")
        try checkStorable(user.displayName, "A display name")
        if let statusText = user.statusText { try checkStorable(statusText, "A status text") }
    }

    /// Checks the text of a profile update: display name and status text.
    ///
    /// - Throws: `.invalidArgument` for a display name that is empty or white space, or text that contains U+0000.
    public static func validate(_ update: ProfileUpdate) throws {
        if let displayName = update.displayName {
            guard !displayName.allSatisfy(\.isWhitespace) else {
                throw ChatError(.invalidArgument, "A display name must not be empty.")
            }
            try checkStorable(displayName, "A display name")
        }
        if let statusText = update.statusText { try checkStorable(statusText, "A status text") }
    }
}
