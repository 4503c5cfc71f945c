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

/// The event stream, read from its two places: rows of `event`, and messages that are their own
/// `messageCreated` events (appended since `Schema.v3`, at `message.createdPosition`, unless a copy of the
/// original went into `event` when the message was first changed: `createdEventCopied`).
///
/// An append used to write a JSON copy of the message into `event` (and an entry of its conversation index):
/// about a fifth of the append's work, and one more page of the write-ahead log per conversation and commit.
/// Messages carry no index by position, and need none: a message's `createdPosition` grows with its `seq` in a
/// conversation and with its `rowNumber` overall, so the first message after a position is found by a binary
/// search over those (galloping back from the newest, since readers mostly ask for recent events).
enum MessageEvents {
    /// A stream position holding an event: a row of `event`, or a message row.
    enum Source {
        case stored
        case message(rowNumber: Int64)
    }

    struct Candidate {
        let position: Int64
        let source: Source
    }

    /// The highest position in use.
    static func latestPosition(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT MAX(
                        COALESCE((SELECT MAX(position) FROM event), 0),
                        COALESCE((SELECT createdPosition FROM message ORDER BY rowNumber DESC LIMIT 1), 0))
                    """
            )
        ) ?? 0
    }

    /// `limit + 1`, the candidates to read from each place to tell whether more than `limit` remain; `Int64.max` for
    /// a limit of `Int.max` ("everything"), where adding one would overflow.
    static func candidateLimit(_ limit: Int) -> Int64 {
        limit == .max ? .max : Int64(limit) + 1
    }

    /// The events after `cursor` up to `limit`, for `allEvents(after:limit:)`: `limit + 1` candidates at most
    /// from each place, in position order.
    ///
    /// The event router calls this after every commit, so it reads through ``RawStatement`` (as do
    /// ``events(_:_:)`` and the conversation reads of sync).
    static func allCandidates(_ db: Database, after cursor: Int64, limit: Int) throws -> [Candidate] {
        let stored = try RawStatement(db, "SELECT position FROM event WHERE position > ?1 ORDER BY position LIMIT ?2")
        stored.bind(1, cursor)
        stored.bind(2, candidateLimit(limit))
        var candidates: [Candidate] = []
        while try stored.step() {
            candidates.append(Candidate(position: stored.int64(0), source: .stored))
        }
        // A full set of stored candidates makes messages created after the last of them useless here: without
        // this bound, messages mostly changed since (their creation copied into `event`) were read to the end of
        // the log in search of `limit + 1` unchanged ones, at every page.
        var beyond = Int64.max
        if candidates.count == candidateLimit(limit), let last = candidates.last?.position,
            let row = try firstRow(after: last, db)
        {
            beyond = row
        }
        if let first = try firstRow(after: cursor, db) {
            let messages = try RawStatement(
                db,
                """
                SELECT createdPosition, rowNumber FROM message
                WHERE rowNumber >= ?1 AND rowNumber < ?3 AND createdPosition IS NOT NULL AND createdEventCopied = 0
                ORDER BY rowNumber LIMIT ?2
                """
            )
            messages.bind(1, first)
            messages.bind(2, candidateLimit(limit))
            messages.bind(3, beyond)
            while try messages.step() {
                let rowNumber = messages.int64(1)
                candidates.append(Candidate(position: messages.int64(0), source: .message(rowNumber: rowNumber)))
            }
        }
        candidates.sort { $0.position < $1.position }
        return candidates
    }

    /// The events of a conversation in `(after, upTo]`, at most `limit + 1` from each place, unsorted.
    static func conversationCandidates(
        _ db: Database,
        _ conversationID: String,
        after: Int64,
        upTo: Int64,
        limit: Int
    ) throws -> [Candidate] {
        // Index only: (conversationID, position).
        let stored = try RawStatement(
            db,
            """
            SELECT position FROM event WHERE conversationID = ?1 AND position > ?2 AND position <= ?3
            ORDER BY position LIMIT ?4
            """
        )
        stored.bind(1, conversationID)
        stored.bind(2, after)
        stored.bind(3, upTo)
        stored.bind(4, candidateLimit(limit))
        var candidates: [Candidate] = []
        while try stored.step() {
            candidates.append(Candidate(position: stored.int64(0), source: .stored))
        }
        // A full set of stored candidates bounds the messages worth reading (see `allCandidates`): a conversation
        // whose messages were mostly changed since would otherwise be read to its end at every page.
        var upTo = upTo
        if candidates.count == candidateLimit(limit), let last = candidates.last?.position { upTo = min(upTo, last) }
        let conversation = try RawStatement(db, "SELECT lastSeq, activityPosition FROM conversation WHERE id = ?1")
        conversation.bind(1, conversationID)
        guard try conversation.step() else { return candidates }
        // `activityPosition` is the position of the conversation's last message (or of its creation).
        let (lastSeq, activity) = (conversation.int64(0), conversation.int64(1))
        conversation.reset()
        guard activity > after, let first = try firstSeq(after: after, conversationID, lastSeq: lastSeq, db) else {
            return candidates
        }
        // A period that ended before the conversation's last message (the user left, or was removed): its
        // messages end below the first seq created after it. Without that bound, a page with fewer messages in
        // the period than it holds read every later message of the conversation to check its position (a busy
        // channel after a removal: the whole rest of it, at every page until the cursor passed the removal).
        var beyond = Int64.max
        if activity > upTo, let seq = try firstSeq(after: upTo, conversationID, lastSeq: lastSeq, db) { beyond = seq }
        let messages = try RawStatement(
            db,
            """
            SELECT createdPosition, rowNumber FROM message
            WHERE conversationID = ?1 AND seq >= ?2 AND seq < ?5 AND createdPosition <= ?3 AND createdEventCopied = 0
            ORDER BY seq LIMIT ?4
            """
        )
        messages.bind(1, conversationID)
        messages.bind(2, first)
        messages.bind(3, upTo)
        messages.bind(4, candidateLimit(limit))
        messages.bind(5, beyond)
        while try messages.step() {
            let rowNumber = messages.int64(1)
            candidates.append(Candidate(position: messages.int64(0), source: .message(rowNumber: rowNumber)))
        }
        return candidates
    }

    /// Decodes the events of the candidates, in their order. `isCurrent[i]` tells that event `i` was read from
    /// its message row as it is now (so it already shows a deletion).
    static func events(_ candidates: some Collection<Candidate>, _ db: Database) throws
        -> (events: [StoredEvent], isCurrent: [Bool])
    {
        let decoder = Codec.sharedDecoder
        var events: [StoredEvent] = []
        var isCurrent: [Bool] = []
        events.reserveCapacity(candidates.count)
        isCurrent.reserveCapacity(candidates.count)
        let payload = try RawStatement(db, "SELECT payload FROM event WHERE position = ?1")
        let messageRow = try RawStatement(db, "SELECT \(messageColumns) FROM message WHERE rowNumber = ?1")
        for candidate in candidates {
            switch candidate.source {
            case .stored:
                payload.bind(1, candidate.position)
                guard try payload.step() else { throw damaged(candidate.position) }
                let json = payload.data(0)
                payload.reset()
                events.append(try decoder.decode(StoredEvent.self, from: json))
                isCurrent.append(false)
            case .message(let rowNumber):
                messageRow.bind(1, rowNumber)
                guard try messageRow.step() else { throw damaged(candidate.position) }
                defer { messageRow.reset() }
                let message = try Codec.message(messageRow, decoder)
                events.append(
                    StoredEvent(
                        position: StreamPosition(candidate.position), kind: .messageCreated,
                        conversationID: message.conversationID, actorID: message.senderID,
                        createdAt: message.createdAt, message: message
                    )
                )
                isCurrent.append(true)
            }
        }
        return (events, isCurrent)
    }

    private static func damaged(_ position: Int64) -> ChatError {
        ChatError(.storageFailure, "The event at position \(position) vanished while it was read; the database is damaged.")
    }

    /// The smallest seq of the conversation whose message was created after `position`, or `nil`. Messages from
    /// before `Schema.v3` (no `createdPosition`) come first and count as created at 0.
    static func firstSeq(after position: Int64, _ conversationID: String, lastSeq: Int64, _ db: Database) throws
        -> Int64?
    {
        let statement = try RawStatement(
            db,
            "SELECT COALESCE(createdPosition, 0) FROM message WHERE conversationID = ?1 AND seq = ?2"
        )
        statement.bind(1, conversationID)
        return try gallop(upTo: lastSeq) { seq in
            statement.bind(2, seq)
            return try statement.firstInt64() ?? 0 > position
        }
    }

    /// The smallest message row created after `position`, or `nil`.
    static func firstRow(after position: Int64, _ db: Database) throws -> Int64? {
        guard let last = try RawStatement(db, "SELECT MAX(rowNumber) FROM message").firstInt64() else { return nil }
        let statement = try RawStatement(
            db,
            "SELECT COALESCE(createdPosition, 0) FROM message WHERE rowNumber >= ?1 ORDER BY rowNumber LIMIT 1"
        )
        return try gallop(upTo: last) { rowNumber in
            statement.bind(1, rowNumber)
            return try statement.firstInt64() ?? 0 > position
        }
    }

    /// The smallest `n` in `1...last` for which the monotonic `isAfter` holds, or `nil`: probes `last`,
    /// `last - 1`, `last - 3`, `last - 7`… then bisects, so it costs O(log d) probes for an answer d from the end.
    static func gallop(upTo last: Int64, _ isAfter: (Int64) throws -> Bool) throws -> Int64? {
        guard last >= 1, try isAfter(last) else { return nil }
        var high = last  // isAfter(high)
        var step: Int64 = 1
        var low: Int64 = 0  // !isAfter(low), 0 standing for "before the first"
        while true {
            let probe = last - step
            if probe < 1 { break }
            if try isAfter(probe) {
                high = probe
                step *= 2
            } else {
                low = probe
                break
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try isAfter(middle) { high = middle } else { low = middle }
        }
        return high
    }
}
