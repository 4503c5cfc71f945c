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

extension InMemoryChatStore {
    public func append(_ new: NewMessage) async throws -> Message {
        try MembershipRules.validate(new)
        let now = now()
        // Made before taking the lock, to hold it for less (unused when this is a resend).
        let id = MessageID(rawValue: messageIDs.next(at: now))
        let words = SearchText.words(in: new.body)
        return try withState { state in
            let record = try state.memberRecord(new.conversationID, new.senderID)
            let key = InMemoryState.ClientKey(sender: new.senderID, clientMessageID: new.clientMessageID)
            if let existingID = state.messagesByClientKey[key], let location = state.messageLocations[existingID] {
                guard location.conversation == new.conversationID else {
                    throw ChatError(
                        .conflict,
                        "Client message ID '\(new.clientMessageID)' was already used in another conversation."
                    )
                }
                return record.messages[Int(location.seq) - 1]
            }
            if let replyTo = new.replyTo, state.messageLocations[replyTo]?.conversation != new.conversationID {
                throw ChatError(.invalidArgument, "A reply must refer to a message of the same conversation.")
            }
            let position = state.nextPosition()
            let message = Message(
                id: id,
                conversationID: new.conversationID,
                seq: Int64(record.messages.count) + 1,
                senderID: new.senderID,
                clientMessageID: new.clientMessageID,
                body: new.body,
                replyTo: new.replyTo,
                mentions: new.mentions,
                attachments: new.attachments,
                createdAt: now
            )
            state.updateRecord(new.conversationID) { record in
                record.messages.append(message)
                record.words.append(words)
                record.conversation.lastSeq = message.seq
                record.activityPosition = position.rawValue
            }
            state.messageLocations[message.id] = (new.conversationID, message.seq)
            state.messagesByClientKey[key] = message.id
            state.recordEvent(
                StoredEvent(
                    position: position, kind: .messageCreated, conversationID: new.conversationID,
                    actorID: new.senderID, createdAt: now, message: message
                ),
                in: new.conversationID
            )
            return message
        }
    }

    public func message(_ id: MessageID, as user: UserID) async throws -> Message {
        try withState { state in
            try state.visibleMessage(id, user).message
        }
    }

    public func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        try MembershipRules.validateLimit(query.limit)
        return try withState { state in
            let record = try state.memberRecord(id, user)
            guard let (range, _) = query.seqRange(lastSeq: Int64(record.messages.count)) else { return [] }
            return Array(record.messages[Int(range.lowerBound - 1)..<Int(range.upperBound)])
        }
    }

    public func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        let now = now()
        return try withState { state in
            let found = try state.visibleMessage(id, user)
            var message = found.message
            try MembershipRules.checkCanEdit(message, body: body, actor: user)
            message.body = body
            message.editedAt = now
            return state.replace(message, at: found.index, kind: .messageEdited, actor: user, at: now)
        }
    }

    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        let now = now()
        return try withState { state in
            let found = try state.visibleMessage(id, user)
            var message = found.message
            try MembershipRules.checkCanDelete(message, actor: user, actorRole: found.role)
            guard !message.isDeleted else { return message }
            message.body = ""
            message.mentions = []
            message.attachments = []
            message.reactions = []
            message.deletedAt = now
            return state.replace(message, at: found.index, kind: .messageDeleted, actor: user, at: now)
        }
    }

    public func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message {
        try MembershipRules.validateReaction(emoji)
        let now = now()
        return try withState { state in
            let found = try state.visibleMessage(id, user)
            var message = found.message
            guard !message.isDeleted else { throw ChatError(.conflict, "A deleted message cannot get reactions.") }
            guard !message.reactions.contains(where: { $0.userID == user && $0.emoji == emoji }) else {
                return message
            }
            let reaction = Reaction(userID: user, emoji: emoji, createdAt: now)
            message.reactions.append(reaction)
            return state.replace(message, at: found.index, kind: .reactionAdded, actor: user, at: now, reaction: reaction)
        }
    }

    public func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        let now = now()
        return try withState { state in
            let found = try state.visibleMessage(id, user)
            var message = found.message
            guard let reactionIndex = message.reactions.firstIndex(where: { $0.userID == user && $0.emoji == emoji })
            else { return message }
            let reaction = message.reactions.remove(at: reactionIndex)
            return state.replace(message, at: found.index, kind: .reactionRemoved, actor: user, at: now, reaction: reaction)
        }
    }
}

extension InMemoryState {
    mutating func updateRecord(_ id: ConversationID, _ change: (ConversationRecord) -> Void) {
        guard let record = conversations[id] else { return }
        change(record)
    }

    /// Stores a changed message and records the event describing the change.
    mutating func replace(
        _ message: Message,
        at index: Int,
        kind: EventKind,
        actor: UserID,
        at date: Date,
        reaction: Reaction? = nil
    ) -> Message {
        updateRecord(message.conversationID) { record in
            record.messages[index] = message
            record.words[index] = SearchText.words(in: message.body)
        }
        recordEvent(
            StoredEvent(
                position: nextPosition(), kind: kind, conversationID: message.conversationID, actorID: actor,
                createdAt: date, message: message, reaction: reaction
            ),
            in: message.conversationID
        )
        return message
    }
}
