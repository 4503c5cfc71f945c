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

/// The `searchWord` table: every word the search index holds, for ``PrefixExpansion`` to list the words of a
/// prefix with one range scan. (Since `Schema.v20` in the index's own file, refilled by the catch-ups when the index is
/// made anew.)
///
/// FTS5 can list its words itself (an `fts5vocab` table), but it counts each word's messages as it lists it, by
/// reading the word's whole posting list: 15 ms for the 111 words of a prefix at a million messages, half of a
/// prefix search. This table holds the words alone (`Schema.v5`), filled from the index by the migrations that
/// make it and the index (`v5`, `v6`), then kept a superset of it:
/// - ``SearchIndex/indexPending(_:addingWords:withScope:atMost:)`` adds the words of each batch of messages it
///   indexes;
/// - an edit adds the words of the new body (the update trigger re-indexes an indexed row; since `Schema.v20`
///   the catch-up that applies the edit, ``SearchIndex/applyChanges(_:addingWords:)``, does both);
/// - a deletion or an edit removes the old text's words that no indexed message holds any more
///   (``remove(wordsOf:keeping:_:)``; since `Schema.v20` when the catch-up applies it), so that deleted text leaves
///   the file. (A word whose messages left the
///   index otherwise may stay: a prefix listing it gets an `OR` branch that matches nothing.)
///
/// Beside it, `searchWordFolding` (`Schema.v14`) holds each of those words that ``ChatKitCore/SearchText`` folds
/// to other characters, under its folded form: FTS5's tokenizer removes the diacritics of Latin letters only
/// (it indexes "Αθήνα" as "αθήνα", "ёлка" as "ёлка") and folds case simply (it keeps "straße"), while a search
/// compares words folded in full, as the in-memory store does.
/// ``spellings(foldingTo:isPrefix:excluding:limit:_:)`` lists the indexed words a query word stands for ("αθήνα"
/// for "αθηνα").
///
/// The words are FTS5's own tokens. ASCII text (most messages) is split here, by the rules `unicode61` gives
/// ASCII: runs of letters and digits, lowercased. Other text goes through the index's tokenizer itself
/// (``IndexTokenizer``), so that folded and non-Latin words are the index's. (One difference: FTS5
/// stores at most 32,768 bytes of a token, and a longer token that is not ASCII is listed here whole. FTS5 cuts
/// the query's token the same way, so a prefix search still finds it.)
enum SearchWords {
    /// FTS5 stores at most this many bytes of a token (`FTS5_MAX_TOKEN_SIZE`).
    static let maximumTokenBytes = 32768

    /// Adds the words of `bodies` to `searchWord`, inside the current write transaction.
    static func add(wordsOf bodies: some Sequence<String>, _ db: Database) throws {
        let words = try words(of: bodies, db)
        guard !words.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO searchWord (word) VALUES (?)")
        for word in words { try insert.execute(arguments: [word]) }
        try addFoldings(of: words, db)
    }

