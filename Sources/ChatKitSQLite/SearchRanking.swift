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
import Foundation
import GRDB

/// Scores search candidates by BM25, the formula of FTS5's `bm25()`, computed here from their bodies.
///
/// FTS5's `bm25()` costs a pass over the whole posting list of every query term, to count the messages holding
/// it (20 ms for a word in most of a million messages, most of a search), and a read of each candidate's length.
/// This is the same formula — `k1` = 1.2, `b` = 0.75, FTS5's inverse document frequency — fed from cheaper
/// sources:
/// - the number of indexed messages and their average length: FTS5's own totals record (one row);
/// - a term's document frequency: counted exactly up to ``exactCountLimit`` matches; a term with more is
///   estimated from the density of its newest ``exactCountLimit`` matches among the indexed rows. A query of one
///   term needs none: its IDF is a constant factor, which does not change the order;
/// - a candidate's term frequencies and length: its body split into words by ``ChatKitCore/SearchText``, whose
///   words are those of FTS5's `unicode61` tokenizer for ASCII text.
///
/// So the order is FTS5's `bm25()` order whenever every term has at most ``exactCountLimit`` matches and the
/// text is ASCII (a test compares them), and close to it otherwise.
struct SearchRanking {
    /// How many matches of a term are counted before its document frequency is estimated instead.
    static let exactCountLimit = 10_000
    /// BM25's term-frequency saturation, FTS5's default.
    static let k1 = 1.2
    /// BM25's length normalization, FTS5's default.
    static let b = 0.75

    private let counter: SearchTermCounter
    private let termCount: Int
    /// One weight (IDF) per term.
    private let weights: [Double]
    /// The average length in words of an indexed message, all of the index's columns counted, as FTS5 counts it.
    private let averageLength: Double
    /// The words of a message in the index's other columns than its body: its scope character (`Schema.v11`), one
    /// per message, which FTS5's `bm25()` counts in a message's length.
    private let otherColumnsLength: Double

    /// Gathers the statistics of `text`'s terms, whose FTS5 patterns (``PrefixExpansion``) are `patterns`, one
    /// per term. If FTS5's totals cannot be read (they exist once the index holds a row, so never when there are
    /// candidates), the `candidateCount` candidates stand for the rows, of one word each.
    ///
    /// `densities` gives, for terms whose document frequency is known without asking FTS5 (``BroadPrefixScan`` or
    /// ``ScopeScan`` measured it), the share of messages that hold them; `nil` entries, or none at all, are
    /// counted.
    init(
        _ db: Database, text: SearchText, patterns: [String], candidateCount: Int, densities: [Double?] = []
    ) throws {
        counter = SearchTermCounter(text.terms)
        termCount = text.terms.count
        let totals = try Self.totals(db)
        let rowCount = max(1, totals?.rows ?? Double(candidateCount))
        // As FTS5 computes it (messages without words, such as attachments alone, count as rows).
        if let totals, totals.rows > 0, totals.words > 0 {
            averageLength = totals.words / totals.rows
            otherColumnsLength = totals.otherColumnsWords / totals.rows
        } else {
            averageLength = 1
            otherColumnsLength = 0
        }
        if termCount < 2 {
            weights = Array(repeating: 1, count: termCount)
        } else {
            weights = try patterns.enumerated().map { index, pattern in
                let matches =
                    if index < densities.count, let density = densities[index] {
                        density * rowCount
                    } else {
                        try Self.documentFrequency(db, matching: pattern, rowCount: rowCount)
                    }
                // FTS5's IDF, floored as FTS5 floors it.
                let idf = log((rowCount - matches + 0.5) / (matches + 0.5))
                return idf > 0 ? idf : 1e-6
            }
        }
    }

    /// The BM25 score of a message body: higher is better.
    func score(_ body: String) -> Double {
        var frequencies = [Int](repeating: 0, count: termCount)
        let length = Double(counter.count(body, into: &frequencies)) + otherColumnsLength
        let lengthFactor = Self.k1 * (1 - Self.b + Self.b * length / averageLength)
        var score = 0.0
        for (frequency, weight) in zip(frequencies, weights) where frequency > 0 {
            let tf = Double(frequency)
            score += weight * (tf * (Self.k1 + 1)) / (tf + lengthFactor)
        }
        return score
    }

    /// How many indexed messages match a term's FTS5 `pattern`: counted up to `exactCountLimit`, estimated above.
    static func documentFrequency(
        _ db: Database,
        matching pattern: String,
        rowCount: Double,
        exactCountLimit: Int = Self.exactCountLimit
    ) throws -> Double {
        guard let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT count(*), min(rowid), (SELECT max(rowid) FROM messageSearch) FROM (
                        SELECT rowid FROM messageSearch WHERE messageSearch MATCH ? ORDER BY rowid DESC LIMIT ?
                    )
                    """
            ),
            arguments: [pattern, exactCountLimit]
        ) else { return 0 }
        let count: Int = try row.decode(atIndex: 0)
        guard count >= exactCountLimit, let oldest = try row.decode(Int64?.self, atIndex: 1),
            let newest = try row.decode(Int64?.self, atIndex: 2)
        else {
            return Double(count)
        }
        // The newest matches cover the rows from `oldest` up: assume the term is as dense among all rows.
        let density = Double(count) / Double(max(1, newest - oldest + 1))
        return min(rowCount, density * rowCount)
    }

    /// FTS5's totals record (row 1 of `messageSearch_data`): the number of indexed rows, then the number of
    /// words in each column, as SQLite varints. `nil` if there is none.
    static func totals(_ db: Database) throws -> (rows: Double, words: Double, otherColumnsWords: Double)? {
        guard let blob = try Data.fetchOne(db, sql: "SELECT block FROM messageSearch_data WHERE id = 1") else {
            return nil
        }
        var bytes = blob[...]
        guard let rows = readVarint(&bytes), let bodyWords = readVarint(&bytes) else { return nil }
        var otherWords: UInt64 = 0
        while !bytes.isEmpty, let words = readVarint(&bytes) { otherWords += words }
        return (Double(rows), Double(bodyWords + otherWords), Double(otherWords))
    }

    /// Reads one SQLite varint (big-endian, seven bits a byte with the high bit set on all but the last; a
    /// ninth byte gives all eight bits) from the front of `bytes`.
    static func readVarint(_ bytes: inout Data.SubSequence) -> UInt64? {
        var value: UInt64 = 0
        for index in 0..<9 {
            guard let byte = bytes.popFirst() else { return nil }
            if index == 8 { return (value << 8) | UInt64(byte) }
            value = (value << 7) | UInt64(byte & 0x7F)
            if byte & 0x80 == 0 { return value }
        }
        return value
    }
}
