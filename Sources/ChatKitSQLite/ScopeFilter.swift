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
/// It is used when the scope holds less than half the messages (a larger scope's matches come early in the walk anyway)
/// and at most ``Limits/conversationLimit`` conversations with messages (FTS5 merges their lists as an `OR`), for a
/// query of words (or prefixes the index holds as one list each: `Schema.v12`) each of which matches more messages than
/// the candidates ranked (2,000): FTS5 advances every list of the `OR` at each step of the `AND`. A review measured a
/// rare word (665 matches) in 0.4 ms plainly and 5–10 ms with 64 characters, and two prefixes of 111 words each (the
/// `OR` of their words, before `Schema.v12` held such prefixes) in a scope of 64 small conversations in 20 ms plainly
/// and 87 ms with them. A rare word's plain walk is short, and longer prefixes keep the ways made for them.
enum ScopeFilter {
    /// When the filter is used (tests change them to check it, and the ways it stands for, on small stores).
    struct Limits: Sendable {
        /// Whether searches use the filter at all.
        var isEnabled = true
        /// A query with a word of at most this many matches among all messages is left to the plain walk, which
        /// then passes no more than that many (the candidates a search ranks).
        var rareTermMatches = 2_000
        /// The most conversations with messages whose characters one filter names.
        var conversationLimit = 64
        /// The scope must hold less than this share of the indexed messages.
        var largestScopeShare = 0.5
    }

    /// How a search is restricted to its scope.
    enum Restriction: Equatable {
        /// The FTS5 expression to `AND` with the query.
        case filter(String)
        /// The scope holds no message: nothing can match.
        case empty
    }

    /// Whether a query is one the filter may help: words, and prefixes the index holds as one posting list each
    /// (`Schema.v12`: up to 6 characters), whose terms have the FTS5 patterns `patterns`.
    static func isWorthTrying(_ text: SearchText, _ patterns: [PrefixExpansion.Pattern]) -> Bool {
        !text.terms.isEmpty && zip(text.terms, patterns).allSatisfy { term, pattern in pattern.isOneList(for: term) }
    }

    /// The restriction for a search of `patterns` (FTS5 patterns of words, all required) by `user` in
    /// `conversation` (or all of theirs; the caller has checked that `user` is a member of `conversation`); `nil`
    /// when the filter is not worth it (see the type's description, whose figures `limits` gives).
    static func restriction(
        _ db: Database, patterns: [String], user: UserID, conversation: ConversationID?, limits: Limits
    ) throws -> Restriction? {
        guard limits.isEnabled else { return nil }
        let size = try ScopeScan.scopeSize(db, user: user, conversation: conversation)
        let indexed = try SearchIndex.progress(db).indexedUpTo
        guard Double(size) < limits.largestScopeShare * Double(indexed) else { return nil }
        // A rare word: the plain walk is short (a count that stops there, a few hundredths of a microsecond a match).
        let rare = limits.rareTermMatches
        for pattern in patterns where try ScopeScan.postings(db, pattern, upTo: rare + 1) <= rare { return nil }
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
                arguments: [user.rawValue, limits.conversationLimit + 1]
            )
            guard rows.count <= limits.conversationLimit else { return nil }
            characters = rows
        }
        let distinct = Array(Set(characters)).sorted()
        guard !distinct.isEmpty else { return .empty }
        // Each character quoted as an FTS5 string (it holds no quote: it is one private-use character).
        return .filter("searchScope : (" + distinct.map { "\"" + $0 + "\"" }.joined(separator: " OR ") + ")")
    }
}
