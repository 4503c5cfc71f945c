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
import Testing

@testable import ChatKitSQLite

/// The search index's tokenizer (`IndexTokenizer`) must end words where `SearchText` does, or the SQLite store
/// finds other messages than the in-memory store: every character is checked between two letters.
@Suite("Index tokenizer")
struct IndexTokenizerTests {
    /// Characters the two are known to treat differently, on purpose (see `IndexTokenizer`): after a letter,
    /// `SearchText` takes them into the letter's character; the index separates words at them, as they follow
    /// emoji (the variation selectors, the keycap, the skin tones, the tags of flags).
    static let knownDifferences: [ClosedRange<UInt32>] = [
        0xFE0E...0xFE0F, 0x20E3...0x20E3, 0x1F3FB...0x1F3FF, 0xE0020...0xE007F,
    ]

    @Test("between two letters, every assigned character ends a word in the index exactly when it does in SearchText")
    func tokenizerAgreesWithSearchText() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        let disagreements = try await store.writer.read { db in
            let tokenizer = try db.makeTokenizer(IndexTokenizer.descriptor)
            var disagreements: [String] = []
            for value in UInt32(0x80)...0x10FFFF {
                guard let scalar = Unicode.Scalar(value) else { continue }
                // Private use characters join words in the index (its scope characters are some), and unassigned
                // ones are read by tables of other Unicode versions.
                switch scalar.properties.generalCategory {
                case .privateUse, .unassigned, .surrogate: continue
                default: break
                }
                if Self.knownDifferences.contains(where: { $0.contains(value) }) { continue }
                var text = "a"
                text.unicodeScalars.append(scalar)
                text += "b"
                let searchTextWords = SearchText.words(in: text).count
                let indexWords = try tokenizer.tokenize(document: text).count
                if (searchTextWords == 1) != (indexWords == 1) {
                    disagreements.append(
                        "U+\(String(value, radix: 16, uppercase: true)) (\(scalar.properties.generalCategory)): "
                            + "SearchText \(searchTextWords) words, index \(indexWords)"
                    )
                }
            }
            return disagreements
        }
        let advice =
            "characters to add to IndexTokenizer's separators or token characters (with a migration that makes the "
            + "index again): " + disagreements.prefix(50).joined(separator: "; ")
        #expect(disagreements.isEmpty, "\(advice)")
    }

    /// What a search asks of the tokenizer is remembered by word: the answers are the tokenizer's, before and after
    /// the remembered words are forgotten for being too many.
    @Test func aSearchWordsTokensAreTheTokenizersWhetherRememberedOrNot() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        try await store.writer.read { db in
            let tokenizer = try db.makeTokenizer(IndexTokenizer.descriptor)
            // One word, a word the index splits (a variation selector after a letter), folded and diacritics removed.
            // Composed and decomposed Hangul: one string to Swift, other bytes to the tokenizer.
            let words = ["Straße", "ok\u{FE0F}go", "Ἀθῆναι", "Çà", "किताब", "🙂", "한글", "\u{1112}\u{1161}\u{11AB}글"]
            let fillers = (0...IndexTokenizer.maximumRememberedWords).map { "wörd\($0)" }
            for word in words + fillers + words + words {
                let expected = try tokenizer.tokenize(query: word).map { Array($0.token.utf8) }
                let remembered = try IndexTokenizer.queryTokens(of: word, db).map { Array($0.utf8) }
                #expect(remembered == expected, "\(word)")
            }
            #expect(try IndexTokenizer.queryTokens(of: "ok\u{FE0F}go", db) == ["ok", "go"])
        }
    }

    @Test("the search index is declared with the tokenizer, which reads its separators and token characters")
    func indexIsDeclaredWithTheTokenizer() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        let (declaration, tokens) = try await store.writer.read { db in
            (
                try String.fetchOne(db, sql: "SELECT sql FROM search.sqlite_master WHERE name = 'messageSearch'") ?? "",
                try db.makeTokenizer(IndexTokenizer.descriptor).tokenize(document: "की ok🙂 می‌خواهم 🅰x").map(\.token)
            )
        }
        #expect(declaration.contains("tokenize=\(IndexTokenizer.declaration)"))
        #expect(tokens == ["की", "ok", "می‌خواهم", "🅰x"])
    }
}
