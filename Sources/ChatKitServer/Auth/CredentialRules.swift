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

/// The username and password rules of ``AuthService``.
enum CredentialRules {
    static let usernameRule =
        "A username is 3 to 32 characters of a-z, 0-9, '.', '_' and '-', starting with a letter (uppercase letters "
        + "are turned into lowercase)."
    static let passwordRule =
        "A password is 8 to 72 bytes in UTF-8 (72 is bcrypt's limit: it ignores anything longer), is not only "
        + "whitespace and contains no NUL character."

    /// The username in lowercase, as it is stored.
    ///
    /// - Throws: ``ChatError`` `.invalidArgument` naming the broken rule.
    static func normalizedUsername(_ username: String) throws -> String {
        let name = lowercasedASCII(username)
        let bytes = Array(name.utf8)
        func invalid(_ problem: String) -> ChatError {
            ChatError(.invalidArgument, "\(problem) \(usernameRule)")
        }
        guard bytes.count >= 3 else { throw invalid("The username is too short.") }
        guard bytes.count <= 32 else { throw invalid("The username is too long.") }
        guard bytes.allSatisfy(isUsernameByte) else { throw invalid("The username contains a character not allowed.") }
        guard isLetter(bytes[0]) else { throw invalid("The username does not start with a letter.") }
        return name
    }

    /// The username as a login looks it up: lowercased like ``normalizedUsername(_:)`` but not validated (an
    /// invalid name simply matches nobody).
    static func lookupUsername(_ username: String) -> String {
        lowercasedASCII(username)
    }

    /// - Throws: ``ChatError`` `.invalidArgument` naming the broken rule.
    static func validatePassword(_ password: String) throws {
        func invalid(_ problem: String) -> ChatError {
            ChatError(.invalidArgument, "\(problem) \(passwordRule)")
        }
        let count = password.utf8.count
        guard count >= 8 else { throw invalid("The password is too short.") }
        guard count <= 72 else { throw invalid("The password is too long for bcrypt.") }
        guard !password.utf8.contains(0) else { throw invalid("The password contains a NUL character.") }
        guard !password.allSatisfy(\.isWhitespace) else { throw invalid("The password is only whitespace.") }
    }

    /// Whether `password` could be a stored password at all (bcrypt reads at most 72 bytes and stops at NUL, so a
    /// longer one could otherwise match by its prefix).
    static func isAcceptablePassword(_ password: String) -> Bool {
        password.utf8.count <= 72 && !password.utf8.contains(0)
    }

    /// ASCII A-Z to a-z; everything else unchanged (so "K", the Kelvin sign, does not become "k").
    private static func lowercasedASCII(_ string: String) -> String {
        String(decoding: string.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (97...122).contains(byte) }

    private static func isUsernameByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || (48...57).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }
}
