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

/// Counts how often each term of a query occurs in a message body, with the word rules of
/// ``ChatKitCore/SearchText`` (those of FTS5's `unicode61` tokenizer for ASCII text).
///
/// Used to score candidates (``SearchRanking``) and to filter message bodies for the terms FTS5 was not asked
/// about (``BroadPrefixScan``). ASCII bodies, most messages, are counted without building their words.
struct SearchTermCounter {
    private let terms: [SearchText.Term]
    private let asciiTerms: [ASCIITerm]

    /// A counter for a query's terms, in order: ``count(_:into:)`` fills one frequency per term.
    init(_ terms: [SearchText.Term]) {
        self.terms = terms
        asciiTerms = terms.map(ASCIITerm.init)
    }

    /// Adds each term's matching words in `body` to `frequencies` (one entry per term); returns the number of
    /// words in `body`.
    func count(_ body: String, into frequencies: inout [Int]) -> Int {
        var body = body
        return body.withUTF8 { countASCIIWords(in: $0, frequencies: &frequencies) }
            ?? countWords(in: body, frequencies: &frequencies)
    }

    /// ``count(_:into:)`` for any text: its words from ``ChatKitCore/SearchText/words(in:)``.
    private func countWords(in text: String, frequencies: inout [Int]) -> Int {
        let words = SearchText.words(in: text)
        for (index, term) in terms.enumerated() {
            for word in words where term.matches(word) { frequencies[index] += 1 }
        }
        return words.count
    }

    /// ``count(_:into:)`` for ASCII text without building its words: the words are the runs of ASCII letters and
    /// digits, compared with the terms case-insensitively. `nil` (and `frequencies` untouched) for text with any
    /// other character.
    private func countASCIIWords(in text: UnsafeBufferPointer<UInt8>, frequencies: inout [Int]) -> Int? {
        if text.contains(where: { $0 >= 0x80 }) { return nil }
        var length = 0
        var start = 0
        for index in 0...text.count {
            if index < text.count, SearchWords.isWordByte(text[index]) { continue }
            if index > start {
                length += 1
                let word = UnsafeBufferPointer(rebasing: text[start..<index])
                for (termIndex, term) in asciiTerms.enumerated() where term.matches(word) {
                    frequencies[termIndex] += 1
                }
            }
            start = index + 1
        }
        return length
    }

    /// A term as bytes, for ``countASCIIWords(in:frequencies:)``. A term that is not ASCII matches no ASCII word.
    private struct ASCIITerm {
        let bytes: [UInt8]
        let isPrefix: Bool
        let isASCII: Bool

        init(_ term: SearchText.Term) {
            bytes = Array(term.word.utf8)
            isPrefix = term.isPrefix
            isASCII = bytes.allSatisfy { $0 < 0x80 }
        }

        /// Whether an ASCII word (any case) matches; the term's own bytes are folded, so lowercase.
        func matches(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
            guard isASCII, isPrefix ? word.count >= bytes.count : word.count == bytes.count else { return false }
            for index in bytes.indices {
                let byte = word[index]
                let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
                if lowered != bytes[index] { return false }
            }
            return true
        }
    }
}
