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

/// Stores messages, their edits, deletions and reactions. Part of ``ChatStore``.
///
/// Every change records a stored event in the message's conversation. A user who is not a member of the
/// conversation gets ``ChatError`` `.notFound` for every call about it (arguments refused whoever sends them,
/// such as an empty body, may be refused as `.invalidArgument` first: that tells nothing of the conversation).
public protocol MessageStore: Sendable {
    /// Commits a message and assigns its seq: the conversation's previous last seq plus one.
    ///
    /// Seqs stay strictly increasing and gapless per conversation however many appends run concurrently. Take a
    /// message's ``Message/createdAt`` where its seq is assigned (under the same lock, or in the same transaction):
    /// taken before, a race gives a later seq an earlier time, which clients that order or page by time get wrong.
    /// The message is durable (as the store defines durability) when this returns.
    ///
    /// Idempotent: if `sender` already sent a message with this ``NewMessage/clientMessageID`` to this
    /// conversation, no second message is created and the first message is returned as it is now, whatever
    /// the new body says, also to a sender who has left or was removed since (the message was sent; its client
    /// could not know), though without its reactions (what members did after is not theirs to see). Concurrent
    /// resends of one key create exactly one message.
    ///
    /// - Returns: The stored message.
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or the sender is not a member (and
    ///   the message is not a resend);
    ///   `.conflict` if the sender used the client message ID in another conversation; `.invalidArgument` for an
    ///   empty body without attachments, an empty client message ID, or a `replyTo` that is not a message of the
    ///   same conversation.
    func append(_ message: NewMessage) async throws -> Message

    /// Appends messages in order, as consecutive calls of ``append(_:)`` would, and returns each one's outcome in
    /// the same order: the stored message, or the error its own call would have thrown. One message's failure
    /// does not stop the others.
    ///
    /// A store may commit them together (ChatKitSQLite does, in one transaction); the default implementation
    /// calls ``append(_:)`` for each in turn. The server uses it for the `send`s a client pipelines on one
    /// connection, so that they keep their order and share commits.
    func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>]

    /// The message, if `user` may see it.
    ///
    /// - Throws: ``ChatError`` `.notFound` if it does not exist or `user` is not a member of its conversation.
    func message(_ id: MessageID, as user: UserID) async throws -> Message

    /// A page of a conversation's history, in ascending seq order, tombstones included.
    ///
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or `user` is not a member;
    ///   `.invalidArgument` for a negative limit.
    func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message]

    /// Replaces the body of a message. Only its sender may edit it. The body it already has (the same bytes: a
    /// retried edit) changes nothing and records no event; compare UTF-8 bytes, not `String`s, which take
    /// different forms of one text for equal.
    ///
    /// - Returns: The edited message, with ``Message/editedAt`` set (as it was, for an edit that changed nothing).
    /// - Throws: ``ChatError`` `.notFound` as for ``message(_:as:)``; `.forbidden` if `user` is not the sender;
    ///   `.conflict` if the message was deleted; `.invalidArgument` for an empty body on a message without
    ///   attachments.
    func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message

    /// Deletes a message, leaving a tombstone with the same ID and seq. The sender, and the conversation's owners
    /// and admins, may delete. Deleting a tombstone returns it and records nothing.
    ///
    /// - Returns: The tombstone.
    /// - Throws: ``ChatError`` `.notFound` as for ``message(_:as:)``; `.forbidden` if `user` may not delete it.
    func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message

    /// Adds `user`'s reaction `emoji` to a message. Adding a reaction that exists changes nothing. Emoji compare as
    /// Swift strings do (canonically equivalent spellings are one reaction); the one stored keeps its bytes.
    ///
    /// - Returns: The message with its reactions.
    /// - Throws: ``ChatError`` `.notFound` as for ``message(_:as:)``; `.conflict` if the message was deleted;
    ///   `.invalidArgument` for an emoji empty or of white space alone, or one over
    ///   ``MembershipRules/maxReactionBytes``; `.limitExceeded` when the message cannot take another
    ///   (``MembershipRules/checkRoom(forReaction:on:)``).
    func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message

    /// Removes `user`'s reaction `emoji` from a message. Removing a reaction that does not exist changes nothing.
    ///
    /// - Returns: The message with its reactions.
    /// - Throws: ``ChatError`` `.notFound` as for ``message(_:as:)``.
    func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message
}

extension MessageStore {
    /// Calls ``append(_:)`` for each message in turn.
    public func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
        var outcomes: [Result<Message, any Error>] = []
        outcomes.reserveCapacity(messages.count)
        for message in messages {
            do {
                outcomes.append(.success(try await append(message)))
            } catch {
                outcomes.append(.failure(error))
            }
        }
        return outcomes
    }
}
