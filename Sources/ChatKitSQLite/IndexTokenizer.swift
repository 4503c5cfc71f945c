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

import GRDB
import Synchronization

/// The tokenizer of the search index (`messageSearch`, made with it by `Schema.v18`): FTS5's `unicode61` with
/// diacritics removed, told where ``ChatKitCore/SearchText`` ends a word, so that the index's words are the words
/// the in-memory store finds.
///
/// Out of the box, `unicode61` keeps letters, digits and private use characters (`categories 'L* N* Co'`) and
/// classifies characters by the Unicode tables of its SQLite version (6.1 for 3.40). That split words where
/// `SearchText` does not and joined them where it does:
/// - it split words at combining marks: the vowel signs of Hindi, Bengali and the other Indic scripts, Thai's,
///   Arabic's and Hebrew's vowel marks (`की` was the tokens `क` and `ी`, and `का` found it). Marks are word
///   characters here (`M*`), as they are part of their letter's character for `SearchText`;
/// - it took the symbols and punctuation of later Unicode versions for word characters: `ok🙂`, `lol🤣` were one
///   word (a search for `ok` did not find it). ``separatorRanges`` lists them: each character `SearchText`
///   separates words at that this tokenizer joined words with (from SQLite 3.40's tables and Unicode 16's), the
///   whole emoji and symbol planes (U+1F000–U+1FBFF, but for their letters and digits: emoji of later versions
///   separate too), and the variation selectors and keycap that follow emoji (U+FE0E, U+FE0F, U+20E3);
/// - it split words at the zero-width joiner and non-joiner (Persian writes `می‌خواهم` with one), the Arabic
///   signs that join the number after them, and the circled and squared letters (`Ⓐ`, `🅰`), which `SearchText`
///   takes for letters: ``tokenCharacterRanges``.
///
/// Left as they were: private use characters join words (the index's `searchScope` column is made of them, see
/// `Schema.v11`; `SearchText` separates words at them), and so do characters unassigned in SQLite's tables outside
/// the emoji planes. A mark after a space or an emoji starts a word here (with the letters after it: `🙂िabc` is the
/// word `िabc`, not found by `abc`) and is part of that character there (`abc` is a word of its own);
/// the variation selectors, keycap, skin tones and flag tags listed as separators end a word here even after a letter,
/// where `SearchText` keeps them in the letter's character (a query word with one is searched as the phrase of its
/// parts, ``PrefixExpansion/indexedForm(of:_:)``).
///
/// The characters are written into the index's declaration: changing a range needs a migration that makes the index
/// again. `IndexTokenizerTests` compares the tokenizer with `SearchText` over every assigned character and names
/// each one they disagree on.
enum IndexTokenizer {
    /// The tokenizer, as `Database.makeTokenizer(_:)` takes it.
    static let descriptor = FTS5TokenizerDescriptor(components: components)

    /// The tokens the index's tokenizer makes of a search's word, remembered by word for the process: making the
    /// tokenizer takes about 0.6 ms (its list of separators), and a search of a word other than ASCII asks for the
    /// word's tokens three or four times (its pattern, its other spellings, whether a matcher can compare it).
    /// Remembered by the word's bytes: two spellings Swift takes for the same string (composed or not) are
    /// tokenized by their bytes.
    static func queryTokens(of word: String, _ db: Database) throws -> [String] {
        let key = Array(word.utf8)
        if let tokens = queryTokens.withLock({ $0[key] }) { return tokens }
        let tokens = try db.makeTokenizer(descriptor).tokenize(query: word).map(\.token)
        queryTokens.withLock { remembered in
            if remembered.count >= maximumRememberedWords { remembered.removeAll(keepingCapacity: true) }
            remembered[key] = tokens
        }
        return tokens
    }

    /// The words whose tokens ``queryTokens(of:_:)`` remembers at most; all are forgotten when there are more.
    static let maximumRememberedWords = 1024
    private static let queryTokens = Mutex<[[UInt8]: [String]]>([:])

    /// The value of the index's `tokenize` option, as a statement writes it (`tokenize=` then this): the arguments
    /// that are not words quoted for FTS5, and the whole quoted for SQL. No argument holds a quote; the quotes are
    /// added, not replaced (a quote after U+0600, a prefix of what follows it, is part of that `Character`).
    static let declaration: String = {
        precondition(!components.contains { $0.unicodeScalars.contains("'") }, "an argument holds a quote")
        let isWord = { (argument: String) in
            argument.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        }
        let arguments = components.map { isWord($0) ? $0 : "''" + $0 + "''" }
        return "'" + arguments.joined(separator: " ") + "'"
    }()

    /// The tokenizer's name and arguments.
    static let components = [
        "unicode61", "remove_diacritics", "2", "categories", "L* N* Co M*",
        "separators", characters(in: separatorRanges), "tokenchars", characters(in: tokenCharacterRanges),
    ]

