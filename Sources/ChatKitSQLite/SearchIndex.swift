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
import GRDB
import Synchronization

/// Keeps the FTS5 index of message bodies in step with new messages, in batches and off the append path.
///
/// Indexing a message in the transaction that appends it made FTS5 write a new index segment per group commit:
/// about half of an append's work. Since `Schema.v3` appends do not touch the index. Every message row up to
/// `searchProgress.indexedUpTo` is indexed, none above it; ``indexPending(_:addingWords:withScope:atMost:)`` indexes
/// the rows above it in one statement (a few microseconds a row in batches of thousands, against about 50 in batches
/// of 16), at most ``batchLimit`` a transaction since `Schema.v20`.
///
/// It runs
/// - in the background, ``delay`` after an append finds no catch-up scheduled, so the index trails new messages
///   by about that much under load (and catches up at once when they stop);
/// - before a search that finds unindexed rows, so that a search sees every message whose append returned
///   before the search began (see ``SQLiteChatStore/search(_:as:in:limit:)``);
/// - after failing (a full disk), only once ``CatchUpBackoff`` allows, in the background and before searches alike;
/// - when a store opens on a database with unindexed rows (a crash before the catch-up, or an index file made anew);
/// - when the store closes, for the noted changes (``applyChangesNow()``).
///
/// Before `Schema.v20` the index is in the database, catch-ups take the store's writer, and edits and deletes of
/// indexed rows update the index by trigger (those of unindexed rows are skipped by the triggers, since the batch
/// indexes the body current at its time). Since `Schema.v20` the index is in a file of its own (``SearchFile``),
/// written by the indexer's connection, and edits and deletes are noted in the database's `searchChange`, which each
/// catch-up applies first (``applyChanges(_:addingWords:)``): a search waits for the changes as for new rows.
final class SearchIndex: Sendable {
    /// How long after the first unindexed append the background catch-up runs.
    static let delay = Duration.milliseconds(200)

    private struct State {
        var isScheduled = false
        var isClosed = false
        /// Set by appends noted while a catch-up is scheduled or running: it must look again when done.
        var hasMore = false
        var task: Task<Void, Never>?
        /// When catch-ups may run again after failing, and the attempts under way.
        var backoff = CatchUpBackoff()
    }

    /// The connection that writes the index: the store's writer before `Schema.v20`, the indexer's since.
    private let writer: any DatabaseWriter
    /// Whether the index is in a file of its own and applies `searchChange` (`Schema.v20`).
    let appliesChanges: Bool
    /// Called with the last change a catch-up applied, for the store to remove those from `searchChange`; the
    /// catch-up returns once it has.
    private let onChangesApplied: @Sendable (Int64) async throws -> Void
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
    /// The store's clock, which the back-off after failed catch-ups runs on.
    private let now: @Sendable () -> Date

    init(
        writer: any DatabaseWriter, appliesChanges: Bool, addsWords: Bool, prefixLengths: ClosedRange<Int>?,
        hasScopeColumn: Bool, rowConversations: RowConversations, now: @escaping @Sendable () -> Date = { Date() },
        onChangesApplied: @escaping @Sendable (Int64) async throws -> Void = { _ in }
    ) {
        self.writer = writer
        self.now = now
        self.appliesChanges = appliesChanges
        self.onChangesApplied = onChangesApplied
        self.rowConversations = rowConversations
        self.addsWords = addsWords
        self.prefixLengths = prefixLengths
        self.hasScopeColumn = hasScopeColumn
    }

