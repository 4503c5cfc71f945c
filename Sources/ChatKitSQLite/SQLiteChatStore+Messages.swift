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
import Foundation
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
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    /// Commits messages in order, together with any concurrent appends; see
    /// ``ChatKitCore/MessageStore/append(contentsOf:)``. Each gets the result ``append(_:)`` would give it. More
    /// than ``Configuration/maximumBatchSize`` messages are committed in several batches, one after another.
    public func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
        await outcomesOfCheckedBatch(messages) { message in
            try MembershipRules.validate(message)
            return message
        } process: { valid in
            var committed: [Result<Message, any Error>] = []
            let batchSize = max(1, configuration.maximumBatchSize)
            for start in stride(from: 0, to: valid.count, by: batchSize) {
                committed += await appends.submit(contentsOf: Array(valid[start..<min(start + batchSize, valid.count)]))
            }
            return committed.map { outcome in
                outcome.mapError(ErrorMapping.thrown)
            }
        }
    }

    /// Appends the messages of one group-commit batch inside its transaction and returns one result per message.
    ///
    /// Every check of a message runs before its first write, so a refused message (a thrown ``ChatError``, also for
    /// a stored message a resend finds and cannot read) changes nothing and the others go on; any other error fails
    /// the transaction, and so the whole batch (for an error one message can cause, the file at its size limit, the
    /// group commit then commits each of its messages again on its own, so that only those that fail alone fail).
    /// What the batch learns about a conversation (its last seq, who may post) is kept for the rest of the batch, and
    /// each conversation row is updated once, at the end.
    static func appendBatch(_ batch: [NewMessage], _ context: WriteContext) throws -> [Result<Message, any Error>] {
        var appender = try BatchAppender(context)
        let results = try batch.map { new -> Result<Message, any Error> in
            do {
                return .success(try appender.append(new))
            } catch let error as ChatError {
                return .failure(error)
            }
        }
        try appender.finish()
        return results
    }

    /// The state of one batch of appends. Its statements run through ``RawStatement``.
    struct BatchAppender {
        let context: WriteContext
        /// The row, last seq and (if the batch appended to it) new activity position of each conversation the
        /// batch looked at.
        var conversations: [String: (row: Int64, lastSeq: Int64, activity: Int64?)] = [:]
        /// The (conversation, sender) pairs whose membership the batch has checked.
        var members: Set<MemberKey> = []
        let membership: RawStatement
        let dedupe: RawStatement
        let insertMessage: RawStatement

        struct MemberKey: Hashable {
            let conversationID: String
            let senderID: String
        }

        init(_ context: WriteContext) throws {
            self.context = context
            let db = context.db
            membership = try RawStatement(
                db,
                """
                SELECT c.rowid, c.lastSeq, m.role IS NOT NULL FROM conversation c
                LEFT JOIN member m ON m.conversationID = c.id AND m.userID = ?1
                WHERE c.id = ?2
                """
            )
            dedupe = try RawStatement(db, "SELECT rowNumber FROM message WHERE clientMessageID = ?2 AND senderID = ?1")
            insertMessage = try RawStatement(
                db,
                """
                INSERT INTO message (id, conversationID, seq, senderID, clientMessageID, body, replyTo, mentions,
                    attachments, createdAt, createdPosition)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                """
            )
        }

        mutating func append(_ new: NewMessage) throws -> Message {
            let conversationID = new.conversationID.rawValue
            let senderID = new.senderID.rawValue
            let key = MemberKey(conversationID: conversationID, senderID: senderID)
            dedupe.bind(1, senderID)
            dedupe.bind(2, new.clientMessageID.rawValue)
            var isUsedElsewhere = false
            if try dedupe.step() {
                let rowNumber = dedupe.int64(0)
                dedupe.reset()
                var message = try existing(rowNumber)
                if message.conversationID == new.conversationID {
                    // A resend of a stored message gets it back even from a sender removed since (it was sent),
                    // without the reactions members added: what they did after is not the removed sender's to see.
                    if !members.contains(key), try Lookups.role(context.db, new.conversationID, new.senderID) == nil {
                        message.reactions = []
                    }
                    return message
                }
                isUsedElsewhere = true
            }
            if !members.contains(key) {
                membership.bind(1, senderID)
                membership.bind(2, conversationID)
                guard try membership.step() else { throw Lookups.notFound() }
                let (row, lastSeq, isMember) = (membership.int64(0), membership.int64(1), membership.int64(2) != 0)
                membership.reset()
                guard isMember else { throw Lookups.notFound() }
                if conversations[conversationID] == nil { conversations[conversationID] = (row, lastSeq, nil) }
                members.insert(key)
            }
            if isUsedElsewhere {
                throw ChatError(
                    .conflict,
                    "Client message ID '\(new.clientMessageID)' was already used in another conversation."
                )
            }
            if let replyTo = new.replyTo {
                let conversation = try String.fetchOne(
                    context.db.cachedStatement(sql: "SELECT conversationID FROM message WHERE id = ?"),
                    arguments: [replyTo.rawValue]
                )
                guard conversation == conversationID else {
                    throw ChatError(.invalidArgument, "A reply must refer to a message of the same conversation.")
                }
            }
            let position = try context.nextPosition().rawValue
            let conversation = conversations[conversationID]!
            let seq = conversation.lastSeq + 1
            let id = context.messageIDs.next(at: context.now)
            insertMessage.bind(1, id.rawValue)
            insertMessage.bind(2, conversationID)
            insertMessage.bind(3, seq)
            insertMessage.bind(4, senderID)
            insertMessage.bind(5, new.clientMessageID.rawValue)
            insertMessage.bind(6, new.body)
            insertMessage.bind(7, new.replyTo?.rawValue)
            insertMessage.bind(8, try Codec.list(new.mentions, context.encoder))
            insertMessage.bind(9, try Codec.list(new.attachments, context.encoder))
            insertMessage.bind(10, context.nowMilliseconds)
            insertMessage.bind(11, position)
            // The row is also the message's `messageCreated` event, at `createdPosition` (see `Schema.v3`).
            try insertMessage.execute()
            conversations[conversationID] = (conversation.row, seq, position)
            return Message(
                id: id,
                conversationID: new.conversationID,
                seq: seq,
                senderID: new.senderID,
                clientMessageID: new.clientMessageID,
                body: new.body,
                replyTo: new.replyTo,
                mentions: new.mentions,
                attachments: new.attachments,
                createdAt: context.now
            )
        }

        /// The message an earlier append with the same sender and client message ID stored.
        func existing(_ rowNumber: Int64) throws -> Message {
            guard
                let row = try Row.fetchOne(
                    context.db.cachedStatement(sql: "SELECT \(messageColumns) FROM message WHERE rowNumber = ?"),
                    arguments: [rowNumber]
                )
            else { throw ChatError(.storageFailure, "A message vanished during its transaction.") }
            do {
                return try Codec.message(row)
            } catch let error as ChatError {
                throw error
            } catch {
                // A damaged row (a NULL where none may be, JSON that does not parse): this resend fails, nothing of
                // it written yet, and the batch's other messages go on.
                throw ChatError(
                    .storageFailure,
                    "The stored message with this client message ID cannot be read (\(error)); check the database "
                        + "(PRAGMA integrity_check) or restore it from a backup.",
                    underlying: error
                )
            }
        }

        /// Stores each touched conversation's new last seq and activity.
        func finish() throws {
            let update = try RawStatement(
                context.db,
                "UPDATE conversation SET lastSeq = ?1, activityPosition = ?2 WHERE rowid = ?3"
            )
            for state in conversations.values {
                guard let activity = state.activity else { continue }
                update.bind(1, state.lastSeq)
                update.bind(2, activity)
                update.bind(3, state.row)
                try update.execute()
            }
        }
    }

    public func message(_ id: MessageID, as user: UserID) async throws -> Message {
        try await read { db in
            try Lookups.visibleMessage(db, id, user, Codec.makeDecoder()).message
        }
    }

    public func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        try MembershipRules.validateLimit(query.limit)
        return try await read { db in
            let lastSeq = try Lookups.memberLastSeq(db, id, user)
            guard let (range, _) = query.seqRange(lastSeq: lastSeq) else { return [] }
            let statement = try db.cachedStatement(
                sql: """
                    SELECT \(messageColumns) FROM message
                    WHERE conversationID = ? AND seq BETWEEN ? AND ? ORDER BY seq
                    """
            )
            statement.setUncheckedArguments([id.rawValue, range.lowerBound, range.upperBound])
            var messages: [Message] = []
            messages.reserveCapacity(Int(min(range.upperBound - range.lowerBound + 1, 1000)))
            // A cursor's rows read the statement's columns in place; nothing is copied before decoding.
            let rows = try Row.fetchCursor(statement)
            while let row = try rows.next() { messages.append(try Codec.message(row)) }
            return messages
        }
    }

    public func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        // In an index file of its own (`Schema.v20`), the catch-up that applies the edit updates the word list.
        let addsWords = searchIndex.addsWords && !searchIndex.appliesChanges
        defer { if searchIndex.appliesChanges { searchIndex.noteAppends() } }
        return try await write { context in
            let original = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            try MembershipRules.checkCanEdit(original, body: body, actor: user)
            // A retried edit (the same bytes) changes nothing and records nothing.
            guard !body.utf8.elementsEqual(original.body.utf8) else { return original }
            // The update trigger indexes the new body of an indexed row (since `Schema.v20` it notes the change for
            // the index's catch-up); prefix searches must list its words.
            if addsWords { try SearchWords.add(wordsOf: [body], context.db) }
            var message = original
            message.body = body
            message.editedAt = context.now
            let edited = try Self.replace(original, with: message, kind: .messageEdited, actor: user, context)
            if addsWords { try SearchWords.remove(wordsOf: original.body, keeping: body, context.db) }
            return edited
        }
    }

    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        let addsWords = searchIndex.addsWords && !searchIndex.appliesChanges
        defer { if searchIndex.appliesChanges { searchIndex.noteAppends() } }
        let redactions = self.redactions
        let (deleted, leftBacklog) = try await write { context -> (Message, Bool) in
            let (original, role) = try Lookups.visibleMessage(context.db, id, user, context.decoder)
            try MembershipRules.checkCanDelete(original, actor: user, actorRole: role)
            guard !original.isDeleted else { return (original, false) }
            var message = original
            message.body = ""
            message.mentions = []
            message.attachments = []
            message.reactions = []
            message.deletedAt = context.now
            let deleted = try Self.replace(original, with: message, kind: .messageDeleted, actor: user, context)
            // The text left the index with the row's body (the update trigger; since `Schema.v20` the trigger notes it
            // and the index's next catch-up removes it, and its words); its words leave `searchWord`.
            if addsWords { try SearchWords.remove(wordsOf: original.body, context.db) }
            // Its copies in edit and reaction events leave the event log: those after its creation (all events for
            // a message stored before `Schema.v3`, which keeps no creation position), a bounded number now and the
            // rest in the background (`EventRedactions`).
            let createdPosition = try Int64.fetchOne(
                context.db.cachedStatement(sql: "SELECT createdPosition FROM message WHERE id = ?"),
                arguments: [id.rawValue]
            )
            // The deletion's event took the transaction's last position: no later event can hold the text.
            let leftBacklog = try redactions.redact(
                deleted, after: createdPosition ?? 0, before: context.lastPosition, context.db, context.encoder,
                context.decoder
            )
            return (deleted, leftBacklog)
        }
        if leftBacklog { redactions.noteBacklog() }
        return deleted
    }

    /// Rewrites now, a transaction at a time, the copies of deleted messages in stored events that the store would
    /// otherwise rewrite in the background (see the deletion in ``SQLiteChatStore``'s overview): call it before
    /// ``close()`` when the file must hold no deleted text once the process stops (the example server does, for at
    /// most 10 seconds).
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if a transaction fails (a full disk); what was rewritten
    ///   stays rewritten, and the rest is rewritten later.
    public func finishRedactions() async throws {
        do {
            try await redactions.finish()
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    public func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message {
        try MembershipRules.validateReaction(emoji)
        return try await write { context in
            let original = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            guard !original.isDeleted else { throw ChatError(.conflict, "A deleted message cannot get reactions.") }
            guard !original.reactions.contains(where: { $0.userID == user && $0.emoji == emoji }) else {
                return original
            }
            try MembershipRules.checkRoom(forReaction: emoji, on: original)
            let reaction = Reaction(userID: user, emoji: emoji, createdAt: context.now)
            var message = original
            message.reactions.append(reaction)
            return try Self.replace(original, with: message, kind: .reactionAdded, actor: user, context, reaction: reaction)
        }
    }

    public func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        try await write { context in
            let original = try Lookups.visibleMessage(context.db, id, user, context.decoder).message
            guard let index = original.reactions.firstIndex(where: { $0.userID == user && $0.emoji == emoji }) else {
                return original
            }
            var message = original
            let reaction = message.reactions.remove(at: index)
            return try Self.replace(original, with: message, kind: .reactionRemoved, actor: user, context, reaction: reaction)
        }
    }

    /// Stores a changed message (the search index follows by trigger, or from the trigger's note since `Schema.v20`)
    /// and records the event describing it.
    ///
    /// A message appended since `Schema.v3` is its own `messageCreated` event, which must keep showing the
    /// message as it was created: the first change stores a copy of `original` in `event` at the event's
    /// position. A deletion removes that copy again, so the deleted text leaves the `messageCreated` event too
    /// (readers show the tombstone there either way).
    private static func replace(
        _ original: Message,
        with message: Message,
        kind: EventKind,
        actor: UserID,
        _ context: WriteContext,
        reaction: Reaction? = nil
    ) throws -> Message {
        let db = context.db
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT createdPosition, createdEventCopied FROM message WHERE id = ?"),
            arguments: [message.id.rawValue]
        )
        let createdPosition = row?[0] as Int64?
        if let row, let createdPosition {
            let isCopied: Bool = try row.decode(atIndex: 1)
            if message.isDeleted, isCopied {
                try db.execute(
                    sql: """
                        DELETE FROM event WHERE position = ?;
                        UPDATE message SET createdEventCopied = 0 WHERE id = ?;
                        """,
                    arguments: [createdPosition, message.id.rawValue]
                )
            } else if !message.isDeleted, !isCopied {
                let created = StoredEvent(
                    position: StreamPosition(createdPosition), kind: .messageCreated,
                    conversationID: original.conversationID, actorID: original.senderID,
                    createdAt: original.createdAt, message: original
                )
                try db.execute(
                    sql: """
                        INSERT INTO event (position, kind, conversationID, payload) VALUES (?, 'messageCreated', ?, ?);
                        UPDATE message SET createdEventCopied = 1 WHERE id = ?;
                        """,
                    arguments: [
                        createdPosition, original.conversationID.rawValue,
                        try EventPayload.messageCreated(created, context.encoder), message.id.rawValue,
                    ]
                )
            }
        }
        try db.execute(
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
                position: try context.nextPosition(), kind: kind, conversationID: message.conversationID,
                actorID: actor, createdAt: context.now, message: message, reaction: reaction
            )
        )
        return message
    }
}