    /// The characters, from the highest down: `unicode61` inserts each one into a sorted list by a linear search
    /// from the start, which this order ends at the first step (0.6 ms to make the tokenizer, not 4).
    private static func characters(in ranges: [ClosedRange<UInt32>]) -> String {
        var characters = String.UnicodeScalarView()
        for range in ranges.reversed() {
            for value in range.reversed() { characters.append(Unicode.Scalar(value)!) }
        }
        return String(characters)
    }

    /// Characters that end a word (see the type's documentation).
    static let separatorRanges: [ClosedRange<UInt32>] = [
        0x58D...0x58E, 0x61C...0x61D, 0x7FE...0x7FF, 0x888...0x888, 0x9FD...0x9FD,
        0xA76...0xA76, 0xC77...0xC77, 0xC84...0xC84, 0xD4F...0xD4F, 0x1B4E...0x1B4F,
        0x1B7D...0x1B7F, 0x2066...0x2069, 0x20BA...0x20C1, 0x20E3...0x20E3, 0x218A...0x218B,
        0x23F4...0x23FF, 0x2427...0x2429, 0x2700...0x2700, 0x2B4D...0x2B4F, 0x2B5A...0x2B73,
        0x2B76...0x2BFF, 0x2E3C...0x2E5D, 0x2FFC...0x2FFF, 0x31E4...0x31E5, 0x31EF...0x31EF,
        0x32FF...0x32FF, 0xA8FC...0xA8FC, 0xAB5B...0xAB5B, 0xAB6A...0xAB6B, 0xFBC2...0xFBD2,
        0xFD40...0xFD4F, 0xFD90...0xFD91, 0xFDC8...0xFDCF, 0xFDFE...0xFDFF, 0xFE0E...0xFE0F,
        0x1018C...0x1018E, 0x1019C...0x1019C, 0x101A0...0x101A0, 0x1056F...0x1056F, 0x10877...0x10878,
        0x10AC8...0x10AC8, 0x10AF0...0x10AF6, 0x10B99...0x10B9C, 0x10D6E...0x10D6E, 0x10D8E...0x10D8F,
        0x10EAD...0x10EAD, 0x10ED0...0x10ED8, 0x10F55...0x10F59, 0x10F86...0x10F89, 0x11174...0x11175,
        0x111CD...0x111CD, 0x111DB...0x111DB, 0x111DD...0x111DF, 0x11238...0x1123D, 0x112A9...0x112A9,
        0x113D4...0x113D5, 0x113D7...0x113D8, 0x1144B...0x1144F, 0x1145A...0x1145B, 0x1145D...0x1145D,
        0x114C6...0x114C6, 0x115C1...0x115D7, 0x11641...0x11643, 0x11660...0x1166C, 0x116B9...0x116B9,
        0x1173C...0x1173F, 0x1183B...0x1183B, 0x11944...0x11946, 0x119E2...0x119E2, 0x11A3F...0x11A46,
        0x11A9A...0x11A9C, 0x11A9E...0x11AA2, 0x11B00...0x11B09, 0x11BE1...0x11BE1, 0x11C41...0x11C45,
        0x11C70...0x11C71, 0x11EF7...0x11EF8, 0x11F43...0x11F4F, 0x11FD5...0x11FF1, 0x11FFF...0x11FFF,
        0x12474...0x12474, 0x12FF1...0x12FF2, 0x13430...0x1343F, 0x16A6E...0x16A6F, 0x16AF5...0x16AF5,
        0x16B37...0x16B3F, 0x16B44...0x16B45, 0x16D6D...0x16D6F, 0x16E97...0x16E9A, 0x16FE2...0x16FE2,
        0x1BC9C...0x1BC9C, 0x1BC9F...0x1BCA3, 0x1CC00...0x1CCEF, 0x1CCFA...0x1CCFC, 0x1CD00...0x1CEB3,
        0x1CEBA...0x1CED0, 0x1CEE0...0x1CEF0, 0x1CF50...0x1CFC3, 0x1D1DE...0x1D1EA, 0x1D800...0x1D9FF,
        0x1DA37...0x1DA3A, 0x1DA6D...0x1DA74, 0x1DA76...0x1DA83, 0x1DA85...0x1DA8B, 0x1E14F...0x1E14F,
        0x1E2FF...0x1E2FF, 0x1E5FF...0x1E5FF, 0x1E95E...0x1E95F, 0x1ECAC...0x1ECAC, 0x1ECB0...0x1ECB0,
        0x1ED2E...0x1ED2E, 0x1F000...0x1F0FF, 0x1F10D...0x1F12F, 0x1F14A...0x1F14F, 0x1F16A...0x1F16F,
        0x1F18A...0x1FBEF, 0x1FBFA...0x1FBFF,
    ]

    /// Characters that belong to words (see the type's documentation).
    static let tokenCharacterRanges: [ClosedRange<UInt32>] = [
        0x600...0x604, 0x6DD...0x6DD, 0x70F...0x70F, 0x200C...0x200D, 0x24B6...0x24E9,
        0x110BD...0x110BD, 0x1F130...0x1F149, 0x1F150...0x1F169, 0x1F170...0x1F189,
    ]
}
