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
    /// positions from each place events live (``MessageEvents``) through indexes, so a page costs the same
    /// however long the conversations are; only the page's events are then read and decoded.
    public func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try MembershipRules.validateLimit(limit)
        guard Lookups.canName(user) else { return SyncPage(events: [], cursor: cursor, hasMore: false) }
        return try await read { db in
            let after = cursor.rawValue
            let periods = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT conversationID, fromPosition, toPosition FROM membershipPeriod
                        WHERE userID = ? AND (toPosition IS NULL OR toPosition > ?)
                        """
                ),
                arguments: [user.rawValue, after]
            )
            var candidates: [MessageEvents.Candidate] = []
            for period in periods {
                // Throwing reads: GRDB's subscripts trap on a NULL that a damaged record can hold (BadInputTests).
                let conversation: String = try period.decode(atIndex: 0)
                let from: Int64 = try period.decode(atIndex: 1)
                let to: Int64? = try period.decode(atIndex: 2)
                candidates += try MessageEvents.conversationCandidates(
                    db, conversation, after: max(after, from - 1), upTo: to ?? .max, limit: limit
                )
            }
            candidates += try Int64.fetchAll(
                db.cachedStatement(
                    sql: "SELECT position FROM eventAudience WHERE userID = ? AND position > ? ORDER BY position LIMIT ?"
                ),
                arguments: [user.rawValue, after, MessageEvents.candidateLimit(limit)]
            ).map { MessageEvents.Candidate(position: $0, source: .stored) }
            candidates.sort { $0.position < $1.position }
            var (events, isCurrent) = try MessageEvents.events(candidates.prefix(limit), db)
            try Self.redactDeletedMessages(&events, db, Codec.sharedDecoder, current: isCurrent)
            return SyncPage(
                events: events,
                cursor: events.last?.position ?? cursor,
                hasMore: candidates.count > limit
            )
        }
    }

    /// Replaces each event's message by its tombstone when the message was deleted since, so that deleted
    /// content is gone from every event too. `current[i]` tells that event `i` was read from its message row as
    /// it is now, which already shows a deletion.
    private static func redactDeletedMessages(
        _ events: inout [StoredEvent],
        _ db: Database,
        _ decoder: JSONDecoder,
        current: [Bool]
    ) throws {
        let ids = Set(
            zip(events, current).compactMap { event, isCurrent in
                isCurrent ? nil : event.message.flatMap { $0.isDeleted ? nil : $0.id }
            }
        )
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
            let candidates = try MessageEvents.allCandidates(db, after: cursor.rawValue, limit: limit)
            var (events, isCurrent) = try MessageEvents.events(candidates.prefix(limit), db)
            try Self.redactDeletedMessages(&events, db, Codec.sharedDecoder, current: isCurrent)
            return events
        }
    }

    public func latestPosition() async throws -> StreamPosition {
        try await read { db in StreamPosition(try MessageEvents.latestPosition(db)) }
    }

    /// `cursor`, unless it falls in positions an opening of this store skipped (`Schema.v7`): a client holding
    /// such a cursor received events this database no longer has, and resumes from the start of the earliest such
    /// gap; or unless it is past every stored event.
    public func resumePosition(after cursor: StreamPosition) async throws -> StreamPosition {
        try await read { db in
            let latest = try MessageEvents.latestPosition(db)
            let gapStart = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT MIN(afterPosition) FROM streamGap WHERE afterPosition < ?1 AND ?1 <= throughPosition"
                ),
                arguments: [cursor.rawValue]
            )
            return StreamPosition(min(gapStart ?? cursor.rawValue, latest))
        }
    }
}
