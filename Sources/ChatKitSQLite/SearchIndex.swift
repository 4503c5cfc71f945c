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

/// Keeps the FTS5 index of message bodies in step with new messages, in batches and off the append path.
///
/// Indexing a message in the transaction that appends it made FTS5 write a new index segment per group commit:
/// about half of an append's work. Since `Schema.v3` appends do not touch the index. Every message row up to
/// `searchProgress.indexedUpTo` is indexed, none above it; ``indexPending(_:addingWords:withScope:)`` indexes the rows
/// above it in one statement (a few microseconds a row in batches of thousands, against about 50 in batches of 16).
///
/// It runs
/// - in the background, ``delay`` after an append finds no catch-up scheduled, so the index trails new messages
///   by about that much under load (and catches up at once when they stop);
/// - before a search that finds unindexed rows, so that a search sees every message whose append returned
///   before the search began (see ``SQLiteChatStore/search(_:as:in:limit:)``);
/// - when a store opens on a database with unindexed rows (a crash before the catch-up).
///
/// Edits and deletes of indexed rows still update the index by trigger; those of unindexed rows are skipped
/// by the triggers, since the batch indexes the body current at its time.
final class SearchIndex: Sendable {
    /// How long after the first unindexed append the background catch-up runs.
    static let delay = Duration.milliseconds(200)

    private struct State {
        var isScheduled = false
        var isClosed = false
        /// Set by appends noted while a catch-up is scheduled or running: it must look again when done.
        var hasMore = false
        var task: Task<Void, Never>?
    }

    private let writer: any DatabaseWriter
    /// Whether the database has `searchWord` (`Schema.v5`), which each batch's words go into.
    let addsWords: Bool
    /// The character counts of the prefixes the index holds (`Schema.v6`, `Schema.v12`); `nil` without prefix
    /// indexes.
    let prefixLengths: ClosedRange<Int>?
    /// Whether the index holds each message's scope character (`Schema.v11`, ``ScopeFilter``).
    let hasScopeColumn: Bool
    private let state = Mutex(State())
    /// Each message row's conversation, extended with the rows each catch-up indexes.
    private let rowConversations: RowConversations

    init(
        writer: any DatabaseWriter, addsWords: Bool, prefixLengths: ClosedRange<Int>?, hasScopeColumn: Bool,
        rowConversations: RowConversations
    ) {
        self.writer = writer
        self.rowConversations = rowConversations
        self.addsWords = addsWords
        self.prefixLengths = prefixLengths
        self.hasScopeColumn = hasScopeColumn
    }

    /// Indexes every message row above the high-water mark inside the current write transaction, and moves the
    /// mark; adds the rows' words to `searchWord` if `addingWords` (a database at `Schema.v5` or later), and their
    /// scope characters to the index if `withScope` (`Schema.v11`). Returns how many rows it indexed.
    @discardableResult
    static func indexPending(_ db: Database, addingWords: Bool, withScope: Bool) throws -> Int {
        guard let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT indexedUpTo, (SELECT MAX(rowNumber) FROM message) FROM searchProgress WHERE id = 1
                    """
            )
        ) else { return 0 }
        let indexedUpTo: Int64 = try row.decode(atIndex: 0)
        guard let last = try row.decode(Int64?.self, atIndex: 1), last > indexedUpTo else { return 0 }
        if addingWords {
            let bodies = try String.fetchAll(
                db.cachedStatement(sql: "SELECT body FROM message WHERE rowNumber > ? AND rowNumber <= ?"),
                arguments: [indexedUpTo, last]
            )
            try SearchWords.add(wordsOf: bodies, db)
        }
        let sql =
            withScope
            ? """
            INSERT INTO messageSearch (rowid, body, searchScope)
            SELECT rowNumber, body, searchScope FROM messageSearchSource
            WHERE rowNumber > ? AND rowNumber <= ? ORDER BY rowNumber
            """
            : """
            INSERT INTO messageSearch (rowid, body)
            SELECT rowNumber, body FROM message WHERE rowNumber > ? AND rowNumber <= ? ORDER BY rowNumber
            """
        try db.cachedStatement(sql: sql).execute(arguments: [indexedUpTo, last])
        let count = db.changesCount
        try db.cachedStatement(sql: "UPDATE searchProgress SET indexedUpTo = ? WHERE id = 1").execute(arguments: [last])
        return count
    }

    /// The high-water mark and the highest message row, as a read transaction sees them.
    static func progress(_ db: Database) throws -> (indexedUpTo: Int64, lastRow: Int64) {
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT indexedUpTo, COALESCE((SELECT MAX(rowNumber) FROM message), 0)
                    FROM searchProgress WHERE id = 1
                    """
            )
        )
        return (row?[0] ?? 0, row?[1] ?? 0)
    }

    /// Indexes every unindexed row now, in a write transaction of its own.
    func catchUp() async throws {
        _ = try await writer.write { [rowConversations] db in
            try Self.indexPending(db, addingWords: addsWords, withScope: hasScopeColumn)
            try rowConversations.extend(upTo: try Self.progress(db).indexedUpTo, db)
        }
    }

    /// Notes that messages were appended: schedules a background catch-up unless one is on its way.
    func noteAppends() {
        state.withLock { state in
            guard !state.isClosed else { return }
            guard !state.isScheduled else {
                state.hasMore = true
                return
            }
            state.isScheduled = true
            state.hasMore = false
            // The task cannot touch `state` before this critical section ends, so it is stored before it can end
            // (stored after it, a finished task could replace a newer one that `close()` then would not cancel).
            state.task = Task.detached(priority: .utility) { [self] in await catchUpInBackground() }
        }
    }

    /// The background catch-up: ``delay`` after the first append it was scheduled for, and again while appends were
    /// noted meanwhile.
    private func catchUpInBackground() async {
        while true {
            try? await Task.sleep(for: Self.delay)
            if Task.isCancelled { return }
            // Failures (a full disk) leave the rows for the next attempt or for a search to deal with.
            try? await catchUp()
            let again = state.withLock { state in
                guard state.hasMore, !state.isClosed else {
                    state.isScheduled = false
                    return false
                }
                state.hasMore = false
                return true
            }
            if !again { return }
        }
    }

    /// Stops background work; a catch-up in progress finishes or fails on the closed connection.
    func close() {
        let task = state.withLock { state in
            state.isClosed = true
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
    }
}
