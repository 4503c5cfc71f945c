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

/// A stored message.
///
/// `seq` numbers a conversation's messages 1, 2, 3, … in commit order with no gaps. A deleted message stays as
/// a *tombstone*: its seq and IDs remain, while its body, mentions, attachments and reactions are gone.
public struct Message: Hashable, Sendable, Codable {
    /// The store's identifier of the message.
    public var id: MessageID
    /// The conversation it belongs to.
    public var conversationID: ConversationID
    /// Its position in the conversation: strictly increasing and gapless, starting at 1.
    public var seq: Int64
    /// Who sent it.
    public var senderID: UserID
    /// The sender's idempotency key (see ``MessageStore/append(_:)``).
    public var clientMessageID: ClientMessageID
    /// The text; empty once deleted.
    public var body: String
    /// The message this one replies to, in the same conversation.
    public var replyTo: MessageID?
    /// Users mentioned in the body.
    public var mentions: [UserID]
    /// Attached files.
    public var attachments: [Attachment]
    /// Reactions, in the order they were added.
    public var reactions: [Reaction]
    /// When the store committed it.
    public var createdAt: Date
    /// When the body was last edited, if ever.
    public var editedAt: Date?
    /// When it was deleted, if it was: the message is then a tombstone.
    public var deletedAt: Date?

    /// Whether the message was deleted (is a tombstone).
    public var isDeleted: Bool { deletedAt != nil }

    /// Creates a message value.
    public init(
        id: MessageID,
        conversationID: ConversationID,
        seq: Int64,
        senderID: UserID,
        clientMessageID: ClientMessageID,
        body: String,
        replyTo: MessageID? = nil,
        mentions: [UserID] = [],
        attachments: [Attachment] = [],
        reactions: [Reaction] = [],
        createdAt: Date,
        editedAt: Date? = nil,
        deletedAt: Date? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.seq = seq
        self.senderID = senderID
        self.clientMessageID = clientMessageID
        self.body = body
        self.replyTo = replyTo
        self.mentions = mentions
        self.attachments = attachments
        self.reactions = reactions
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.deletedAt = deletedAt
    }
}

/// What a sender supplies to send a message; the store assigns ID, seq and creation time.
public struct NewMessage: Hashable, Sendable, Codable {
    /// Where to post it. The sender must be a member.
    public var conversationID: ConversationID
    /// Who sends it.
    public var senderID: UserID
    /// The sender's idempotency key: the same key again returns the first result.
    public var clientMessageID: ClientMessageID
    /// The text. May be empty only when there are attachments.
    public var body: String
    /// A message of the same conversation this one replies to.
    public var replyTo: MessageID?
    /// Users mentioned in the body.
    public var mentions: [UserID]
    /// Attached files (metadata only).
    public var attachments: [Attachment]

    /// Creates the description of a message to send.
    public init(
        conversationID: ConversationID,
        senderID: UserID,
        clientMessageID: ClientMessageID = .timeOrdered(),
        body: String,
        replyTo: MessageID? = nil,
        mentions: [UserID] = [],
        attachments: [Attachment] = []
    ) {
        self.conversationID = conversationID
        self.senderID = senderID
        self.clientMessageID = clientMessageID
        self.body = body
        self.replyTo = replyTo
        self.mentions = mentions
        self.attachments = attachments
    }
}
