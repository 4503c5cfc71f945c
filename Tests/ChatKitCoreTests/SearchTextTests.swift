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
import Testing

@Suite("SearchText word matching")
struct SearchTextTests {
    @Test func wordsAreFoldedForCaseAndDiacritics() {
        #expect(SearchText.words(in: "Café MÜLLER, naïve-test 42!") == ["cafe", "muller", "naive", "test", "42"])
    }

    @Test func asciiTextSplitsAsTheGeneralPathSplitsIt() {
        // ASCII text takes a byte-level path; a trailing "é" sends the same text down the general one.
        var everyASCII = ""
        for code in 0..<128 { everyASCII.unicodeScalars.append(Unicode.Scalar(UInt8(code))) }
        for text in [everyASCII, "Hello, World! x86_64 v2.0 \r\n CamelCase", "", "a", "...", "MIXED case 123abc"] {
            #expect(SearchText.words(in: text) == Array(SearchText.words(in: text + " é").dropLast()))
            #expect(SearchText.words(in: text + " é").last == "e")
        }
        #expect(SearchText.words(in: "Hello, World! x86_64") == ["hello", "world", "x86", "64"])
    }

    @Test func emojiAndPunctuationAreNotWords() {
        #expect(SearchText.words(in: "🎉 -- ?! 👍🏽") == [])
    }

    @Test func queryTermsMayBePrefixes() {
        let query = SearchText(query: "deploy* Prod")
        #expect(query.terms.map(\.word) == ["deploy", "prod"])
        #expect(query.terms.map(\.isPrefix) == [true, false])
        #expect(query.matches(["deployment", "prod"]))
        #expect(!query.matches(["deployment", "production"]))
        #expect(!query.matches(["redeploy", "prod"]))
    }

    @Test func emptyQueryMatchesNothing() {
        #expect(SearchText(query: "  ... ").terms.isEmpty)
        #expect(!SearchText(query: "").matches(["anything"]))
    }

    @Test func snippetCutsWordsAndGapsLongerThanItsPieceLimit() {
        // Text without spaces is one word: it came back whole, however long.
        let unspaced = String(repeating: "東京", count: 5_000)
        let snippet = SearchText(query: unspaced).snippet(of: unspaced)
        #expect(snippet.count <= SearchText.snippetPieceLimit + 3, "\(snippet.count) characters")
        #expect(snippet.hasPrefix("[東京") && snippet.hasSuffix("…]"))
        let shouted = "needle" + String(repeating: "!", count: 60_000) + " haystack"
        let cut = SearchText(query: "needle").snippet(of: shouted)
        #expect(cut.count <= 2 * SearchText.snippetPieceLimit + 20, "\(cut.count) characters")
        #expect(cut.hasPrefix("[needle]!!!") && cut.hasSuffix("haystack"))
        // Text without a word (a hit of an engine whose words are not these) came back whole too.
        let emoji = String(repeating: "🙂 ", count: 5_000)
        let wordless = SearchText(query: "smile").snippet(of: emoji)
        #expect(wordless.count == SearchText.snippetPieceLimit + 1 && wordless.hasSuffix("…"))
    }

    @Test func snippetMarksMatchesAndCutsLongText() {
        let text = (1...40).map { "word\($0)" }.joined(separator: " ") + " needle " + "tail end"
        let snippet = SearchText(query: "needle").snippet(of: text, maxWords: 6)
        #expect(snippet.contains("[needle]"))
        #expect(snippet.hasPrefix("…"))
        #expect(!snippet.contains("word1 "))
        #expect(SearchText(query: "café").snippet(of: "Le Café est ouvert") == "Le [Café] est ouvert")
    }
}
