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

/// The sizes of what a client asks the server to store or look up, checked before the store sees it.
///
/// A frame is at most ``ChatServerConfiguration/Limits/maxFrameBytes``, but that alone lets one field take all
/// of it: a 256 KiB client message ID in the idempotency index, thousands of mentions or attachments on every
/// copy of a message, a title in every member's conversation list, a search query of 40,000 words (each costs
/// the store a look-up). Each of those has a bound of its own, refused with `limitExceeded`.
struct ContentLimits: Sendable {
    /// The longest client message ID, in UTF-8 bytes (``ChatKitCore/ClientMessageID/timeOrdered()`` makes 36).
    static let maxClientMessageIDBytes = 128
    /// The longest ID a message names (a mentioned user, the message replied to), in UTF-8 bytes. The store
    /// keeps mentions as given, so their length must be bounded like the rest of a message.
    static let maxReferenceBytes = 128
    /// The longest conversation ID a typing update may name, in UTF-8 bytes (stores make IDs of about 40): the
    /// server keeps a typing update's conversation ID in memory for a while, also when it names no conversation.
    static let maxTypingConversationIDBytes = 256
    /// The longest text of an attachment's ID, file name or media type, in UTF-8 bytes (a file name's usual bound).
    static let maxAttachmentFieldBytes = 255
    /// The longest display name, in UTF-8 bytes.
    static let maxDisplayNameBytes = 128
    /// The longest status text, in UTF-8 bytes.
    static let maxStatusTextBytes = 512

    let limits: ChatServerConfiguration.Limits

    /// Checks a message to send: body, client message ID, mentions and attachments.
    func check(_ send: ClientRequest.Send) throws {
        try checkBody(send.body)
        try checkSize(send.clientMessageID.rawValue, Self.maxClientMessageIDBytes, "A client message ID")
        if let mentions = send.mentions {
            guard mentions.count <= limits.maxMentions else {
                throw ChatError(.limitExceeded, "A message mentions at most \(limits.maxMentions) users.")
            }
            for mention in mentions { try checkSize(mention.rawValue, Self.maxReferenceBytes, "A mentioned user's ID") }
        }
        if let replyTo = send.replyTo {
            try checkSize(replyTo.rawValue, Self.maxReferenceBytes, "The ID of the message replied to")
        }
        if let attachments = send.attachments {
            guard attachments.count <= limits.maxAttachments else {
                throw ChatError(.limitExceeded, "A message has at most \(limits.maxAttachments) attachments.")
            }
            for attachment in attachments {
                try checkSize(attachment.id.rawValue, Self.maxAttachmentFieldBytes, "An attachment's ID")
                try checkSize(attachment.fileName, Self.maxAttachmentFieldBytes, "An attachment's file name")
                try checkSize(attachment.contentType, Self.maxAttachmentFieldBytes, "An attachment's media type")
            }
        }
    }

    /// Checks a message body (new or edited).
    func checkBody(_ body: String) throws {
        try checkSize(body, limits.maxBodyBytes, "The message body")
    }

    /// Checks a reaction to add or remove (``ChatKitCore/MembershipRules/maxReactionBytes``): refused here with
    /// `limitExceeded`, as every bound of a request is, rather than by the store with `invalidArgument`.
    func checkReaction(_ emoji: String) throws {
        try checkSize(emoji, MembershipRules.maxReactionBytes, "A reaction")
    }

    /// Checks a conversation's title.
    func checkTitle(_ title: String?) throws {
        if let title { try checkSize(title, limits.maxTitleBytes, "A title") }
    }

    /// Checks a conversation to create: its title and creation key.
    func check(_ create: ClientRequest.CreateConversation) throws {
        try checkTitle(create.title)
        if let key = create.creationKey { try checkSize(key, NewConversation.maxCreationKeyBytes, "A creation key") }
    }

    /// Checks a profile update's display name and status text.
    func check(_ update: ProfileUpdate) throws {
        if let displayName = update.displayName {
            try checkSize(displayName, Self.maxDisplayNameBytes, "A display name")
        }
        if let statusText = update.statusText { try checkSize(statusText, Self.maxStatusTextBytes, "A status text") }
    }

    /// Checks a search query: its length and how many words it has.
    func checkSearch(_ query: String) throws {
        try checkSize(query, limits.maxSearchQueryBytes, "A search query")
        let terms = SearchText(query: query).terms.count
        guard terms <= limits.maxSearchTerms else {
            throw ChatError(
                .limitExceeded, "A search query has at most \(limits.maxSearchTerms) words (this one has \(terms))."
            )
        }
    }

    private func checkSize(_ text: String, _ limit: Int, _ what: String) throws {
        let size = text.utf8.count
        guard size <= limit else {
            throw ChatError(.limitExceeded, "\(what) has \(size) bytes; the limit is \(limit).")
        }
    }
}
