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
import GRDB

/// Finds the newest matches of a query with a broad prefix term (``PrefixExpansion/Pattern/isBroad``) by reading
/// message bodies instead of asking FTS5 for the prefix.
///
/// For a prefix of hundreds of words that it has no prefix index for, FTS5 merges the posting lists of all of
/// them before it returns a row: at a million messages, 350–460 ms for a prefix of 1,111 words. A search only
/// ranks the newest ``SQLiteChatStore/searchCandidateLimit`` matches, though, and a prefix of that many words
/// usually matches a large share of messages, so its newest matches are among the newest few thousand messages.
/// This reads messages newest first — those FTS5 finds for the query's other terms, or, when every term is broad,
/// the user's newest messages — and keeps those whose bodies also hold the broad terms (``SearchTermCounter``:
/// the word rules FTS5's tokenizer follows). It keeps at most ``examinedRowLimit`` messages (those it skips as
/// hidden from the user are not counted); when they hold too few matches and older messages remain, it gives up
/// (`nil`) and FTS5 answers the query as before.
enum BroadPrefixScan {
    /// The most messages one scan reads (about 15–30 ms of reading at most).
    static let examinedRowLimit = 20_000

    /// The newest `candidateLimit` messages `user` may see (in `conversation`, if given) that match `text`, whose
    /// terms have the FTS5 patterns `patterns`, among the indexed ones; `nil` if the scan cannot tell them
    /// without reading more than `examinedRowLimit` messages.
    static func newestMatches(
        _ db: Database,
        _ text: SearchText,
        patterns: [PrefixExpansion.Pattern],
        user: UserID,
        conversation: ConversationID?,
        candidateLimit: Int,
        examinedRowLimit: Int = Self.examinedRowLimit
    ) throws -> SearchCandidates? {
        let narrow = patterns.filter { !$0.isBroad }.map(\.text)
        let indexedUpTo = try SearchIndex.progress(db).indexedUpTo
        let statement: Statement
        let reading: Reading
        if !narrow.isEmpty {
            statement = try SQLiteChatStore.newestMatchesStatement(
                db, narrow, user, conversation, limit: examinedRowLimit
            )
            reading = .limited
        } else if let conversation {
            // The (conversationID, seq) index gives the newest first; nothing if `user` is not a member (now).
            statement = try db.cachedStatement(
                sql: """
                    SELECT rowNumber, body FROM message
                    WHERE conversationID = ?1 AND rowNumber <= ?2 AND deletedAt IS NULL
                        AND EXISTS (SELECT 1 FROM member WHERE conversationID = ?1 AND userID = ?3)
                    ORDER BY seq DESC LIMIT ?4
                    """
            )
            statement.setUncheckedArguments([conversation.rawValue, indexedUpTo, user.rawValue, examinedRowLimit])
            reading = .limited
        } else {
            // A range of the newest rows, not a LIMIT: a user of few conversations on a busy server must not make
            // this read the whole table for their rows. The unary `+` keeps SQLite from reading the rows through
            // the conversation index (all of a big conversation's rows, then sorted) instead of the range.
            let lowest = max(0, indexedUpTo - Int64(examinedRowLimit))
            statement = try db.cachedStatement(
                sql: """
                    SELECT m.rowNumber, m.body FROM message m
                    WHERE m.rowNumber > ? AND m.rowNumber <= ? AND m.deletedAt IS NULL
                        AND +m.conversationID IN (SELECT conversationID FROM member WHERE userID = ?)
                    ORDER BY m.rowNumber DESC
                    """
            )
            statement.setUncheckedArguments([lowest, indexedUpTo, user.rawValue])
            let oldest = try Int64.fetchOne(db, sql: "SELECT MIN(rowNumber) FROM message") ?? 0
            reading = .range(reachesOldest: lowest < oldest)
        }
        return try filter(statement, text, patterns, candidateLimit, reading, examinedRowLimit)
    }

    /// How a statement bounds what it reads.
    private enum Reading {
        /// At most the scan's limit of rows (a LIMIT): fewer means there were no more.
        case limited
        /// The rows of a range of row numbers, which may or may not reach the oldest row.
        case range(reachesOldest: Bool)
    }

    /// Reads the rows of `statement` (rowNumber, body; newest first) and keeps those holding every broad term.
    private static func filter(
        _ statement: Statement,
        _ text: SearchText,
        _ patterns: [PrefixExpansion.Pattern],
        _ candidateLimit: Int,
        _ reading: Reading,
        _ examinedRowLimit: Int
    ) throws -> SearchCandidates? {
        let counter = SearchTermCounter(text.terms)
        let broad = patterns.indices.filter { patterns[$0].isBroad }
        var holding = [Int](repeating: 0, count: patterns.count)
        var candidates: [(rowNumber: Int64, body: String)] = []
        var examined = 0
        var frequencies = [Int](repeating: 0, count: patterns.count)
        let rows = try Row.fetchCursor(statement)
        while candidates.count < candidateLimit, let row = try rows.next() {
            examined += 1
            let body: String = try row.decode(atIndex: 1)
            for index in frequencies.indices { frequencies[index] = 0 }
            _ = counter.count(body, into: &frequencies)
            var holdsAll = true
            for index in broad {
                if frequencies[index] > 0 { holding[index] += 1 } else { holdsAll = false }
            }
            if holdsAll { candidates.append((try row.decode(atIndex: 0), body)) }
        }
        if candidates.count < candidateLimit {
            // Fewer matches than asked for: the answer only if no older message was left unread.
            switch reading {
            case .limited where examined >= examinedRowLimit, .range(reachesOldest: false): return nil
            case .limited, .range: break
            }
        }
        let densities = patterns.indices.map { index -> Double? in
            patterns[index].isBroad ? Double(holding[index]) / Double(max(1, examined)) : nil
        }
        return SearchCandidates(candidates: candidates, densities: densities)
    }
}
