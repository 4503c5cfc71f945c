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

/// Conversions between model values and columns: times as integer milliseconds, lists and events as JSON.
enum Codec {
    /// Milliseconds since 1970 of a date (already truncated to milliseconds by the store's clock).
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// The date of a millisecond count, computed as the in-memory store computes it, so values compare equal.
    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func date(_ milliseconds: Int64?) -> Date? {
        milliseconds.map(date)
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(milliseconds(date))
        }
        return encoder
    }

    /// A decoder shared by reads (`JSONDecoder` is `Sendable`: decoding does not change it).
    static let sharedDecoder = makeDecoder()

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            date(try decoder.singleValueContainer().decode(Int64.self))
        }
        return decoder
    }

    /// A JSON array for a list column, `nil` (SQL `NULL`) when the list is empty.
    static func list<Element: Encodable>(_ list: [Element], _ encoder: JSONEncoder) throws -> String? {
        guard !list.isEmpty else { return nil }
        return String(decoding: try encoder.encode(list), as: UTF8.self)
    }

    static func list<Element: Decodable>(_ json: String?, _ decoder: JSONDecoder) throws -> [Element] {
        guard let json else { return [] }
        return try decoder.decode([Element].self, from: Data(json.utf8))
    }
}

/// The columns of `message` in the order ``Codec/message(_:_:)`` reads them.
let messageColumns = """
    id, conversationID, seq, senderID, clientMessageID, body, replyTo, mentions, attachments, reactions, \
    createdAt, editedAt, deletedAt, rowNumber
    """

/// ``messageColumns`` qualified with the table alias `m`, for joins.
let qualifiedMessageColumns = """
    m.id, m.conversationID, m.seq, m.senderID, m.clientMessageID, m.body, m.replyTo, m.mentions, m.attachments, \
    m.reactions, m.createdAt, m.editedAt, m.deletedAt, m.rowNumber
    """

extension Codec {
    /// Decodes a message from a row selected with ``messageColumns`` (columns by index, for speed).
    static func message(_ row: Row, _ decoder: JSONDecoder = sharedDecoder) throws -> Message {
        Message(
            id: MessageID(rawValue: try row.decode(atIndex: 0)),
            conversationID: ConversationID(rawValue: try row.decode(atIndex: 1)),
            seq: try row.decode(atIndex: 2),
            senderID: UserID(rawValue: try row.decode(atIndex: 3)),
            clientMessageID: ClientMessageID(rawValue: try row.decode(atIndex: 4)),
            body: try row.decode(atIndex: 5),
            replyTo: (try row.decode(String?.self, atIndex: 6)).map(MessageID.init(rawValue:)),
            mentions: try list(try row.decode(atIndex: 7), decoder),
            attachments: try list(try row.decode(atIndex: 8), decoder),
            reactions: try list(try row.decode(atIndex: 9), decoder),
            createdAt: date(try row.decode(Int64.self, atIndex: 10)),
            editedAt: date(try row.decode(Int64?.self, atIndex: 11)),
            deletedAt: date(try row.decode(Int64?.self, atIndex: 12))
        )
    }

    /// Decodes a message from the current row of a statement that selected ``messageColumns`` first.
    static func message(_ statement: RawStatement, _ decoder: JSONDecoder = sharedDecoder) throws -> Message {
        Message(
            id: MessageID(rawValue: statement.string(0)),
            conversationID: ConversationID(rawValue: statement.string(1)),
            seq: statement.int64(2),
            senderID: UserID(rawValue: statement.string(3)),
            clientMessageID: ClientMessageID(rawValue: statement.string(4)),
            body: statement.string(5),
            replyTo: statement.optionalString(6).map(MessageID.init(rawValue:)),
            mentions: try list(statement.optionalString(7), decoder),
            attachments: try list(statement.optionalString(8), decoder),
            reactions: try list(statement.optionalString(9), decoder),
            createdAt: date(statement.int64(10)),
            editedAt: date(statement.optionalInt64(11)),
            deletedAt: date(statement.optionalInt64(12))
        )
    }

    /// The columns of `user` in the order ``user(_:)`` reads them.
    static let userColumns = "id, username, displayName, statusText, createdAt"

    static func user(_ row: Row) throws -> User {
        User(
            id: UserID(rawValue: try row.decode(atIndex: 0)),
            username: try row.decode(atIndex: 1),
            displayName: try row.decode(atIndex: 2),
            statusText: try row.decode(atIndex: 3),
            createdAt: date(try row.decode(Int64.self, atIndex: 4))
        )
    }

    /// The columns of `conversation` in the order ``conversation(_:)`` reads them.
    static let conversationColumns = "id, kind, title, createdBy, createdAt, lastSeq"

    static func conversation(_ row: Row) throws -> Conversation {
        Conversation(
            id: ConversationID(rawValue: try row.decode(atIndex: 0)),
            kind: ConversationKind(rawValue: try row.decode(atIndex: 1)),
            title: try row.decode(atIndex: 2),
            createdBy: UserID(rawValue: try row.decode(atIndex: 3)),
            createdAt: date(try row.decode(Int64.self, atIndex: 4)),
            lastSeq: try row.decode(atIndex: 5)
        )
    }

    /// The columns of `member` in the order ``member(_:)`` reads them.
    static let memberColumns = "conversationID, userID, role, joinedAt"

    static func member(_ row: Row) throws -> Member {
        Member(
            conversationID: ConversationID(rawValue: try row.decode(atIndex: 0)),
            userID: UserID(rawValue: try row.decode(atIndex: 1)),
            role: MemberRole(rawValue: try row.decode(atIndex: 2)),
            joinedAt: date(try row.decode(Int64.self, atIndex: 3))
        )
    }
}
