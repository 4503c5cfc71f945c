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

public import ChatKitCore
import GRDB

extension SQLiteChatStore {
    // MARK: MessageStore

    /// Commits a message and assigns its seq; see ``ChatKitCore/MessageStore/append(_:)``.
    ///
    /// Concurrent appends are committed together in one transaction (group commit); this call returns once the
    /// transaction holding this message has committed, with the durability of ``Configuration/synchronous``. An
    /// append that has started is committed even if the calling task is cancelled meanwhile, unless it had not
    /// reached the database yet, in which case it throws `CancellationError` and stores nothing.
    public func append(_ new: NewMessage) async throws -> Message {
        try MembershipRules.validate(new)
        do {
            return try await appends.submit(new)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ErrorMapping.chatError(error)
        }
    }

    /// Appends one message inside a group-commit transaction. Every check runs before the first write, so a
    /// refused message (a thrown ``ChatError``) changes nothing.
    static func append(_ new: NewMessage, _ context: WriteContext) throws -> Message {
        let db = context.db
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT c.lastSeq, m.role FROM conversation c
                        LEFT JOIN member m ON m.conversationID = c.id AND m.userID = ?
                        WHERE c.id = ?
                        """
                ),
                arguments: [new.senderID.rawValue, new.conversationID.rawValue]
            ), row[1] as String? != nil
        else { throw Lookups.notFound() }
        let lastSeq: Int64 = row[0]
        if let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(messageColumns) FROM message WHERE senderID = ? AND clientMessageID = ?"),
            arguments: [new.senderID.rawValue, new.clientMessageID.rawValue]
        ) {
            let message = try Codec.message(existing, context.decoder)
            guard message.conversationID == new.conversationID else {
                throw ChatError(
                    .conflict,
                    "Client message ID '\(new.clientMessageID)' was already used in another conversation."
                )
            }
            return message
        }
        if let replyTo = new.replyTo {
            let conversation = try String.fetchOne(
                db.cachedStatement(sql: "SELECT conversationID FROM message WHERE id = ?"),
                arguments: [replyTo.rawValue]
            )
            guard conversation == new.conversationID.rawValue else {
                throw ChatError(.invalidArgument, "A reply must refer to a message of the same conversation.")
            }
        }
        let position = context.nextPosition()
        let message = Message(
            id: .random(),
            conversationID: new.conversationID,
            seq: lastSeq + 1,
            senderID: new.senderID,
            clientMessageID: new.clientMessageID,
            body: new.body,
            replyTo: new.replyTo,
            mentions: new.mentions,
            attachments: new.attachments,
            createdAt: context.now
        )
        try db.cachedStatement(
            sql: """
                INSERT INTO message (id, conversationID, seq, senderID, clientMessageID, body, replyTo, mentions,
                    attachments, createdAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            message.id.rawValue, message.conversationID.rawValue, message.seq, message.senderID.rawValue,
            message.clientMessageID.rawValue, message.body, message.replyTo?.rawValue,
            try Codec.list(message.mentions, context.encoder), try Codec.list(message.attachments, context.encoder),
            context.nowMilliseconds,
        ])
        try db.cachedStatement(sql: "UPDATE conversation SET lastSeq = ?, activityPosition = ? WHERE id = ?")
            .execute(arguments: [message.seq, position.rawValue, message.conversationID.rawValue])
        try context.record(
            StoredEvent(
                position: position, kind: .messageCreated, conversationID: message.conversationID,
                actorID: message.senderID, createdAt: context.now, message: message
            )
        )
        return message
    }

    public func message(_ id: MessageID, as user: UserID) async throws -> Message {
        try await read { db in
            try Lookups.visibleMessage(db, id, user, Codec.makeDecoder()).message
        }
    }

    public func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        try MembershipRules.validateLimit(query.limit)
        return try await read { db in
            let conversation = try Lookups.memberConversation(db, id, user)
            guard let (range, _) = query.seqRange(lastSeq: conversation.lastSeq) else { return [] }
            let decoder = Codec.makeDecoder()
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(messageColumns) FROM message
                        WHERE conversationID = ? AND seq BETWEEN ? AND ? ORDER BY seq
                        """
                ),
                arguments: [id.rawValue, range.lowerBound, range.upperBound]
            ).map { try Codec.message($0, decoder) }
        }
    }

    public func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        try await write { context in
            var message = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            try MembershipRules.checkCanEdit(message, body: body, actor: user)
            message.body = body
            message.editedAt = context.now
            return try Self.replace(message, kind: .messageEdited, actor: user, context)
        }
    }

    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        try await write { context in
            let (found, role) = try Lookups.visibleMessage(context.db, id, user, context.decoder)
            var message = found
            try MembershipRules.checkCanDelete(message, actor: user, actorRole: role)
            guard !message.isDeleted else { return message }
            message.body = ""
            message.mentions = []
            message.attachments = []
            message.reactions = []
            message.deletedAt = context.now
            return try Self.replace(message, kind: .messageDeleted, actor: user, context)
        }
    }

    public func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message {
        try MembershipRules.validateReaction(emoji)
        return try await write { context in
            var message = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            guard !message.isDeleted else { throw ChatError(.conflict, "A deleted message cannot get reactions.") }
            guard !message.reactions.contains(where: { $0.userID == user && $0.emoji == emoji }) else {
                return message
            }
            let reaction = Reaction(userID: user, emoji: emoji, createdAt: context.now)
            message.reactions.append(reaction)
            return try Self.replace(message, kind: .reactionAdded, actor: user, context, reaction: reaction)
        }
    }

    public func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        try await write { context in
            var message = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            guard let index = message.reactions.firstIndex(where: { $0.userID == user && $0.emoji == emoji }) else {
                return message
            }
            let reaction = message.reactions.remove(at: index)
            return try Self.replace(message, kind: .reactionRemoved, actor: user, context, reaction: reaction)
        }
    }

    /// Stores a changed message (the search index follows by trigger) and records the event describing it.
    private static func replace(
        _ message: Message,
        kind: EventKind,
        actor: UserID,
        _ context: WriteContext,
        reaction: Reaction? = nil
    ) throws -> Message {
        try context.db.execute(
            sql: """
                UPDATE message SET body = ?, mentions = ?, attachments = ?, reactions = ?, editedAt = ?, deletedAt = ?
                WHERE id = ?
                """,
            arguments: [
                message.body, try Codec.list(message.mentions, context.encoder),
                try Codec.list(message.attachments, context.encoder), try Codec.list(message.reactions, context.encoder),
                message.editedAt.map(Codec.milliseconds), message.deletedAt.map(Codec.milliseconds),
                message.id.rawValue,
            ]
        )
        try context.record(
            StoredEvent(
                position: context.nextPosition(), kind: kind, conversationID: message.conversationID, actorID: actor,
                createdAt: context.now, message: message, reaction: reaction
            )
        )
        return message
    }
}