    /// Adds to `searchWordFolding` each of `words` that folds to other characters, under its folded form; nothing
    /// on a database before `Schema.v14` (its migration adds those of every word).
    static func addFoldings(of words: some Sequence<String>, _ db: Database) throws {
        guard try hasFoldingTable(db) else { return }
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO searchWordFolding (folded, word) VALUES (?, ?)"
        )
        for word in words {
            if let folded = folding(of: word) { try insert.execute(arguments: [folded, word]) }
        }
    }

    /// Adds to `searchWordFolding` the foldings of every word `searchWord` lists (the migrations that make the table,
    /// `Schema.v14`, or make it again, `Schema.v18`). Only words with other characters than ASCII fold otherwise.
    static func addFoldingsOfEveryWord(_ db: Database) throws {
        var words: [String] = []
        let cursor = try String.fetchCursor(db, sql: "SELECT word FROM searchWord")
        while let word = try cursor.next() {
            if !word.utf8.allSatisfy({ $0 < 0x80 }) { words.append(word) }
        }
        try addFoldings(of: words, db)
    }

    /// The table of words that fold to other characters (`Schema.v14`).
    static let foldingTable = "searchWordFolding"

    /// Whether the database (or its attached index file, `Schema.v20`) has ``foldingTable``, asked of each schema's
    /// `sqlite_master`: GRDB's answer is cached per connection and forgets an attached file's new tables (a reader
    /// opened before the index file's tables were made would go on answering no).
    static func hasFoldingTable(_ db: Database) throws -> Bool {
        let schemas = try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM pragma_database_list"))
        for schema in schemas where schema != "temp" {
            let quoted =
                "\"" + schema.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
            let found = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM \(quoted).sqlite_master WHERE type = 'table' AND name = ?"),
                arguments: [foldingTable]
            )
            if found == true { return true }
        }
        return false
    }

    /// `word` as ``ChatKitCore/SearchText`` folds it, when that is not `word` itself (an indexed ASCII word, lowercase
    /// letters and digits, always is).
    private static func folding(of word: String) -> String? {
        guard !word.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        let folded = SearchText.fold(word)
        return folded.utf8.elementsEqual(word.utf8) ? nil : folded
    }

    /// The indexed words that fold to `folded` (that begin with it when folded, for a prefix), at most `limit`,
    /// leaving out those `excluded` finds already: the words it holds, or for a prefix the words they begin (up to
    /// two forms). None on a database before `Schema.v14`.
    static func spellings(
        foldingTo folded: String, isPrefix: Bool, excluding excluded: [String], limit: Int, _ db: Database
    ) throws -> [String] {
        guard try hasFoldingTable(db) else { return [] }
        let forms = twoForms(excluded, else: folded)
        let statement =
            isPrefix
            ? try db.cachedStatement(
                sql: """
                    SELECT word FROM searchWordFolding WHERE folded >= ?1 AND folded < ?1 || char(1114111)
                        AND NOT (word >= ?3 AND word < ?3 || char(1114111))
                        AND NOT (word >= ?4 AND word < ?4 || char(1114111))
                    ORDER BY folded, word LIMIT ?2
                    """
            )
            : try db.cachedStatement(
                sql: """
                    SELECT word FROM searchWordFolding WHERE folded = ?1 AND word NOT IN (?3, ?4)
                    ORDER BY word LIMIT ?2
                    """
            )
        return try String.fetchAll(statement, arguments: [folded, limit, forms[0], forms[1]])
    }

    /// The distinct beginnings, `length` characters long, of the indexed words whose folding begins with `folded`
    /// (leaving out those `excluded` finds, as ``spellings(foldingTo:isPrefix:excluding:limit:_:)`` does), at most
    /// `limit`: for a prefix that more words fold to than a search asks for one by one ("ά" for the 300 words that
    /// "α*" stands for). Reads every such word (a few milliseconds for ten thousand). None before `Schema.v14`.
    static func spellingPrefixes(
        foldingTo folded: String, length: Int, excluding excluded: [String], limit: Int, _ db: Database
    ) throws -> [String] {
        guard try hasFoldingTable(db) else { return [] }
        let forms = twoForms(excluded, else: folded)
        let statement = try db.cachedStatement(
            sql: """
                SELECT DISTINCT substr(word, 1, ?5) FROM searchWordFolding
                WHERE folded >= ?1 AND folded < ?1 || char(1114111)
                    AND NOT (word >= ?3 AND word < ?3 || char(1114111))
                    AND NOT (word >= ?4 AND word < ?4 || char(1114111))
                ORDER BY 1 LIMIT ?2
                """
        )
        return try String.fetchAll(statement, arguments: [folded, limit, forms[0], forms[1], length])
    }

    /// The forms to leave out as exactly two statement arguments: a form repeated stands for none, so that the
    /// statements keep one shape each.
    private static func twoForms(_ excluded: [String], else folded: String) -> [String] {
        precondition(excluded.count <= 2, "at most two forms are left out")
        return excluded + Array(repeating: excluded.first ?? folded, count: 2 - excluded.count)
    }

    /// Removes the words of `body`, a message's text that left the index (deleted, or replaced by `replacement`
    /// in an edit), that no indexed message holds any more: a deleted message's words must not stay in the file.
    /// Inside the current write transaction, after the index has dropped the old text. (A word of a message not
    /// indexed yet is added again when that message is.)
    static func remove(wordsOf body: String, keeping replacement: String = "", _ db: Database) throws {
        let gone = try words(of: [body], db).subtracting(try words(of: [replacement], db))
        guard !gone.isEmpty else { return }
        let stillIndexed = try db.cachedStatement(
            sql: "SELECT 1 FROM messageSearch WHERE messageSearch MATCH ? LIMIT 1"
        )
        let delete = try db.cachedStatement(sql: "DELETE FROM searchWord WHERE word = ?")
        let hasFoldings = try hasFoldingTable(db)
        for word in gone {
            // A phrase of the one token: quoted, so that FTS5 reads no operator in it.
            let quoted = word.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"")
            let phrase = "\"" + quoted + "\""
            if try Int.fetchOne(stillIndexed, arguments: [phrase]) == nil {
                try delete.execute(arguments: [word])
                if hasFoldings, let folded = folding(of: word) {
                    try db.cachedStatement(sql: "DELETE FROM searchWordFolding WHERE folded = ? AND word = ?")
                        .execute(arguments: [folded, word])
                }
            }
        }
    }

    /// The index's words of `bodies`.
    private static func words(of bodies: some Sequence<String>, _ db: Database) throws -> Set<String> {
        var words = Set<String>()
        var tokenizer: (any FTS5Tokenizer)?
        for body in bodies {
            var body = body
            let isASCII = body.withUTF8 { bytes in
                guard !bytes.contains(where: { $0 >= 0x80 }) else { return false }
                insertASCIIWords(of: bytes, into: &words)
                return true
            }
            if isASCII { continue }
            let bodyTokenizer = try tokenizer ?? db.makeTokenizer(IndexTokenizer.descriptor)
            tokenizer = bodyTokenizer
            for (token, _) in try bodyTokenizer.tokenize(document: body) { words.insert(token) }
        }
        return words
    }

    /// The indexed words that begin with `prefix`, in order, at most `limit` of them.
    static func words(withPrefix prefix: String, limit: Int, _ db: Database) throws -> [String] {
        // Every word with the prefix compares at least equal to the prefix and below the prefix followed by the
        // highest code point (SQLite compares text bytewise, and UTF-8 keeps code point order).
        try String.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT word FROM searchWord WHERE word >= ?1 AND word < ?1 || char(1114111)
                    ORDER BY word LIMIT ?2
                    """
            ),
            arguments: [prefix, limit]
        )
    }

    /// Inserts the words of ASCII text: its runs of ASCII letters and digits, lowercased, as `unicode61` splits
    /// and folds them (and cut as FTS5 stores them).
    private static func insertASCIIWords(of text: UnsafeBufferPointer<UInt8>, into words: inout Set<String>) {
        var start = 0
        for index in 0...text.count {
            if index < text.count, isWordByte(text[index]) { continue }
            if index > start {
                let word = UnsafeBufferPointer(rebasing: text[start..<min(index, start + maximumTokenBytes)])
                words.insert(
                    String(unsafeUninitializedCapacity: word.count) { buffer in
                        for (offset, byte) in word.enumerated() {
                            buffer[offset] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
                        }
                        return word.count
                    }
                )
            }
            start = index + 1
        }
    }

    /// Whether an ASCII byte belongs to a word for `unicode61`: a letter or a digit.
    static func isWordByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            false
        }
    }
}