    /// Indexes the message rows above the high-water mark (at most `limit`) inside the current write transaction,
    /// and moves the mark; adds the rows' words to `searchWord` if `addingWords` (a database at `Schema.v5` or
    /// later), and their scope characters to the index if `withScope` (`Schema.v11`). Returns how many rows it
    /// indexed.
    @discardableResult
    static func indexPending(_ db: Database, addingWords: Bool, withScope: Bool, atMost limit: Int64 = .max) throws
        -> Int
    {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT indexedUpTo, (SELECT MAX(rowNumber) FROM message) FROM searchProgress WHERE id = 1
                        """
                )
            )
        else { return 0 }
        let indexedUpTo: Int64 = try row.decode(atIndex: 0)
        guard let lastRow = try row.decode(Int64?.self, atIndex: 1), lastRow > indexedUpTo else { return 0 }
        let last = indexedUpTo > lastRow - limit ? lastRow : indexedUpTo + limit
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

    /// Whether `searchChange` holds changes the index has not applied (`Schema.v20`), as a read transaction sees
    /// them.
    static func hasPendingChanges(_ db: Database) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: """
                SELECT COALESCE((SELECT MAX(id) FROM searchChange), 0) > appliedChange FROM searchProgress WHERE id = 1
                """
        ) ?? false
    }

    /// Applies to the index the edits and deletions `searchChange` noted since the last applied one, and records
    /// the last (`Schema.v20`); returns it. Run before ``indexPending(_:addingWords:withScope:atMost:)`` in the same
    /// transaction: a change of a row above the mark is skipped, since the row is indexed with the body the
    /// transaction reads. For a row the index holds, the first change since the last catch-up holds the text the
    /// index has (later ones hold texts it never had): that text leaves the index, and the row's current text (none
    /// for a deleted row) goes in. The words that no indexed message holds any more leave `searchWord`.
    static func applyChanges(_ db: Database, addingWords: Bool) throws -> Int64 {
        guard let progress = try Row.fetchOne(db, sql: "SELECT indexedUpTo, appliedChange FROM searchProgress") else {
            return 0
        }
        let (indexedUpTo, appliedChange): (Int64, Int64) = (progress[0], progress[1])
        var indexedText: [Int64: (body: String, scope: String?)] = [:]
        var order: [Int64] = []
        var lastChange = appliedChange
        let changes = try Row.fetchCursor(
            db, sql: "SELECT id, rowNumber, body, searchScope FROM searchChange WHERE id > ? ORDER BY id",
            arguments: [appliedChange]
        )
        while let change = try changes.next() {
            lastChange = change[0]
            let rowNumber: Int64 = change[1]
            guard rowNumber <= indexedUpTo, indexedText[rowNumber] == nil else { continue }
            indexedText[rowNumber] = (change[2], change[3])
            order.append(rowNumber)
        }
        guard lastChange > appliedChange else { return appliedChange }
        let current = try db.cachedStatement(
            sql: "SELECT body, searchScope FROM messageSearchSource WHERE rowNumber = ?"
        )
        for rowNumber in order {
            let old = indexedText[rowNumber]!
            try db.cachedStatement(
                sql: "INSERT INTO messageSearch (messageSearch, rowid, body, searchScope) VALUES ('delete', ?, ?, ?)"
            ).execute(arguments: [rowNumber, old.body, old.scope])
            var body = ""
            if let row = try Row.fetchOne(current, arguments: [rowNumber]) {
                body = row[0]
                try db.cachedStatement(sql: "INSERT INTO messageSearch (rowid, body, searchScope) VALUES (?, ?, ?)")
                    .execute(arguments: [rowNumber, body, row[1] as String?])
            }
            if addingWords {
                try SearchWords.add(wordsOf: [body], db)
                try SearchWords.remove(wordsOf: old.body, keeping: body, db)
            }
        }
        try db.execute(sql: "UPDATE searchProgress SET appliedChange = ? WHERE id = 1", arguments: [lastChange])
        return lastChange
    }

    /// Removes from the database the notes of changes up to `lastChange`, which the index has applied (they hold the
    /// texts of deleted messages). Run by the store's writer: the indexer only reads the database.
    static func removeNotes(upTo lastChange: Int64, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM searchChange WHERE id <= ?", arguments: [lastChange])
    }

    /// The most rows one catch-up transaction indexes: a database's first indexing (a million rows) is then a
    /// series of transactions, each holding a bounded batch's words in memory.
    static let batchLimit: Int64 = 50_000

    /// Indexes every unindexed row now (and applies the noted changes, since `Schema.v20`), in write transactions
    /// of their own, whatever the back-off after failed catch-ups (``CatchUpBackoff``): a backup's catch-up, and
    /// tests'. A failure starts or lengthens the back-off; a success ends it.
    func catchUp() async throws {
        let startedAt = now()
        guard case .attempt(let attempt) = state.withLock({ $0.backoff.begin(at: startedAt, whateverTheWait: true) })
        else { return }
        try await catchUpRecordingTheOutcome(attempt)
    }

    /// Catches up as ``catchUp()`` does, unless the last catch-ups failed and their back-off lasts, or another attempt
    /// is under way while they fail (``CatchUpBackoff``): a search's catch-up, which then scans the rows the index
    /// lacks instead of waiting for an attempt that would most likely fail again.
    func catchUpUnlessBackingOff() async throws {
        let startedAt = now()
        guard case .attempt(let attempt) = state.withLock({ $0.backoff.begin(at: startedAt) }) else { return }
        try await catchUpRecordingTheOutcome(attempt)
    }

    /// Runs attempt `attempt`; its failure starts or lengthens the back-off, its success ends it.
    private func catchUpRecordingTheOutcome(_ attempt: Int) async throws {
        do {
            try await catchUpNow()
        } catch is CancellationError {
            state.withLock { $0.backoff.abandon() }
            throw CancellationError()
        } catch {
            let endedAt = now()
            state.withLock { $0.backoff.record(attempt, succeeded: false, at: endedAt) }
            throw error
        }
        let endedAt = now()
        state.withLock { $0.backoff.record(attempt, succeeded: true, at: endedAt) }
    }

    /// How many catch-ups began since the store opened.
    var attemptCount: Int { state.withLock { $0.backoff.started } }

    /// How many catch-ups the back-off put off since the store opened, in the background or before searches.
    var deferralCount: Int { state.withLock { $0.backoff.deferrals } }

    /// How many catch-ups in a row failed.
    var failureCount: Int { state.withLock { $0.backoff.failures } }

    /// How many catch-ups are under way.
    var attemptsUnderWay: Int { state.withLock { $0.backoff.underWay } }

    /// Whether a background catch-up is scheduled or running.
    var isCatchingUpInBackground: Bool { state.withLock { $0.isScheduled } }

    /// Indexes every unindexed row and applies the noted changes, in batches of ``batchLimit``.
    private func catchUpNow() async throws {
        let (addsWords, hasScopeColumn) = (self.addsWords, self.hasScopeColumn)
        guard appliesChanges else {
            _ = try await writer.write { [rowConversations] db in
                try Self.indexPending(db, addingWords: addsWords, withScope: hasScopeColumn)
                try rowConversations.extend(upTo: try Self.progress(db).indexedUpTo, db)
            }
            return
        }
        while true {
            let (indexed, lastChange) = try await writer.writeWithoutTransaction { db in try catchUpBatch(db) }
            if lastChange > 0 { try await onChangesApplied(lastChange) }
            if Int64(indexed) < Self.batchLimit { return }
        }
    }

    /// One transaction of a catch-up of the index file (`Schema.v20`): the noted changes, then a batch of new rows.
    /// Returns how many rows it indexed and the last change it applied.
    private func catchUpBatch(_ db: Database) throws -> (indexed: Int, lastChange: Int64) {
        var outcome: (Int, Int64) = (0, 0)
        // Deferred: the transaction takes the index file's write lock, and only reads the database.
        try db.inTransaction(.deferred) {
            try Self.lockIndex(db)
            let lastChange = try Self.applyChanges(db, addingWords: addsWords)
            let indexed = try Self.indexPending(
                db, addingWords: addsWords, withScope: hasScopeColumn, atMost: Self.batchLimit
            )
            try rowConversations.extend(upTo: try Self.progress(db).indexedUpTo, db)
            outcome = (indexed, lastChange)
            return .commit
        }
        return outcome
    }

    /// Takes the index file's write lock (a write that changes nothing) before the transaction reads the database:
    /// the database is then read after any other process's indexer committed, never between its commit and what
    /// it read (`Schema.v20`).
    static func lockIndex(_ db: Database) throws {
        try db.execute(sql: "UPDATE searchProgress SET indexedUpTo = indexedUpTo WHERE id = 1")
    }

    /// Applies the noted changes now, on the calling thread, in one transaction, and returns the last change
    /// applied: ``SQLiteChatStore/close()`` does, so that no deleted text waits in `searchChange` once the store is
    /// closed. New rows are left to the next catch-up (after an upgrade, the whole index could be left to make).
    /// Nothing before `Schema.v20`.
    func applyChangesNow() throws -> Int64 {
        guard appliesChanges else { return 0 }
        let addsWords = self.addsWords
        return try writer.writeWithoutTransaction { db in
            var lastChange: Int64 = 0
            try db.inTransaction(.deferred) {
                try Self.lockIndex(db)
                lastChange = try Self.applyChanges(db, addingWords: addsWords)
                return .commit
            }
            return lastChange
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
            // The task holds the index only while a round runs: a store released without `close()` ends it.
            state.task = Task.detached(priority: .utility) { [weak self] in
                var wait = SearchIndex.delay
                while true {
                    try? await Task.sleep(for: wait)
                    guard !Task.isCancelled, let index = self, let next = await index.catchUpInBackground() else {
                        return
                    }
                    wait = next
                }
            }
        }
    }

    /// One round of the background catch-up, which runs ``delay`` after the first append it was scheduled for, and
    /// again while appends were noted meanwhile. After a failure (a full disk) it tries again when the back-off allows,
    /// until one succeeds; searches meanwhile scan the rows the index lacks. Returns how long to wait before the next
    /// round, or `nil` when none is needed.
    private func catchUpInBackground() async -> Duration? {
        let checkedAt = now()
        switch state.withLock({ $0.backoff.begin(at: checkedAt) }) {
        case .wait(let remaining):
            // At least 50 ms: a clock that stands still just before the end of the wait must not wake this every
            // millisecond; zero is another attempt under way.
            return max(remaining, .milliseconds(50))
        case .attempt(let attempt):
            let succeeded = (try? await catchUpRecordingTheOutcome(attempt)) != nil
            let again = state.withLock { state in
                guard state.hasMore || !succeeded, !state.isClosed else {
                    state.isScheduled = false
                    return false
                }
                state.hasMore = false
                return true
            }
            guard again else { return nil }
            let endedAt = now()
            return max(Self.delay, state.withLock { $0.backoff.remainingWait(at: endedAt) })
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
