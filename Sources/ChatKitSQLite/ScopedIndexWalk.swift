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

/// Finds the newest matches of a query in a scope — one conversation, or all of a user's — that holds a modest
/// share of the messages, by walking FTS5's matches as row numbers only and keeping those of the scope's
/// conversations.
///
/// The plain search joins every match FTS5 returns to its message row to see whether the user may see it: about
/// 1.2 µs a match, most of it reading the row's page. When the scope holds a small share of the messages, most
/// matches are other conversations' and the walk goes far: a word in 5 % of a million messages, searched by a
/// user of conversations holding 20,000 of them, took 110–150 ms. This walks FTS5's matches newest first and looks
/// each one's conversation up in memory (``RowConversations``; about a sixth of a microsecond a match of one word),
/// then reads the bodies of the matches kept, as the plain search does, checking each row's own conversation. (It
/// read the scope's row numbers from the conversation index first, until the nineteenth session: 0.15 µs a row,
/// 16–25 ms for a user of a hundred conversations at a million messages.)
///
/// It is for the searches ``ScopeFilter`` leaves (longer prefixes, rare words, scopes of more than 64
/// conversations with messages, older schemas): ``SearchPlan`` chooses it when it expects it to be cheaper than the
/// plain walk and, for a query of one word, than ``ScopeScan`` too (for several words, when the scan is not
/// expected to find the candidates).
enum ScopedIndexWalk {
    /// The newest `candidateLimit` messages of the scope that match every one of `patterns` (FTS5 patterns),
    /// newest first.
    ///
    /// The scope is `conversation` if given (the caller has checked that `user` is a member), else every
    /// conversation `user` is a member of now. Like the index, it holds only messages up to the index's mark;
    /// `rowConversations` is brought up to that mark first.
    static func newestMatches(
        _ db: Database,
        patterns: [String],
        user: UserID,
        conversation: ConversationID?,
        candidateLimit: Int,
        rowConversations: RowConversations
    ) throws -> SearchCandidates {
        let map = try rowConversations.snapshot(upTo: try SearchIndex.progress(db).indexedUpTo, db)
        let scope = try ScopeConversations(db, user: user, conversation: conversation, map)
        guard !scope.isEmpty, candidateLimit > 0 else { return SearchCandidates(candidates: [], densities: []) }
        let walk = try RawStatement(
            db,
            """
            SELECT rowid FROM messageSearch
            WHERE messageSearch MATCH ?1 AND rowid >= ?2 AND rowid <= ?3
            ORDER BY rowid DESC
            """
        )
        walk.bind(1, patterns.joined(separator: " AND "))
        walk.bind(2, scope.lowest)
        walk.bind(3, scope.highest)
        defer { walk.reset() }
        let bodies = try MessageBodies(db)
        var candidates: [(rowNumber: Int64, body: String)] = []
        var kept: [Int64] = []
        kept.reserveCapacity(MessageBodies.chunkSize)
        var walkEnded = false
        while candidates.count < candidateLimit, !walkEnded {
            // Row numbers of the scope's matches, as many as the candidates still wanted (deleted messages, which
            // the index should not hold, are left out when their bodies are read), at most a chunk.
            kept.removeAll(keepingCapacity: true)
            let wanted = min(MessageBodies.chunkSize, candidateLimit - candidates.count)
            while kept.count < wanted {
                guard try walk.step() else {
                    walkEnded = true
                    break
                }
                let rowNumber = walk.int64(0)
                if scope.contains(map.conversation(of: rowNumber)) { kept.append(rowNumber) }
            }
            try bodies.read(kept[...]) { message in
                // The map tells which rows to read; each row's own conversation decides (see `RowConversations`).
                if scope.contains(id: message.string(2)) { candidates.append((message.int64(0), message.string(1))) }
                return true
            }
        }
        return SearchCandidates(candidates: candidates, densities: [])
    }

    /// A scope's conversations — one conversation, or every conversation a user is a member of now — by their
    /// numbers in ``RowConversations`` and by ID, and the lowest and highest rows among their messages (a walk
    /// outside them finds nothing: a scope whose messages are all old ends its walk there).
    struct ScopeConversations {
        private var numbers: Set<UInt32> = []
        private var ids: Set<String> = []
        private(set) var lowest: Int64 = .max
        private(set) var highest: Int64 = .min

        var isEmpty: Bool { numbers.isEmpty || lowest > highest }

        init(_ db: Database, user: UserID, conversation: ConversationID?, _ map: RowConversations.Snapshot) throws {
            if let conversation {
                ids = [conversation.rawValue]
            } else {
                ids = Set(
                    try String.fetchAll(
                        db.cachedStatement(sql: "SELECT conversationID FROM member WHERE userID = ?"),
                        arguments: [user.rawValue]
                    )
                )
            }
            let newest = try RawStatement(
                db, "SELECT rowNumber FROM message WHERE conversationID = ?1 ORDER BY seq DESC LIMIT 1"
            )
            let oldest = try RawStatement(
                db, "SELECT rowNumber FROM message WHERE conversationID = ?1 ORDER BY seq LIMIT 1"
            )
            for id in ids {
                guard let number = map.number(of: id) else { continue }  // no message mapped: nothing to find
                numbers.insert(number)
                for (statement, isNewest) in [(newest, true), (oldest, false)] {
                    statement.bind(1, id)
                    defer { statement.reset() }
                    guard try statement.step() else { continue }
                    let rowNumber = statement.int64(0)
                    if isNewest { highest = max(highest, rowNumber) } else { lowest = min(lowest, rowNumber) }
                }
            }
        }

        /// Whether the conversation numbered `number` is in the scope (0, no conversation, never is).
        func contains(_ number: UInt32) -> Bool { number != 0 && numbers.contains(number) }

        /// Whether the conversation `id` is in the scope.
        func contains(id: String) -> Bool { ids.contains(id) }
    }
}
