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

/// Finds the newest matches of a query among the messages of a small scope — one conversation, or all of a
/// user's — by reading those messages instead of walking FTS5's posting lists.
///
/// FTS5 walks a term's posting list newest first, and a search keeps the postings of the conversations the user
/// may see: when those hold a small share of the messages, the walk reads the postings of every other
/// conversation on the way. A word in a third of a million messages, searched in a conversation of ten thousand,
/// took 120–200 ms. Such a scope is cheaper to read: this takes its messages newest first (row numbers from the
/// conversation index, then each body: about 3.4 µs a message with its words matched, most of it reading the
/// message's page) and keeps those whose bodies hold every term as the index holds their words
/// (``IndexedWordMatcher``), so it finds what FTS5 would.
///
/// It answers (`nil` leaves the search to FTS5) only for terms it can match (``IndexedWordMatcher/canMatch(_:_:)``),
/// and only when reading is the cheaper way:
/// - the scope holds at most a tenth of the indexed messages (else the walk meets the scope's messages often);
/// - every term is common: each of the terms FTS5 would be asked about has more than 10,000 matches among all
///   messages (a walk of a rare term's postings is short);
/// - a user's whole scope holds at most twice as many messages as a scan reads, 10,000 (their row numbers are
///   sorted first);
/// - it finds enough matches (the candidate limit) among the newest 10,000 messages of the scope, or the scope
///   holds no more (a rare match in a larger scope is FTS5's to find).
///
/// Like the index, it reads only messages up to the index's mark (``SearchIndex``); the search deals with the
/// rest.
enum ScopeScan {
    /// When a scan is tried (tests lower them to run it on small stores).
    struct Limits: Sendable {
        /// The most messages one scan reads (about 20 ms of reading at most); 0 sends every search to FTS5.
        var messageLimit = 10_000
        /// A term with at most this many matches among all messages is found faster by FTS5's walk.
        var rareTermPostings = 10_000
        /// The largest share of the indexed messages a scope may hold to be read: a larger scope's messages come
        /// often enough in FTS5's walk.
        var largestScopeShare = 0.1
    }

    /// The newest `candidateLimit` messages of the scope that match `text` (all of its terms, whose FTS5 patterns
    /// are `patterns`), and for each broad term (``PrefixExpansion/Pattern/isBroad``) the share of the messages
    /// read that held it; `nil` when FTS5 is the cheaper way to find them (see the type's description, whose
    /// figures `limits` gives).
    ///
    /// The scope is `conversation` if given (the caller has checked that `user` is a member), else every
    /// conversation `user` is a member of. `termMatches`, if given, holds how many messages the first patterns
    /// match (``SearchPlan/termMatches``: exact below ``SearchPlan/exactCountLimit``), so that they are not counted
    /// again; the others are counted here.
    static func newestMatches(
        _ db: Database,
        _ text: SearchText,
        patterns: [PrefixExpansion.Pattern],
        user: UserID,
        conversation: ConversationID?,
        candidateLimit: Int,
        limits: Limits,
        termMatches: [Double]? = nil
    ) throws -> SearchCandidates? {
        let messageLimit = limits.messageLimit
        guard messageLimit > 0, try IndexedWordMatcher.canMatch(text, db) else { return nil }
        let size = try scopeSize(db, user: user, conversation: conversation)
        let indexedUpTo = try SearchIndex.progress(db).indexedUpTo
        guard Double(size) <= limits.largestScopeShare * Double(indexedUpTo),
            conversation != nil || size <= 2 * Int64(messageLimit)
        else { return nil }
        let rare = limits.rareTermPostings
        for (index, pattern) in patterns.enumerated() where !pattern.isBroad {
            if let termMatches, index < termMatches.count, rare < SearchPlan.exactCountLimit {
                if termMatches[index] <= Double(rare) { return nil }
            } else if try postings(db, pattern.text, upTo: rare + 1) <= rare {
                return nil
            }
        }
        let messages = try newestMessages(db, user, conversation, size: size, upTo: indexedUpTo, limit: messageLimit)
        let found = try filter(db, messages, text, patterns, candidateLimit)
        // Too few matches among the newest `messageLimit` of a bigger scope: FTS5 tells the rest.
        if found.candidates.count < candidateLimit, !messages.isWholeScope { return nil }
        return found
    }

