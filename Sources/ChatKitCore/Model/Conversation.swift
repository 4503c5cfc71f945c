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

public import Foundation

/// What kind of conversation a ``Conversation`` is.
public struct ConversationKind: NamedChoice {
    public let rawValue: String
    /// Creates a kind from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Exactly two users. There is at most one direct conversation between any two users; it has no title and
    /// its membership never changes.
    public static let direct = ConversationKind(rawValue: "direct")
    /// A private group: users join only when an owner or admin adds them.
    public static let group = ConversationKind(rawValue: "group")
    /// A public channel: anyone may look it up by ID and join it.
    public static let channel = ConversationKind(rawValue: "channel")

    public static var allKnown: [ConversationKind] { [.direct, .group, .channel] }
}

/// A conversation: a direct chat, a group or a channel.
public struct Conversation: Hashable, Sendable, Codable {
    /// The conversation's identifier.
    public var id: ConversationID
    /// Direct, group or channel.
    public var kind: ConversationKind
    /// The title of a group or channel; `nil` for a direct conversation.
    public var title: String?
    /// The user who created it (its first owner).
    public var createdBy: UserID
    /// When it was created.
    public var createdAt: Date
    /// The seq of the newest message, `0` while there is none.
    public var lastSeq: Int64

    /// Creates a conversation value.
    public init(
        id: ConversationID,
        kind: ConversationKind,
        title: String?,
        createdBy: UserID,
        createdAt: Date,
        lastSeq: Int64 = 0
    ) {
        self.id = id
        self.kind = kind
        self.title = title
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.lastSeq = lastSeq
    }
}

/// What a caller supplies to create a conversation; the store assigns the ID and the creation time.
public struct NewConversation: Hashable, Sendable, Codable {
    /// Direct, group or channel.
    public var kind: ConversationKind
    /// The title of a group or channel (ignored for direct conversations).
    public var title: String?
    /// The creator, who becomes the owner of a group or channel (both users of a direct conversation are plain
    /// members).
    public var createdBy: UserID
    /// The other initial members (the creator is always a member). A direct conversation names exactly one.
    public var memberIDs: [UserID]
    /// The idempotency key of this creation, chosen by the creator's client (at most
    /// ``maxCreationKeyBytes`` UTF-8 bytes, not empty): creating again with the same key and creator returns the
    /// conversation created the first time instead of a second one, so a client whose answer was lost (its
    /// connection dropped) can safely ask again. `nil`: every creation of a group or channel makes a new one.
    /// A direct conversation needs no key; the pair of users already finds it.
    public var creationKey: String?

    /// The longest ``creationKey``, in UTF-8 bytes.
    public static let maxCreationKeyBytes = 128

    /// Creates the description of a new conversation.
    public init(
        kind: ConversationKind, title: String? = nil, createdBy: UserID, memberIDs: [UserID] = [],
        creationKey: String? = nil
    ) {
        self.kind = kind
        self.title = title
        self.createdBy = createdBy
        self.memberIDs = memberIDs
        self.creationKey = creationKey
    }

    /// A direct conversation between `user` and `other`.
    public static func direct(between user: UserID, and other: UserID) -> NewConversation {
        NewConversation(kind: .direct, createdBy: user, memberIDs: [other])
    }

    /// A group titled `title`, created by `creator`, with `members` besides the creator; see ``creationKey``.
    public static func group(
        _ title: String, createdBy creator: UserID, members: [UserID] = [], creationKey: String? = nil
    ) -> NewConversation {
        NewConversation(kind: .group, title: title, createdBy: creator, memberIDs: members, creationKey: creationKey)
    }

    /// A channel titled `title`, created by `creator`, with `members` besides the creator; see ``creationKey``.
    public static func channel(
        _ title: String, createdBy creator: UserID, members: [UserID] = [], creationKey: String? = nil
    ) -> NewConversation {
        NewConversation(kind: .channel, title: title, createdBy: creator, memberIDs: members, creationKey: creationKey)
    }
}
