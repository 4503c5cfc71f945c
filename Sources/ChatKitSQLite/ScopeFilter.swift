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

/// Restricts a search to its scope inside FTS5: the query's words `AND` the scope characters of the scope's
/// conversations, which the index holds with every message (`Schema.v11`: `conversation.searchScope`).
///
/// Without it, FTS5 walks a word's matches in every conversation and the search keeps those of the scope: when
/// the scope holds a small share of the messages, most of the walk is other conversations' matches (``ScopeScan``
/// and ``ScopedIndexWalk`` make that cheaper, not short). With it, FTS5 intersects the word's list with the lists
/// of the scope's characters, skipping through the longer one: the newest 2,000 matches of a word in 38 % of a
/// million messages, in a conversation of 10,000, in about 8 ms with their rows read, where the scan of the
/// conversation took 16–25 ms. Conversations whose IDs share a character (see `Schema.v11`) come along; the
/// search's check of each match's conversation leaves them out.
///
/// It is used when the scope holds less than half the messages (a larger scope's matches come early in the walk
/// anyway) and at most ``conversationLimit`` conversations with messages (FTS5 merges their lists as an `OR`).
enum ScopeFilter {
    /// The most conversations with messages whose characters one filter names.
    static let conversationLimit = 64

    /// How a search is restricted to its scope.
    enum Restriction: Equatable {
        /// The FTS5 expression to `AND` with the query.
        case filter(String)
        /// The scope holds no message: nothing can match.
        case empty
    }

    /// The restriction for a search by `user` in `conversation` (or all of theirs; the caller has checked that
    /// `user` is a member of `conversation`); `nil` when the filter is not worth it (see the type's description).
    static func restriction(_ db: Database, user: UserID, conversation: ConversationID?) throws -> Restriction? {
        let size = try ScopeScan.scopeSize(db, user: user, conversation: conversation)
        let indexed = try SearchIndex.progress(db).indexedUpTo
        guard size * 2 < indexed else { return nil }
        // The characters of the scope's conversations that hold messages (`Schema.v11`).
        let characters: [String]
        if let conversation {
            characters = try String.fetchAll(
                db.cachedStatement(sql: "SELECT searchScope FROM conversation WHERE id = ? AND lastSeq > 0"),
                arguments: [conversation.rawValue]
            )
        } else {
            let rows = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT c.searchScope FROM member m JOIN conversation c ON c.id = m.conversationID
                        WHERE m.userID = ? AND c.lastSeq > 0 LIMIT ?
                        """
                ),
                arguments: [user.rawValue, conversationLimit + 1]
            )
            guard rows.count <= conversationLimit else { return nil }
            characters = rows
        }
        let distinct = Array(Set(characters)).sorted()
        guard !distinct.isEmpty else { return .empty }
        // Each character quoted as an FTS5 string (it holds no quote: it is one private-use character).
        return .filter("searchScope : (" + distinct.map { "\"" + $0 + "\"" }.joined(separator: " OR ") + ")")
    }
}
