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
        return try withState { state in try state.append(new, prepare(new)) }
    }

    /// Appends a batch under one hold of the lock (the server appends each session's waiting sends together).
    public func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
        let valid = messages.map { new in Result { try MembershipRules.validate(new) } }
        do {
            return try withState { state in
                zip(messages, valid).map { new, valid in
                    valid.flatMap { Result { try state.append(new, prepare(new)) } }
                }
            }
        } catch {
            return Array(repeating: .failure(error), count: messages.count)
        }
    }

    /// The time and the message ID of an append (the ID unused when the append is a resend). Made under the lock:
    /// made before it, a later seq could carry an earlier time and a lower ID than the message before it, for a
    /// client that orders by time or pages by time to miss or misplace.
    private func prepare(_ new: NewMessage) -> InMemoryState.PreparedAppend {
        let now = now()
        return InMemoryState.PreparedAppend(now: now, id: MessageID(rawValue: messageIDs.next(at: now)))
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
        return try withState { state in
            let now = now()
            let found = try state.visibleMessage(id, user)
            var message = found.message
            try MembershipRules.checkCanEdit(message, body: body, actor: user)
            // A retried edit (the same bytes) changes nothing and records nothing.
            guard !body.utf8.elementsEqual(message.body.utf8) else { return message }
            message.body = body
            message.editedAt = now
            return state.replace(message, at: found.index, kind: .messageEdited, actor: user, at: now)
        }
    }

    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        return try withState { state in
            let now = now()
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
        return try withState { state in
            let now = now()
            let found = try state.visibleMessage(id, user)
            var message = found.message
            guard !message.isDeleted else { throw ChatError(.conflict, "A deleted message cannot get reactions.") }
            guard !message.reactions.contains(where: { $0.userID == user && $0.emoji == emoji }) else {
                return message
            }
            try MembershipRules.checkRoom(forReaction: emoji, on: message)
            let reaction = Reaction(userID: user, emoji: emoji, createdAt: now)
            message.reactions.append(reaction)
            return state.replace(message, at: found.index, kind: .reactionAdded, actor: user, at: now, reaction: reaction)
        }
    }

    public func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        return try withState { state in
            let now = now()
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
    /// The time and message ID of an append, made under the store's lock.
    struct PreparedAppend {
        /// The message's creation time.
        var now: Date
        /// The ID the message gets if it is not a resend.
        var id: MessageID
    }

    /// Appends a validated message, or returns the stored one if it is a resend.
    mutating func append(_ new: NewMessage, _ prepared: PreparedAppend) throws -> Message {
        let key = ClientKey(sender: new.senderID, clientMessageID: new.clientMessageID)
        let resent = messagesByClientKey.location(of: key) { location in
            let stored = self.message(at: location)
            return stored.senderID == key.sender && ClientKey.sameBytes(stored.clientMessageID, key.clientMessageID)
        }
        // A resend of a stored message gets it back even from a sender removed since (it was sent), without the
        // reactions members added: what they did after is not the removed sender's to see.
        if let resent, let record = conversations[new.conversationID], resent.conversation == record.number {
            var message = self.message(at: resent)
            if record.role(of: new.senderID) == nil { message.reactions = [] }
            return message
        }
        let record = try memberRecord(new.conversationID, new.senderID)
        if let resent {
            guard resent.conversation == record.number else {
                throw ChatError(
                    .conflict, "Client message ID '\(new.clientMessageID)' was already used in another conversation."
                )
            }
            return self.message(at: resent)
        }
        if let replyTo = new.replyTo, location(of: replyTo)?.conversation != record.number {
            throw ChatError(.invalidArgument, "A reply must refer to a message of the same conversation.")
        }
        let position = nextPosition()
        let message = Message(
            id: prepared.id,
            conversationID: new.conversationID,
            seq: Int64(record.messages.count) + 1,
            senderID: new.senderID,
            clientMessageID: new.clientMessageID,
            body: new.body,
            replyTo: new.replyTo,
            mentions: new.mentions,
            attachments: new.attachments,
            createdAt: prepared.now
        )
        // The record is a class: changed in place, without looking the conversation up again.
        record.messages.append(message)
        record.words.append(nil)
        record.conversation.lastSeq = message.seq
        record.activityPosition = position.rawValue
        let location = MessageLocation(conversation: record.number, seq: message.seq)
        messageLocations.insert(message.id, at: location)
        messagesByClientKey.insert(key, at: location)
        // The event refers to the message (`InMemoryLogEntry`); it is made when read.
        record.eventIndices.append(log.count)
        record.creationIndices.append(log.count)
        log.append(.messageCreated(record, index: record.messages.count - 1, position: position))
        return message
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
        guard let record = conversations[message.conversationID] else { return message }
        let creation = record.creationIndices[index]
        if message.isDeleted {
            // Deleted content is gone from the store's memory, not only from what reads return (the SQLite store
            // scrubs its rows): every earlier event holding the message now holds the tombstone, and a creation
            // entry that still refers to the message shows it.
            for copy in record.copyIndices.removeValue(forKey: index) ?? [] {
                var event = log[copy].event
                event.message = message
                log[copy] = .stored(event)
            }
        } else if case .messageCreated = log[creation] {
            // The message's `messageCreated` event keeps showing it as created (`InMemoryLogEntry`).
            log[creation] = .stored(log[creation].event)
            record.copyIndices[index, default: []].append(creation)
        }
        record.messages[index] = message
        record.words[index] = nil
        if !message.isDeleted { record.copyIndices[index, default: []].append(log.count) }
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
