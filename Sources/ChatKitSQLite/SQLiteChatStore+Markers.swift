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
    // MARK: MarkerStore

    public func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await moveMarker(id, user, upTo: seq) { marker, seq in
            marker.deliveredSeq = max(marker.deliveredSeq, seq)
        }
    }

    public func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await moveMarker(id, user, upTo: seq) { marker, seq in
            marker.readSeq = max(marker.readSeq, seq)
            marker.deliveredSeq = max(marker.deliveredSeq, marker.readSeq)
        }
    }

    private func moveMarker(
        _ id: ConversationID,
        _ user: UserID,
        upTo seq: Int64,
        _ move: @escaping @Sendable (inout Marker, Int64) -> Void
    ) async throws -> Marker {
        let memberCountOfC = memberCountOfC
        return try await write { context in
            let db = context.db
            let conversation = try Lookups.memberConversation(db, id, user)
            let current = try Self.marker(db, id, user)
            var marker = current
            move(&marker, min(seq, conversation.lastSeq))
            guard marker != current else { return current }
            try db.execute(
                sql: """
                    INSERT INTO marker (conversationID, userID, deliveredSeq, readSeq) VALUES (?, ?, ?, ?)
                    ON CONFLICT (conversationID, userID) DO UPDATE SET
                        deliveredSeq = excluded.deliveredSeq, readSeq = excluded.readSeq
                    """,
                arguments: [id.rawValue, user.rawValue, marker.deliveredSeq, marker.readSeq]
            )
            // Only groups' receipts depend on their size.
            let memberCount =
                conversation.kind != .group
                ? 0
                : try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT \(memberCountOfC) FROM conversation c WHERE c.id = ?"),
                    arguments: [id.rawValue]
                )
            try context.record(
                StoredEvent(
                    position: try context.nextPosition(), kind: .markerUpdated, conversationID: id, actorID: user,
                    createdAt: context.now, marker: marker,
                    audience: MembershipRules.markerAudience(
                        conversation.kind, memberCount: memberCount ?? 0, user: user
                    )
                )
            )
            return marker
        }
    }

    public func markers(of id: ConversationID, as user: UserID) async throws -> [Marker] {
        // One marker per member: a list that grows with the conversation (see `read(_:)`).
        try await readInBackground { db in
            _ = try Lookups.memberConversation(db, id, user)
            // One statement, the member and marker keys merged (both lead with the conversation), not a look-up
            // per member: 10,001 statements for a channel of 10,000.
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT m.userID, COALESCE(k.deliveredSeq, 0), COALESCE(k.readSeq, 0)
                        FROM member m LEFT JOIN marker k ON k.conversationID = m.conversationID AND k.userID = m.userID
                        WHERE m.conversationID = ? ORDER BY m.userID
                        """
                ),
                arguments: [id.rawValue]
            )
            var markers: [Marker] = []
            while let row = try rows.next() {
                markers.append(
                    Marker(
                        conversationID: id, userID: UserID(rawValue: try row.decode(atIndex: 0)),
                        deliveredSeq: try row.decode(atIndex: 1), readSeq: try row.decode(atIndex: 2)
                    )
                )
            }
            return markers
        }
    }

    /// The marker of `user` in a conversation (zeros when none was stored).
    static func marker(_ db: Database, _ id: ConversationID, _ user: UserID) throws -> Marker {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT deliveredSeq, readSeq FROM marker WHERE conversationID = ? AND userID = ?"),
            arguments: [id.rawValue, user.rawValue]
        )
        return Marker(conversationID: id, userID: user, deliveredSeq: row?[0] ?? 0, readSeq: row?[1] ?? 0)
    }
}
