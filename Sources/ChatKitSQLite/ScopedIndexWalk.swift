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
        let scope = try ScopeConversations(db, user: user, conversation: conversation)
        guard !scope.isEmpty, candidateLimit > 0 else { return SearchCandidates(candidates: [], densities: []) }
        let map = try rowConversations.snapshot(upTo: try SearchIndex.progress(db).indexedUpTo, db)
        let walk = try RawStatement(
            db, "SELECT rowid FROM messageSearch WHERE messageSearch MATCH ?1 ORDER BY rowid DESC"
        )
        walk.bind(1, patterns.joined(separator: " AND "))
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

    /// A scope's conversations — one conversation, or every conversation a user is a member of now — by `rowid`
    /// (as ``RowConversations`` maps rows) and by ID.
    struct ScopeConversations {
        private var rowIDs: Set<UInt32> = []
        private var ids: Set<String> = []

        var isEmpty: Bool { rowIDs.isEmpty }

        init(_ db: Database, user: UserID, conversation: ConversationID?) throws {
            let statement: RawStatement
            if let conversation {
                statement = try RawStatement(db, "SELECT rowid, id FROM conversation WHERE id = ?1")
                statement.bind(1, conversation.rawValue)
            } else {
                statement = try RawStatement(
                    db,
                    """
                    SELECT c.rowid, c.id FROM member m JOIN conversation c ON c.id = m.conversationID
                    WHERE m.userID = ?1
                    """
                )
                statement.bind(1, user.rawValue)
            }
            while try statement.step() {
                rowIDs.insert(UInt32(truncatingIfNeeded: statement.int64(0)))
                ids.insert(statement.string(1))
            }
        }

        /// Whether the conversation of `rowid` is in the scope (0, no conversation, never is).
        func contains(_ rowID: UInt32) -> Bool { rowID != 0 && rowIDs.contains(rowID) }

        /// Whether the conversation `id` is in the scope.
        func contains(id: String) -> Bool { ids.contains(id) }
    }
}