    /// How many messages the scope holds: the sum of its conversations' last seqs (deleted ones included).
    static func scopeSize(_ db: Database, user: UserID, conversation: ConversationID?) throws -> Int64 {
        if let conversation {
            return try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT lastSeq FROM conversation WHERE id = ?"),
                arguments: [conversation.rawValue]
            ) ?? 0
        }
        return try Int64.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT COALESCE(SUM(c.lastSeq), 0) FROM member m JOIN conversation c ON c.id = m.conversationID
                    WHERE m.userID = ?
                    """
            ),
            arguments: [user.rawValue]
        ) ?? 0
    }

    /// How many messages FTS5 finds for `pattern`, counted up to `limit` (a walk of at most that many postings,
    /// without reading the messages).
    static func postings(_ db: Database, _ pattern: String, upTo limit: Int) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(
                sql: "SELECT count(*) FROM (SELECT 1 FROM messageSearch WHERE messageSearch MATCH ? LIMIT ?)"
            ),
            arguments: [pattern, limit]
        ) ?? 0
    }

    /// The scope's newest `limit` messages up to `upTo` (not deleted), newest first: read one by one (their row
    /// numbers and bodies).
    private struct Messages {
        enum Source {
            /// A statement whose rows are the messages: row number, body.
            case rows(RawStatement)
            /// The messages' row numbers, newest first, and the reader of their bodies (deleted ones left out).
            case rowNumbers([Int64], bodies: MessageBodies)
        }

        let source: Source
        /// Whether these are all the scope's messages up to the index's mark, not only the newest `limit`.
        let isWholeScope: Bool
    }

    private static func newestMessages(
        _ db: Database, _ user: UserID, _ conversation: ConversationID?, size: Int64, upTo: Int64, limit: Int
    ) throws -> Messages {
        if let conversation {
            let statement = try RawStatement(
                db,
                """
                SELECT rowNumber, body FROM message
                WHERE conversationID = ?1 AND +rowNumber <= ?2 AND deletedAt IS NULL
                ORDER BY seq DESC LIMIT ?3
                """
            )
            statement.bind(1, conversation.rawValue)
            statement.bind(2, upTo)
            statement.bind(3, Int64(limit))
            return Messages(source: .rows(statement), isWholeScope: size <= limit)
        }
        // The row numbers first, from the conversation index alone, sorted here: rows of several conversations come
        // newest first only once sorted, and SQLite's sort would read every body of the scope first. The unary
        // `+` keeps SQLite from reading the whole table by row number instead of the index.
        let statement = try RawStatement(
            db,
            """
            SELECT m.rowNumber FROM message m
            WHERE m.conversationID IN (SELECT conversationID FROM member WHERE userID = ?1) AND +m.rowNumber <= ?2
            """
        )
        statement.bind(1, user.rawValue)
        statement.bind(2, upTo)
        var rowNumbers: [Int64] = []
        while try statement.step() { rowNumbers.append(statement.int64(0)) }
        rowNumbers.sort(by: >)
        let newest = Array(rowNumbers.prefix(limit))
        return Messages(
            source: .rowNumbers(newest, bodies: try MessageBodies(db)), isWholeScope: rowNumbers.count <= limit
        )
    }

    /// Reads `messages` in order and keeps those holding every term, up to `candidateLimit`. Bodies are matched
    /// where SQLite holds them: only those kept become strings.
    private static func filter(
        _ db: Database,
        _ messages: Messages,
        _ text: SearchText,
        _ patterns: [PrefixExpansion.Pattern],
        _ candidateLimit: Int
    ) throws -> SearchCandidates {
        var matcher = try IndexedWordMatcher(text, db)
        var holding = [Int](repeating: 0, count: text.terms.count)
        var holds = [Bool](repeating: false, count: text.terms.count)
        var candidates: [(rowNumber: Int64, body: String)] = []
        var examined = 0
        /// Matches the body in `statement`'s column `column` and keeps it if it holds every term.
        func examine(_ rowNumber: Int64, _ statement: RawStatement, _ column: Int32) throws {
            examined += 1
            try statement.withUTF8(column) { try matcher.match($0, into: &holds) }
            var holdsAll = true
            for index in holds.indices {
                if holds[index] { holding[index] += 1 } else { holdsAll = false }
            }
            if holdsAll { candidates.append((rowNumber, statement.string(column))) }
        }
        switch messages.source {
        case .rows(let statement):
            defer { statement.reset() }
            while candidates.count < candidateLimit, try statement.step() {
                try examine(statement.int64(0), statement, 1)
            }
        case .rowNumbers(let rowNumbers, let bodies):
            var start = 0
            while candidates.count < candidateLimit, start < rowNumbers.count {
                let chunk = rowNumbers[start..<min(start + MessageBodies.chunkSize, rowNumbers.count)]
                start += chunk.count
                try bodies.read(chunk) { message in
                    try examine(message.int64(0), message, 1)
                    return candidates.count < candidateLimit
                }
            }
        }
        let densities = patterns.indices.map { index -> Double? in
            patterns[index].isBroad ? Double(holding[index]) / Double(max(1, examined)) : nil
        }
        return SearchCandidates(candidates: candidates, densities: densities)
    }
}
