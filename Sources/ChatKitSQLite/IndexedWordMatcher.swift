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

/// Tells which of a query's terms a message body holds, as the FTS5 index sees it: the body's words as the
/// index's tokenizer makes them (``IndexTokenizer``), against each term's forms as a search asks FTS5
/// for them (``PrefixExpansion/pattern(_:_:_:)``: the word as ``ChatKitCore/SearchText`` folds it, and the index's
/// own folding of a word written with other characters than ASCII, and the indexed words that fold to the term's
/// word, ``PrefixExpansion/otherSpellings(of:_:)``). So a body it finds is one FTS5 finds.
///
/// ASCII bodies, most messages, are split here without the tokenizer: their words are the runs of ASCII letters
/// and digits, lowercased, as `unicode61` makes them. The tokenizer is made at the first body with other characters
/// (making it reads its list of separators: about half a millisecond).
struct IndexedWordMatcher {
    private struct Term {
        /// The words, as the index holds them, that the term matches (or begins, for a prefix).
        let forms: [[UInt8]]
        let isPrefix: Bool

        func matches(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
            forms.contains { form in isPrefix ? word.starts(with: form) : word.elementsEqual(form) }
        }
    }

    private let terms: [Term]
    private let db: Database
    private var tokenizer: (any FTS5Tokenizer)?

    /// Whether a matcher can tell which of `text`'s terms a body holds: each term must be one word to the index's
    /// tokenizer. It can split a word of ``ChatKitCore/SearchText`` where their tables differ (at a variation
    /// selector after a letter, for one; before `Schema.v18`, at every combining vowel sign: "किताब" was three
    /// tokens); FTS5 finds those as phrases of their tokens, which a matcher comparing one token at a time with the
    /// whole word never does.
    static func canMatch(_ text: SearchText, _ db: Database) throws -> Bool {
        // ASCII words are one token each: only the others are asked of the tokenizer.
        for term in text.terms where !term.written.utf8.allSatisfy({ $0 < 0x80 }) {
            guard try IndexTokenizer.queryTokens(of: term.written, db).count == 1 else { return false }
        }
        return true
    }

    /// A matcher for `text`'s terms, with the index's tokenizer of `db`'s connection (use it within the access).
    init(_ text: SearchText, _ db: Database) throws {
        terms = try text.terms.map { term in
            let indexed = try PrefixExpansion.indexedForm(of: term, db)
            let forms =
                (indexed == term.word ? [term.word] : [indexed, term.word])
                + (try PrefixExpansion.otherSpellings(of: term, db).forms)
            return Term(forms: forms.map { Array($0.utf8) }, isPrefix: term.isPrefix)
        }
        self.db = db
    }

    /// Sets `holds[i]` to whether the body (UTF-8) holds term `i`.
    mutating func match(_ body: UnsafeBufferPointer<UInt8>, into holds: inout [Bool]) throws {
        for index in holds.indices { holds[index] = false }
        if !body.contains(where: { $0 >= 0x80 }) {
            var start = 0
            var lowered: [UInt8] = []
            for index in 0...body.count {
                if index < body.count, SearchWords.isWordByte(body[index]) { continue }
                if index > start {
                    lowered.removeAll(keepingCapacity: true)
                    for byte in body[start..<index] {
                        lowered.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                    }
                    lowered.withUnsafeBufferPointer { note($0, &holds) }
                }
                start = index + 1
            }
            return
        }
        let tokenizer = try self.tokenizer ?? db.makeTokenizer(IndexTokenizer.descriptor)
        self.tokenizer = tokenizer
        for (token, _) in try tokenizer.tokenize(document: String(decoding: body, as: UTF8.self)) {
            var token = token
            token.withUTF8 { note($0, &holds) }
        }
    }

    private func note(_ word: UnsafeBufferPointer<UInt8>, _ holds: inout [Bool]) {
        for (index, term) in terms.enumerated() where !holds[index] && term.matches(word) { holds[index] = true }
    }
}
