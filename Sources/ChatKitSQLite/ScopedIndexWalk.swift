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

/// Finds the newest matches of a query in a scope — one conversation, or all of a user's — that holds a modest
/// share of the messages, by walking FTS5's matches as row numbers only and keeping those of the scope's rows.
///
/// The plain search joins every match FTS5 returns to its message row to see whether the user may see it: about
/// 1.2 µs a match, most of it reading the row's page. When the scope holds a small share of the messages, most
/// matches are other conversations' and the walk goes far: a word in 5 % of a million messages, searched by a
/// user of conversations holding 20,000 of them, took 110–150 ms. This reads the scope's row numbers from the
/// conversation index first (no message pages), then walks FTS5's matches newest first within the scope's
/// lowest and highest rows, testing each against that set (about a sixth of a microsecond a match of one word), and
/// reads the bodies of the matches kept, as the plain search does.
///
/// It is for the searches ``ScopeFilter`` leaves (prefixes, rare words, scopes of more than 64 conversations with
/// messages, older schemas): ``SearchPlan`` chooses it when it expects it to be cheaper than the plain walk and, for
/// a query of one word, than ``ScopeScan`` too (for several words, when the scan is not expected to find the
/// candidates).
enum ScopedIndexWalk {
    /// The newest `candidateLimit` messages of the scope that match every one of `patterns` (FTS5 patterns),
    /// newest first.
    ///
    /// The scope is `conversation` if given (the caller has checked that `user` is a member), else every
    /// conversation `user` is a member of now. Like the index, it holds only messages up to the index's mark.
    static func newestMatches(
        _ db: Database,
        patterns: [String],
        user: UserID,
        conversation: ConversationID?,
        candidateLimit: Int
    ) throws -> SearchCandidates {
        let query = patterns.joined(separator: " AND ")
        let scope = try ScopeRows(db, user: user, conversation: conversation)
        guard !scope.isEmpty, candidateLimit > 0 else { return SearchCandidates(candidates: [], densities: []) }
        let walk = try RawStatement(
            db,
            """
            SELECT rowid FROM messageSearch
            WHERE messageSearch MATCH ?1 AND rowid >= ?2 AND rowid <= ?3
            ORDER BY rowid DESC
            """
        )
        walk.bind(1, query)
        walk.bind(2, scope.lowest)
        walk.bind(3, scope.highest)
        defer { walk.reset() }
        let bodies = try MessageBodies(db)
        var candidates: [(rowNumber: Int64, body: String)] = []
        var kept: [Int64] = []
        kept.reserveCapacity(MessageBodies.chunkSize)
        var walkEnded = false
        while candidates.count < candidateLimit, !walkEnded {
            // Row numbers of the scope's matches, as many as the candidates still wanted (deleted messages, which
            // the index should not hold, are left out when their bodies are read), at most a chunk.
            kept.removeAll(keepingCapacity: true)
            let wanted = min(MessageBodies.chunkSize, candidateLimit - candidates.count)
            while kept.count < wanted {
                guard try walk.step() else {
                    walkEnded = true
                    break
                }
                let rowNumber = walk.int64(0)
                if scope.contains(rowNumber) { kept.append(rowNumber) }
            }
            try bodies.read(kept[...]) { message in
                candidates.append((message.int64(0), message.string(1)))
                return true
            }
        }
        return SearchCandidates(candidates: candidates, densities: [])
    }

    /// The row numbers of a scope's messages, read from the conversation index: a bit per row number from the
    /// scope's lowest to its highest (rows a million apart take 125 KiB). Rows above the index's mark are among
    /// them; the index has no match to test them with.
    private struct ScopeRows {
        private(set) var lowest: Int64 = .max
        private(set) var highest: Int64 = .min
        private var bits: [UInt64] = []

        var isEmpty: Bool { lowest > highest }

        init(_ db: Database, user: UserID, conversation: ConversationID?) throws {
            let statement: RawStatement
            if let conversation {
                statement = try RawStatement(db, "SELECT rowNumber FROM message WHERE conversationID = ?1")
                statement.bind(1, conversation.rawValue)
            } else {
                statement = try RawStatement(
                    db,
                    """
                    SELECT rowNumber FROM message
                    WHERE conversationID IN (SELECT conversationID FROM member WHERE userID = ?1)
                    """
                )
                statement.bind(1, user.rawValue)
            }
            var rowNumbers: [Int64] = []
            while try statement.step() {
                let rowNumber = statement.int64(0)
                rowNumbers.append(rowNumber)
                lowest = min(lowest, rowNumber)
                highest = max(highest, rowNumber)
            }
            guard !rowNumbers.isEmpty else { return }
            bits = [UInt64](repeating: 0, count: Int((highest - lowest) / 64 + 1))
            for rowNumber in rowNumbers {
                let offset = Int(rowNumber - lowest)
                bits[offset >> 6] |= 1 << UInt64(offset & 63)
            }
        }

        func contains(_ rowNumber: Int64) -> Bool {
            guard rowNumber >= lowest, rowNumber <= highest else { return false }
            let offset = Int(rowNumber - lowest)
            return bits[offset >> 6] & (1 << UInt64(offset & 63)) != 0
        }
    }
}
