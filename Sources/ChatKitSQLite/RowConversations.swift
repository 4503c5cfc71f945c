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

/// The conversation of every message row, in memory: 4 bytes a row (a number the map gives each conversation), so
/// that a search walking FTS5's matches tells whether each is in its scope without reading the match's message row
/// (about 2 µs, a random page of the file) or collecting the scope's rows first (0.15 µs a row: 16–25 ms for a user
/// of a hundred conversations at a million messages).
///
/// A message never moves to another conversation, so an entry, once read, stays right. The store fills the map when it
/// opens (about 0.3 s at a million messages) and the search index's catch-ups extend it with the rows they index
/// (``SearchIndex/catchUp()`` and its background runs), so a search finds it current; one that finds rows missing
/// (below its index mark) reads them itself. Message rows are not deleted by ChatKit; a row deleted by hand and its
/// number reused could be mapped to the old row's conversation, so the searches that use the map check the conversation
/// of every candidate they read (``ScopedIndexWalk``): a stale entry can hide a message from a search, never show
/// another conversation's.
final class RowConversations: Sendable {
    /// How many rows a chunk holds: rows are kept in chunks, so that a snapshot is a copy of a few references and
    /// growing copies one chunk at most.
    let chunkSize: Int

    private struct State {
        var chunks: [[UInt32]] = []
        /// Rows 1 through `end` are mapped.
        var end: Int64 = 0
        /// The number each conversation seen has in the map (from 1; 0 is no conversation).
        var numbers: [String: UInt32] = [:]
    }

    private let state = Mutex(State())

    /// An empty map; `chunkSize` rows to a chunk (tests make it small).
    init(chunkSize: Int = 1 << 16) {
        self.chunkSize = max(1, chunkSize)
    }

    /// What a search reads: the conversation of rows 1 through ``end``.
    struct Snapshot: Sendable {
        fileprivate let chunks: [[UInt32]]
        fileprivate let chunkSize: Int
        fileprivate let numbers: [String: UInt32]
        /// The last row mapped.
        let end: Int64

        /// The number of row `rowNumber`'s conversation; 0 for a row that is not mapped (above ``end``, or missing).
        func conversation(of rowNumber: Int64) -> UInt32 {
            guard rowNumber >= 1, rowNumber <= end else { return 0 }
            let index = Int(rowNumber - 1)
            return chunks[index / chunkSize][index % chunkSize]
        }

        /// The number of conversation `id`; `nil` if no mapped row is in it.
        func number(of id: String) -> UInt32? { numbers[id] }
    }

    /// The map up to row `upTo` at least, reading from `db` the rows it lacks.
    func snapshot(upTo: Int64, _ db: Database) throws -> Snapshot {
        try state.withLock { state in
            try fill(&state, upTo: upTo, db)
            return Snapshot(chunks: state.chunks, chunkSize: chunkSize, numbers: state.numbers, end: state.end)
        }
    }

    /// Maps the rows up to `upTo` that the map lacks, reading them from `db`: rows that exist there (committed, or
    /// written by `db`'s own transaction) up to `upTo`; numbers without a row map to no conversation.
    func extend(upTo: Int64, _ db: Database) throws {
        try state.withLock { state in try fill(&state, upTo: upTo, db) }
    }

    /// ``extend(upTo:_:)``'s work, on the state its caller has locked.
    private func fill(_ state: inout State, upTo: Int64, _ db: Database) throws {
        guard state.end < upTo else { return }
        let statement = try RawStatement(
            db,
            """
            SELECT rowNumber, conversationID FROM message WHERE rowNumber > ?1 AND rowNumber <= ?2
            ORDER BY rowNumber
            """
        )
        statement.bind(1, state.end)
        statement.bind(2, upTo)
        defer { statement.reset() }
        var lastID = ""
        var lastNumber: UInt32 = 0
        while try statement.step() {
            let rowNumber = statement.int64(0)
            while state.end + 1 < rowNumber { append(0, to: &state) }
            let id = statement.string(1)
            if id != lastID {
                lastID = id
                if let number = state.numbers[id] {
                    lastNumber = number
                } else {
                    lastNumber = UInt32(state.numbers.count + 1)
                    state.numbers[id] = lastNumber
                }
            }
            append(lastNumber, to: &state)
        }
        while state.end < upTo { append(0, to: &state) }
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
