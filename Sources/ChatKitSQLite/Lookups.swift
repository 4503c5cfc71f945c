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
import Foundation
import GRDB

/// Lookups shared by the store's operations. They run inside a read or write transaction.
///
/// An identifier holding U+0000 names nothing here, as in the in-memory store: SQLite compares text that GRDB binds
/// only up to its first NUL, so `"C\u{0}x"` would name the conversation `C` (and a write would act on it while its
/// events carried the longer ID). ChatKitServer refuses such identifiers before they reach a store; these checks
/// keep the store's own contract for other callers.
enum Lookups {
    static func notFound() -> ChatError {
        ChatError(.notFound, "No such conversation, or you are not a member of it.")
    }

    /// Whether `id` can name a row: it holds no U+0000.
    static func canName(_ id: some ChatIdentifier) -> Bool {
        UserID.isAcceptable(id.rawValue)
    }

    static func requireUser(_ db: Database, _ id: UserID) throws {
        guard canName(id) else { throw ChatError(.notFound, "No user with ID '\(id)'.") }
        let exists = try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT 1 FROM user WHERE id = ?"),
            arguments: [id.rawValue]
        )
        guard exists == true else { throw ChatError(.notFound, "No user with ID '\(id)'.") }
    }

    static func user(_ db: Database, _ id: UserID) throws -> User? {
        guard canName(id) else { return nil }
        return try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(Codec.userColumns) FROM user WHERE id = ?"),
            arguments: [id.rawValue]
        ).map(Codec.user)
    }

    /// The conversation, or `.notFound`.
    static func conversation(_ db: Database, _ id: ConversationID) throws -> Conversation {
        guard canName(id),
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Codec.conversationColumns) FROM conversation WHERE id = ?"),
                arguments: [id.rawValue]
            )
        else { throw notFound() }
        return try Codec.conversation(row)
    }

    /// The current role of `user` in a conversation, `nil` for a non-member.
    static func role(_ db: Database, _ id: ConversationID, _ user: UserID) throws -> MemberRole? {
        guard canName(id), canName(user) else { return nil }
        return try String.fetchOne(
            db.cachedStatement(sql: "SELECT role FROM member WHERE conversationID = ? AND userID = ?"),
            arguments: [id.rawValue, user.rawValue]
        ).map(MemberRole.init(rawValue:))
    }

    static func member(_ db: Database, _ id: ConversationID, _ user: UserID) throws -> Member? {
        guard canName(id), canName(user) else { return nil }
        return try Row.fetchOne(
            db.cachedStatement(
                sql: "SELECT \(Codec.memberColumns) FROM member WHERE conversationID = ? AND userID = ?"
            ),
            arguments: [id.rawValue, user.rawValue]
        ).map(Codec.member)
    }

    /// The conversation, if `user` is a member of it; `.notFound` otherwise.
    static func memberConversation(_ db: Database, _ id: ConversationID, _ user: UserID) throws -> Conversation {
        let conversation = try conversation(db, id)
        try MembershipRules.checkIsMember(try role(db, id, user))
        return conversation
    }

    /// The last seq of the conversation, if `user` is a member of it; `.notFound` otherwise. One query, for the
    /// history read path.
    static func memberLastSeq(_ db: Database, _ id: ConversationID, _ user: UserID) throws -> Int64 {
        guard canName(id), canName(user) else { throw notFound() }
        let statement = try db.cachedStatement(
            sql: """
                SELECT c.lastSeq, m.role FROM conversation c
                LEFT JOIN member m ON m.conversationID = c.id AND m.userID = ?
                WHERE c.id = ?
                """
        )
        statement.setUncheckedArguments([user.rawValue, id.rawValue])
        guard let row = try Row.fetchOne(statement) else { throw notFound() }
        try MembershipRules.checkIsMember((try row.decode(String?.self, atIndex: 1)).map(MemberRole.init(rawValue:)))
        return try row.decode(atIndex: 0)
    }

    /// How many owners the conversation has: from the `member_owner` index (`Schema.v10`) when there is one.
    static func ownerCount(_ db: Database, _ id: ConversationID) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT COUNT(*) FROM member WHERE conversationID = ? AND role = 'owner'"),
            arguments: [id.rawValue]
        ) ?? 0
    }

    static func message(_ db: Database, id: MessageID, _ decoder: JSONDecoder) throws -> Message? {
        guard canName(id) else { return nil }
        return try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(messageColumns) FROM message WHERE id = ?"),
            arguments: [id.rawValue]
        ).map { try Codec.message($0, decoder) }
    }

    static func message(_ db: Database, _ id: ConversationID, seq: Int64, _ decoder: JSONDecoder) throws -> Message? {
        guard canName(id) else { return nil }
        return try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(messageColumns) FROM message WHERE conversationID = ? AND seq = ?"),
            arguments: [id.rawValue, seq]
        ).map { try Codec.message($0, decoder) }
    }

    /// The message and `user`'s role in its conversation, if `user` is a member; `.notFound` otherwise.
    static func visibleMessage(_ db: Database, _ id: MessageID, _ user: UserID, _ decoder: JSONDecoder) throws
        -> (message: Message, role: MemberRole)
    {
        guard let message = try message(db, id: id, decoder),
            let role = try role(db, message.conversationID, user)
        else {
            throw ChatError(.notFound, "No such message, or you are not a member of its conversation.")
        }
        return (message, role)
    }
}
