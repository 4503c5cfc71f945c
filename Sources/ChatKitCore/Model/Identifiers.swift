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

/// A typed identifier: a string with a type of its own, so a ``UserID`` can never be passed where a
/// ``ConversationID`` is expected.
///
/// Identifiers encode to JSON as a bare string and compare by their raw value. Stores generate them with
/// ``random()``; tests may write them as string literals.
///
/// The server refuses identifiers holding U+0000 wherever a client gives one (SQLite compares bound text only up
/// to its first NUL, so `"alice\u{0}x"` would name the user `alice` there): requests decoded by ``WireCodec`` and
/// the HTTP API's parameters. Stores name nothing by one (the conformance suite checks). Stored data decodes
/// whatever it holds.
public protocol ChatIdentifier: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral where RawValue == String
{
    /// Creates an identifier from its raw string.
    init(rawValue: String)
}

extension ChatIdentifier {
    /// Creates an identifier from a string literal, as in `let alice: UserID = "alice-id"`.
    public init(stringLiteral value: String) {
        self.init(rawValue: value)
    }

    /// A new, random identifier: a lowercase version 4 UUID from the system's secure random number generator.
    public static func random() -> Self {
        Self(rawValue: UUIDText.random())
    }

    /// The raw string.
    public var description: String { rawValue }

    /// Orders identifiers by their raw strings.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes the identifier from a single string; one holding U+0000 is refused when the decoder says so
    /// (``WireCodec`` decoding a client's request).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if decoder.userInfo[.refusesNULIdentifiers] as? Bool == true, TextRules.containsNUL(text) {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "an identifier cannot contain the character U+0000"
            )
        }
        self.init(rawValue: text)
    }

    /// The identifier in `text`, as a client gives it outside JSON (a URL's path or query).
    ///
    /// - Throws: ``ChatError`` `.invalidArgument` if `text` holds U+0000.
    package init(checking text: String) throws(ChatError) {
        guard !TextRules.containsNUL(text) else { throw ChatError(.invalidArgument, Self.nulRefusal) }
        self.init(rawValue: text)
    }

    /// Whether `text` can be an identifier a client gives: it holds no U+0000.
    package static func isAcceptable(_ text: String) -> Bool { !TextRules.containsNUL(text) }

    private static var nulRefusal: String { "An identifier cannot contain the character U+0000." }

    /// Encodes the identifier as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension CodingUserInfoKey {
    /// Set to `true` in a decoder's `userInfo` to refuse identifiers holding U+0000 (what clients send).
    package static let refusesNULIdentifiers = CodingUserInfoKey(rawValue: "chatkit.refusesNULIdentifiers")!
}

/// Identifies a ``User``.
public struct UserID: ChatIdentifier {
    public let rawValue: String
    /// Creates a user ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a ``Conversation``.
public struct ConversationID: ChatIdentifier {
    public let rawValue: String
    /// Creates a conversation ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// Identifies a stored ``Message``; assigned by the store.
public struct MessageID: ChatIdentifier {
    public let rawValue: String
    /// Creates a message ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// The sender's own identifier for a message: the idempotency key of a send.
///
/// A client generates one per message it composes and keeps it across retries. The store never creates a
/// second message for the same (sender, client message ID); see ``MessageStore/append(_:)``.
public struct ClientMessageID: ChatIdentifier {
    public let rawValue: String
    /// Creates a client message ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

extension ClientMessageID {
    /// A new client message ID that grows with time: a lowercase UUID in the version 7 layout of RFC 9562.
    ///
    /// Prefer it to ``ChatIdentifier/random()``. A store indexes each message's client message ID (with its
    /// sender) to keep sends idempotent; IDs that grow with time add to the end of that index, so a commit of many
    /// sends from clients whose clocks agree writes one page of it instead of one page per sender (measured on
    /// SQLite with 16 writers, against random IDs: up to 1.6 times the append rate with one clock, 1.05–1.2 times
    /// with clocks ±100 ms apart). Any unique string still works: the order only makes the index cheaper.
    ///
    /// The ID shows the members of the conversation when the client made it (its first 48 bits are the client's
    /// clock in milliseconds), which may be earlier than the message's `createdAt` for a message queued offline.
    ///
    /// - Returns: A new ID, greater than every ID this function returned before in this process, even if the
    ///   clock went back meanwhile.
    public static func timeOrdered() -> ClientMessageID {
        ClientMessageID(rawValue: TimeOrderedUUIDGenerator.shared.next())
    }
}

/// Identifies an ``Attachment`` (the blob it refers to is kept by a blob store, not the chat store).
public struct AttachmentID: ChatIdentifier {
    public let rawValue: String
    /// Creates an attachment ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}
