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

/// The conversation of every message row, in memory: 4 bytes a row (the conversation's `rowid`), so that a search
/// walking FTS5's matches tells whether each is in its scope without reading the match's message row (about 2 µs,
/// a random page of the file) or collecting the scope's rows first (0.15 µs a row: 16–25 ms for a user of a
/// hundred conversations at a million messages).
///
/// A message never moves to another conversation, so an entry, once read, stays right; the map grows as searches
/// need rows above its end, reading them in the search's own read transaction (about 0.3 µs a row: the first
/// search after the store opens reads them all). Message rows are not deleted by ChatKit; a row deleted by hand
/// and its number reused could be mapped to the old row's conversation, so the searches that use the map check
/// the conversation of every candidate they read (``ScopedIndexWalk``).
final class RowConversations: Sendable {
    /// How many rows a chunk holds: rows are kept in chunks, so that a snapshot is a copy of a few references and
    /// growing copies one chunk at most.
    let chunkSize: Int

    private struct State {
        var chunks: [[UInt32]] = []
        /// Rows 1 through `end` are mapped.
        var end: Int64 = 0
    }

    private let state = Mutex(State())

    /// An empty map, filled as searches need it; `chunkSize` rows to a chunk (tests make it small).
    init(chunkSize: Int = 1 << 16) {
        self.chunkSize = max(1, chunkSize)
    }

    /// What a search reads: the conversation of rows 1 through ``end``.
    struct Snapshot: Sendable {
        fileprivate let chunks: [[UInt32]]
        fileprivate let chunkSize: Int
        /// The last row mapped.
        let end: Int64

        /// The `rowid` of row `rowNumber`'s conversation; 0 for a row that is not mapped (above ``end``, or missing).
        func conversation(of rowNumber: Int64) -> UInt32 {
            guard rowNumber >= 1, rowNumber <= end else { return 0 }
            let index = Int(rowNumber - 1)
            return chunks[index / chunkSize][index % chunkSize]
        }
    }

    /// The map up to row `upTo` at least, reading from `db` the rows it lacks.
    func snapshot(upTo: Int64, _ db: Database) throws -> Snapshot {
        try state.withLock { state in
            if state.end < upTo {
                let statement = try RawStatement(
                    db,
                    """
                    SELECT m.rowNumber, c.rowid FROM message m JOIN conversation c ON c.id = m.conversationID
                    WHERE m.rowNumber > ?1 AND m.rowNumber <= ?2 ORDER BY m.rowNumber
                    """
                )
                statement.bind(1, state.end)
                statement.bind(2, upTo)
                defer { statement.reset() }
                while try statement.step() {
                    let rowNumber = statement.int64(0)
                    // Rows missing (deleted by hand) between the map's end and this one map to no conversation.
                    while state.end < rowNumber {
                        let conversation = state.end + 1 == rowNumber ? UInt32(truncatingIfNeeded: statement.int64(1)) : 0
                        append(conversation, to: &state)
                    }
                }
                while state.end < upTo { append(0, to: &state) }
            }
            return Snapshot(chunks: state.chunks, chunkSize: chunkSize, end: state.end)
        }
    }

    private func append(_ conversation: UInt32, to state: inout State) {
        if state.chunks.isEmpty || state.chunks[state.chunks.count - 1].count == chunkSize {
            state.chunks.append([])
            state.chunks[state.chunks.count - 1].reserveCapacity(chunkSize)
        }
        state.chunks[state.chunks.count - 1].append(conversation)
        state.end += 1
    }
}
