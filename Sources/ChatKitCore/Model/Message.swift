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
    /// The fields, in a box that copies share (copy on write; see ``ImmutableBox``).
    private var storage: ImmutableBox<MessageFields>

    /// The store's identifier of the message.
    public var id: MessageID {
        _read { yield storage.value.id }
        set { update { $0.id = newValue } }
    }
    /// The conversation it belongs to.
    public var conversationID: ConversationID {
        _read { yield storage.value.conversationID }
        set { update { $0.conversationID = newValue } }
    }
    /// Its position in the conversation: strictly increasing and gapless, starting at 1.
    public var seq: Int64 {
        _read { yield storage.value.seq }
        set { update { $0.seq = newValue } }
    }
    /// Who sent it.
    public var senderID: UserID {
        _read { yield storage.value.senderID }
        set { update { $0.senderID = newValue } }
    }
    /// The sender's idempotency key (see ``MessageStore/append(_:)``).
    public var clientMessageID: ClientMessageID {
        _read { yield storage.value.clientMessageID }
        set { update { $0.clientMessageID = newValue } }
    }
    /// The text; empty once deleted.
    public var body: String {
        _read { yield storage.value.body }
        set { update { $0.body = newValue } }
    }
    /// The message this one replies to, in the same conversation.
    public var replyTo: MessageID? {
        _read { yield storage.value.replyTo }
        set { update { $0.replyTo = newValue } }
    }
    /// Users mentioned in the body.
    public var mentions: [UserID] {
        _read { yield storage.value.mentions }
        set { update { $0.mentions = newValue } }
    }
    /// Attached files.
    public var attachments: [Attachment] {
        _read { yield storage.value.attachments }
        set { update { $0.attachments = newValue } }
    }
    /// Reactions, in the order they were added.
    public var reactions: [Reaction] {
        _read { yield storage.value.reactions }
        set { update { $0.reactions = newValue } }
    }
    /// When the store committed it.
    public var createdAt: Date {
        _read { yield storage.value.createdAt }
        set { update { $0.createdAt = newValue } }
    }
    /// When the body was last edited, if ever.
    public var editedAt: Date? {
        _read { yield storage.value.editedAt }
        set { update { $0.editedAt = newValue } }
    }
    /// When it was deleted, if it was: the message is then a tombstone.
    public var deletedAt: Date? {
        _read { yield storage.value.deletedAt }
        set { update { $0.deletedAt = newValue } }
    }

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
        storage = ImmutableBox(
            MessageFields(
                id: id, conversationID: conversationID, seq: seq, senderID: senderID,
                clientMessageID: clientMessageID, body: body, replyTo: replyTo, mentions: mentions,
                attachments: attachments, reactions: reactions, createdAt: createdAt, editedAt: editedAt,
                deletedAt: deletedAt
            )
        )
    }

    private mutating func update(_ change: (inout MessageFields) -> Void) {
        var fields = storage.value
        change(&fields)
        storage = ImmutableBox(fields)
    }

    /// Decodes the fields under their names.
    public init(from decoder: any Decoder) throws {
        storage = ImmutableBox(try MessageFields(from: decoder))
    }

    /// Encodes the fields under their names.
    public func encode(to encoder: any Encoder) throws {
        try storage.value.encode(to: encoder)
    }

    /// Whether every field is equal.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
    }

    /// Hashes every field.
    public func hash(into hasher: inout Hasher) {
        storage.value.hash(into: &hasher)
    }
}

/// ``Message``'s stored fields; their names are its coding keys.
private struct MessageFields: Hashable, Sendable, Codable {
    var id: MessageID
    var conversationID: ConversationID
    var seq: Int64
    var senderID: UserID
    var clientMessageID: ClientMessageID
    var body: String
    var replyTo: MessageID?
    var mentions: [UserID]
    var attachments: [Attachment]
    var reactions: [Reaction]
    var createdAt: Date
    var editedAt: Date?
    var deletedAt: Date?
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
