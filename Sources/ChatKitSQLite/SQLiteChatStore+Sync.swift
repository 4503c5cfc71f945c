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
    // MARK: SyncStore

    /// See ``ChatKitCore/SyncStore/events(for:after:limit:)``.
    ///
    /// Visibility comes from membership periods: each time a user joins, a period opens at the event that added
    /// them; their removal closes it at the removal event (included). Each period reads at most `limit + 1`
    /// events through the `(conversationID, position)` index, so a page costs the same however long the
    /// conversations are.
    public func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try MembershipRules.validateLimit(limit)
        return try await read { db in
            let after = cursor.rawValue
            let periods = try Row.fetchAll(
                db,
                sql: """
                    SELECT conversationID, fromPosition, toPosition FROM membershipPeriod
                    WHERE userID = ? AND (toPosition IS NULL OR toPosition > ?)
                    """,
                arguments: [user.rawValue, after]
            )
            var candidates: [(position: Int64, payload: Data)] = []
            for period in periods {
                let from: Int64 = period[1]
                let to: Int64 = period[2] ?? .max
                candidates += try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT position, payload FROM event
                            WHERE conversationID = ? AND position > ? AND position <= ?
                            ORDER BY position LIMIT ?
                            """
                    ),
                    arguments: [period[0] as String, max(after, from - 1), to, limit + 1]
                ).map { ($0[0], $0[1]) }
            }
            candidates += try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT e.position, e.payload FROM eventAudience a JOIN event e ON e.position = a.position
                        WHERE a.userID = ? AND a.position > ? ORDER BY a.position LIMIT ?
                        """
                ),
                arguments: [user.rawValue, after, limit + 1]
            ).map { ($0[0], $0[1]) }
            candidates.sort { $0.position < $1.position }
            let decoder = Codec.makeDecoder()
            var events = try candidates.prefix(limit).map { try decoder.decode(StoredEvent.self, from: $0.payload) }
            try Self.redactDeletedMessages(&events, db, decoder)
            return SyncPage(
                events: events,
                cursor: events.last?.position ?? cursor,
                hasMore: candidates.count > limit
            )
        }
    }

    /// Replaces each event's message by its tombstone when the message was deleted since, so that deleted
    /// content is gone from every event too.
    private static func redactDeletedMessages(_ events: inout [StoredEvent], _ db: Database, _ decoder: JSONDecoder)
        throws
    {
        let ids = Set(events.compactMap { event in event.message.flatMap { $0.isDeleted ? nil : $0.id } })
        guard !ids.isEmpty else { return }
        var tombstones: [MessageID: Message] = [:]
        for id in ids {
            let deleted = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT deletedAt IS NOT NULL FROM message WHERE id = ?"),
                arguments: [id.rawValue]
            )
            if deleted == true, let message = try Lookups.message(db, id: id, decoder) {
                tombstones[id] = message
            }
        }
        guard !tombstones.isEmpty else { return }
        for index in events.indices {
            if let id = events[index].message?.id, let tombstone = tombstones[id] {
                events[index].message = tombstone
            }
        }
    }

    public func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent] {
        try MembershipRules.validateLimit(limit)
        return try await read { db in
            let decoder = Codec.makeDecoder()
            var events = try Data.fetchAll(
                db.cachedStatement(sql: "SELECT payload FROM event WHERE position > ? ORDER BY position LIMIT ?"),
                arguments: [cursor.rawValue, limit]
            ).map { try decoder.decode(StoredEvent.self, from: $0) }
            try Self.redactDeletedMessages(&events, db, decoder)
            return events
        }
    }

    public func latestPosition() async throws -> StreamPosition {
        try await read { db in
            StreamPosition(try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(position), 0) FROM event") ?? 0)
        }
    }
}
