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

/// Rewrites a prefix term of a search as the indexed words it stands for, joined by `OR`.
///
/// FTS5 answers a prefix query (`"word12" *`) by merging the posting lists of every indexed word with that
/// prefix into one list before it returns the first row, whatever the query's `LIMIT`: 35–50 ms for a prefix of
/// 111 words at a million messages. An `OR` of the same words is read lazily, newest first, so a search that
/// wants the newest 2,000 matches reads about that many postings: 5–10 ms for the same query. The words come from
/// the `searchWord` table (``SearchWords``), one range scan.
///
/// A prefix of more than ``maximumWords`` words keeps FTS5's own prefix query: an `OR` of thousands of words
/// would cost more than the merge. Terms are joined with an explicit `AND`: FTS5 joins adjacent phrases
/// implicitly, but not a phrase and a parenthesized group.
enum PrefixExpansion {
    /// The most words a prefix is rewritten into.
    static let maximumWords = 256

    /// The FTS5 match pattern of `term`: a prefix term as the `OR` of its words (FTS5's prefix query when there
    /// are none, more than ``maximumWords``, or no `searchWord` table: a database migrated only up to an older
    /// schema), any other term as a quoted word.
    ///
    /// Only an ASCII prefix is rewritten. FTS5 folds the prefix of its own query with its tokenizer, while the
    /// words are looked up here by the prefix as ``ChatKitCore/SearchText`` folded it; the two fold ASCII alike
    /// (lowercase letters and digits stay as they are), other scripts not always.
    static func pattern(_ term: SearchText.Term, hasWordTable: Bool, _ db: Database) throws -> String {
        guard term.isPrefix else { return quoted(term.word) }
        let native = quoted(term.word) + " *"
        guard hasWordTable, term.word.utf8.allSatisfy({ $0 < 0x80 }) else { return native }
        let words = try SearchWords.words(withPrefix: term.word, limit: maximumWords + 1, db)
        guard !words.isEmpty, words.count <= maximumWords else { return native }
        return "(" + words.map(quoted).joined(separator: " OR ") + ")"
    }

    /// A word as an FTS5 string: in double quotes, its own double quotes doubled.
    private static func quoted(_ word: String) -> String {
        "\"" + word.replacing("\"", with: "\"\"") + "\""
    }
}
