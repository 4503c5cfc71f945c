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

import Foundation

/// The word matching that ``SearchStore`` specifies, for stores without a full-text engine of their own.
///
/// Text is split into words of letters and digits, lowercased, and stripped of diacritics, so "Café" and
/// "cafe" are the same word. ``InMemoryChatStore`` uses it; a custom adapter can too.
public struct SearchText: Sendable {
    /// One word of a query.
    public struct Term: Hashable, Sendable {
        /// The folded word.
        public var word: String
        /// Whether the term matches words that begin with ``word`` (the query word ended with `*`).
        public var isPrefix: Bool
        /// The word as the query wrote it, before folding. A full-text engine that folds words its own way (FTS5
        /// keeps "ß", which this folding makes "ss") must fold this one, not ``word``, to find what it indexed.
        public var written: String = ""
    }

    /// The query's terms; a query without words has none and finds nothing.
    public let terms: [Term]

    /// Parses a query: whitespace-separated words, each optionally ending with `*` for a prefix match.
    public init(query: String) {
        var terms: [Term] = []
        // Where each (folded word, prefix or not) is in `terms`: a query of many words is parsed in linear time.
        var places: [TermKey: Int] = [:]
        for piece in query.split(whereSeparator: \.isWhitespace) {
            let isPrefix = piece.hasSuffix("*")
            let written = Self.unfoldedWords(in: String(piece))
            for (index, word) in written.enumerated() {
                let term = Term(word: Self.fold(word), isPrefix: isPrefix && index == written.count - 1, written: word)
                let key = TermKey(word: term.word, isPrefix: term.isPrefix)
                if let same = places[key] {
                    // One term per folded word; a spelling that is not ASCII ("Straße" after "strasse") tells more
                    // (an engine that folds it otherwise looks for both).
                    if terms[same].written.utf8.allSatisfy({ $0 < 0x80 }) { terms[same].written = term.written }
                } else {
                    places[key] = terms.count
                    terms.append(term)
                }
            }
        }
        self.terms = terms
    }

    private struct TermKey: Hashable {
        var word: String
        var isPrefix: Bool
    }

    /// Whether a text with the given folded words (from ``words(in:)``) contains every term.
    public func matches(_ words: [String]) -> Bool {
        guard !terms.isEmpty else { return false }
        return terms.allSatisfy { term in words.contains { term.matches($0) } }
    }

    /// The folded words of a text.
    public static func words(in text: String) -> [String] {
        asciiWords(in: text) ?? unfoldedWords(in: text).map(fold)
    }

    /// The most characters a snippet shows of one word or of the spaces and punctuation between two: text without
    /// spaces (Chinese, Japanese, Thai; one long token) is a single word, and would otherwise come back whole.
    public static let snippetPieceLimit = 64

    /// The text with each matching word wrapped in `[` and `]`, cut to about `maxWords` words around the first
    /// match, each word, and what lies between two, to at most ``snippetPieceLimit`` characters (an ellipsis marks
    /// a cut).
    public func snippet(of text: String, maxWords: Int = 12) -> String {
        var pieces: [(text: String, isWord: Bool)] = []
        var current = ""
        var currentIsWord = false
        for character in text {
            let isWordCharacter = character.isLetter || character.isNumber
            if isWordCharacter != currentIsWord && !current.isEmpty {
                pieces.append((current, currentIsWord))
                current = ""
            }
            currentIsWord = isWordCharacter
            current.append(character)
        }
        if !current.isEmpty { pieces.append((current, currentIsWord)) }

        let wordIndices = pieces.indices.filter { pieces[$0].isWord }
        let firstMatch =
            wordIndices.firstIndex { index in
                let folded = Self.fold(pieces[index].text)
                return terms.contains { $0.matches(folded) }
            } ?? 0
        let firstWord = max(0, firstMatch - maxWords / 3)
        let lastWord = min(wordIndices.count, firstWord + maxWords) - 1
        // No word at all (a hit of an engine whose words are not these): cut as a piece is.
        guard lastWord >= firstWord else {
            return text.count > Self.snippetPieceLimit ? text.prefix(Self.snippetPieceLimit) + "…" : text
        }
        let startPiece = firstWord == 0 ? 0 : wordIndices[firstWord]
        let endPiece = lastWord == wordIndices.count - 1 ? pieces.count - 1 : wordIndices[lastWord]

        var result = startPiece > 0 ? "…" : ""
        for piece in pieces[startPiece...endPiece] {
            let shown =
                piece.text.count > Self.snippetPieceLimit ? piece.text.prefix(Self.snippetPieceLimit) + "…" : piece.text
            if piece.isWord && terms.contains(where: { $0.matches(Self.fold(piece.text)) }) {
                result += "[\(shown)]"
            } else {
                result += shown
            }
        }
        if endPiece < pieces.count - 1 { result += "…" }
        return result
    }

    /// The words of an ASCII text (most messages), the same as the general path finds, at a tenth of its cost:
    /// ASCII letters and digits are the only ASCII characters that are letters or numbers, and folding ASCII is
    /// lowercasing. `nil` for text with any other character.
    private static func asciiWords(in text: String) -> [String]? {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                current.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"):
                current.append(byte + 32)
            case 0x80...:
                return nil
            default:
                if !current.isEmpty {
                    words.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                }
            }
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    /// The runs of letters and digits of a text, as written.
    private static func unfoldedWords(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// A word as the terms and ``words(in:)`` hold it: case folded, every diacritic removed (in any script).
    package static func fold(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }
}

extension SearchText.Term {
    /// Whether a folded word matches this term.
    public func matches(_ folded: String) -> Bool {
        isPrefix ? folded.hasPrefix(word) : folded == word
    }
}
