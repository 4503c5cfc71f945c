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

/// Rewrites a prefix term of a search as the indexed words it stands for, joined by `OR`, unless the index has a
/// prefix index for its length.
///
/// A prefix of 1 to 6 characters (1 to 4 before `Schema.v12`: `Schema.indexedPrefixLengths(upTo:)`) is FTS5's own
/// prefix query: since `Schema.v6` the index holds those prefixes as terms of their own, one posting list each
/// (1.5 ms for `wo*` at a million messages, where merging the 5,000 words it begins took 1.8 s). Longer prefixes
/// are rewritten as follows.
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

    /// What the database's schema offers prefix searches.
    struct Capabilities {
        /// Whether there is a `searchWord` table (`Schema.v5`); without it, prefixes keep FTS5's prefix query.
        var hasWordTable: Bool
        /// The character counts of the prefixes the index holds (`Schema.v6`, `Schema.v12`); `nil` without
        /// prefix indexes.
        var prefixLengths: ClosedRange<Int>?

        /// A database with every migration applied.
        static let current = Capabilities(hasWordTable: true, prefixLengths: Schema.v12PrefixLengths)
    }

    /// A term's FTS5 match pattern.
    struct Pattern: Equatable {
        /// The FTS5 query text.
        var text: String
        /// Whether the term is a prefix of more than ``maximumWords`` indexed words that FTS5 has no prefix index
        /// for: FTS5 merges the posting lists of all those words for it, which at a million messages costs
        /// hundreds of milliseconds (``BroadPrefixScan`` finds its newest matches another way).
        var isBroad = false
        /// Whether the term is a prefix FTS5 holds as one posting list (a prefix index of its length): it costs
        /// FTS5 what a word costs, so the ways made for words (``ScopeFilter``, ``SearchPlan``) take it too.
        var isIndexedPrefix = false

        /// Whether `term`, whose pattern this is, is a word or a prefix with one posting list of its own.
        func isOneList(for term: SearchText.Term) -> Bool {
            !term.isPrefix || isIndexedPrefix
        }
    }

    /// The FTS5 match pattern of `term`: a prefix term as FTS5's prefix query when the index has a prefix index
    /// of its length, otherwise as the `OR` of its words (FTS5's prefix query again when there are none, more than
    /// ``maximumWords`` (a broad prefix), or no `searchWord` table: a database migrated only up to an older
    /// schema); any other term as a quoted word.
    ///
    /// Only an ASCII prefix is rewritten. FTS5 folds the prefix of its own query with its tokenizer, while the
    /// words are looked up here by the prefix as ``ChatKitCore/SearchText`` folded it; the two fold ASCII alike
    /// (lowercase letters and digits stay as they are), other scripts not always.
    ///
    /// The indexed words that fold to the term's word but are spelled otherwise (``otherSpellings(of:_:)``: "αθήνα"
    /// for "αθηνα") join the pattern with `OR` (a broad prefix's too, so that every way of searching finds them).
    static func pattern(_ term: SearchText.Term, _ capabilities: Capabilities, _ db: Database) throws -> Pattern {
        var pattern = try ownPattern(term, capabilities, db)
        let others = try otherSpellings(of: term, db)
        if !others.isEmpty {
            // Words as words; the beginnings of a prefix's many spellings as prefixes.
            let suffix = others.areWords ? "" : " *"
            let branches = others.forms.map { quoted($0) + suffix }
            pattern.text = "(" + pattern.text + " OR " + branches.joined(separator: " OR ") + ")"
        }
        return pattern
    }

    /// The other spellings of a term: indexed words, or for a prefix that too many words fold to, the prefixes
    /// those words begin with.
    struct OtherSpellings: Equatable {
        /// The words, or the prefixes.
        var forms: [String]
        /// Whether ``forms`` are whole indexed words (or else prefixes, each standing for the words it begins).
        var areWords = true

        var isEmpty: Bool { forms.isEmpty }
        static let none = OtherSpellings(forms: [])
    }

    /// The indexed words that ``ChatKitCore/SearchText`` folds to the term's word (whose folding begins with it, for
    /// a prefix), other than those the term's own pattern finds: "αθήνα" for "αθηνα" (FTS5 removes the diacritics
    /// of Latin letters only), "ёлка" for "елка", "straße" for "strasse". At most ``maximumWords``. When more fold to
    /// a prefix, the distinct beginnings of those words as long as the prefix ("ά" for "α*", which a few hundred
    /// words beginning with "ά" fold to), if there are at most ``maximumWords`` of them and the index holds
    /// prefixes of that length (one list each); otherwise none, and the prefix keeps its own pattern. None on a
    /// database before `Schema.v14`.
    static func otherSpellings(of term: SearchText.Term, _ db: Database) throws -> OtherSpellings {
        let indexed = try indexedForm(of: term, db)
        let forms = indexed == term.word ? [indexed] : [indexed, term.word]
        let spellings = try SearchWords.spellings(
            foldingTo: term.word, isPrefix: term.isPrefix, excluding: forms, limit: maximumWords + 1, db
        )
        if spellings.count <= maximumWords { return OtherSpellings(forms: spellings) }
        let length = term.word.unicodeScalars.count
        guard term.isPrefix, Schema.v12PrefixLengths.contains(length) else { return .none }
        let prefixes = try SearchWords.spellingPrefixes(
            foldingTo: term.word, length: length, excluding: forms, limit: maximumWords + 1, db
        )
        // A beginning that does not fold to the prefix (folding changed its length: "ß" is "ss") would find words
        // the prefix does not stand for; the words themselves are then too many to ask for.
        guard prefixes.count <= maximumWords, prefixes.allSatisfy({ SearchText.fold($0) == term.word }) else {
            return .none
        }
        return OtherSpellings(forms: prefixes, areWords: false)
    }

    /// The term's pattern from its own forms: the word as folded and as the index folds it, or a prefix of them.
    private static func ownPattern(_ term: SearchText.Term, _ capabilities: Capabilities, _ db: Database) throws
        -> Pattern
    {
        let word = try indexedForm(of: term, db)
        if word != term.word {
            // Both forms: "Straße" finds "straße" as the index holds it, and "strasse" written with "ss".
            let suffix = term.isPrefix ? " *" : ""
            return Pattern(text: "(" + quoted(word) + suffix + " OR " + quoted(term.word) + suffix + ")")
        }
        guard term.isPrefix else { return Pattern(text: quoted(word)) }
        let native = Pattern(text: quoted(word) + " *")
        // FTS5 counts a prefix's length in characters.
        if let lengths = capabilities.prefixLengths, lengths.contains(word.unicodeScalars.count) {
            return Pattern(text: native.text, isIndexedPrefix: true)
        }
        guard capabilities.hasWordTable, word.utf8.allSatisfy({ $0 < 0x80 }) else { return native }
        let words = try SearchWords.words(withPrefix: term.word, limit: maximumWords + 1, db)
        guard !words.isEmpty else { return native }
        guard words.count <= maximumWords else { return Pattern(text: native.text, isBroad: true) }
        return Pattern(text: "(" + words.map(quoted).joined(separator: " OR ") + ")")
    }

    /// The term's word as the index holds it. `SearchText` folds words with full case folding ("Straße" becomes
    /// "strasse", "ﬁne" "fine"), FTS5's tokenizer with simple folding (it keeps "straße", "ﬁne"): a query word that
    /// is not ASCII is folded by the index's own tokenizer, so that every word finds the messages it is in (and
    /// ``pattern(_:_:_:)`` asks for both forms when they differ). ASCII words fold alike in both. An ASCII query
    /// word ("strasse") finds the other spelling ("straße") through ``otherSpellings(of:_:)``.
    static func indexedForm(of term: SearchText.Term, _ db: Database) throws -> String {
        // "Straße" folds to ASCII here: it is the written word that tells.
        guard !term.written.isEmpty, !term.written.utf8.allSatisfy({ $0 < 0x80 }) else { return term.word }
        let tokens = try IndexTokenizer.queryTokens(of: term.written, db)
        // A word the tokenizer splits ("ok" and "go" of "ok\u{FE0F}go", a variation selector after a letter) is asked
        // for as written: FTS5 reads a quoted string of several tokens as their phrase.
        return tokens.count == 1 ? tokens[0] : tokens.isEmpty ? term.word : term.written
    }

    /// A word as an FTS5 string: in double quotes, its own double quotes doubled.
    private static func quoted(_ word: String) -> String {
        "\"" + word.replacing("\"", with: "\"\"") + "\""
    }
}
