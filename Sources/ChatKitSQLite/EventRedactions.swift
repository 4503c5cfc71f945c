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
import Synchronization

/// Writes a deleted message's tombstone into the stored events that still hold a copy of the message (its edits
/// and reactions, and a creation stored before `Schema.v3`), so that the deleted text leaves the file's event log,
/// a bounded number of events per write transaction.
///
/// Each edit or reaction event holds the whole message, and a message can have any number of them (a reaction
/// added and removed again and again): rewriting them all in the deletion's transaction held the writer, and so
/// every append of every user, for as long as that took (seconds for thousands of copies of a long message). The
/// deletion examines the first ``candidatesPerTransaction`` of its conversation's edit and reaction events since
/// the message was sent (of any message: only the payload tells whose); if more remain, it notes where it stopped in
/// `redactionBacklog` (`Schema.v19`) and the rest is done in the background, a transaction at a time, with other
/// writes between them. A failed transaction (a full disk) is tried again after a pause, up to a minute; a backlog
/// left by a closed or crashed process is taken up when the store opens; ``finish()`` works it off at once (a
/// backup does, so that its copy holds no deleted text).
///
/// Reads never show a deleted message's text meanwhile: ``SQLiteChatStore/events(for:after:limit:)`` and
/// ``SQLiteChatStore/allEvents(after:limit:)`` replace the message of every event by its tombstone when the message
/// is deleted. Only the file lags behind, by moments unless writes fail.
final class EventRedactions: Sendable {
    /// How many candidate events (those of the message's conversation that can hold a message, between its
    /// creation and its deletion) one transaction examines: 64 copies of a message of 64 KiB take about 40 ms in a
    /// debug build.
    static let candidatesPerTransaction = 64

    /// The candidate events of a conversation between two positions, in order, and whether each mentions the
    /// message ID, found through the partial index of `Schema.v17` (its condition is this query's `kind` term, word
    /// for word): marker moves and membership changes, most of a conversation's events, are not read.
    static let candidatesSQL = """
        SELECT position, instr(payload, ?) > 0 FROM event
        WHERE conversationID = ? AND position > ? AND position < ?
            AND kind IN ('messageCreated', 'messageEdited', 'reactionAdded', 'reactionRemoved')
        ORDER BY position
        LIMIT ?
        """

    /// Whether any backlog waits.
    static let anyBacklogSQL = "SELECT EXISTS (SELECT 1 FROM redactionBacklog)"

    /// The pause after the first failed background transaction; it doubles up to ``longestPause``.
    static let firstPause = Duration.seconds(1)
    static let longestPause = Duration.seconds(60)

    private struct State {
        var isRunning = false
        var isClosed = false
        /// Set when a backlog is noted while the background work runs: it must look again when done.
        var hasMore = false
        var task: Task<Void, Never>?
    }

    private let writer: any DatabaseWriter
    /// Whether the database has `redactionBacklog` (`Schema.v19`); without it every copy is rewritten at once.
    let hasBacklog: Bool
    /// Whether the backlog is worked off in the background (tests turn it off to find a backlog left behind).
    private let worksInBackground: Bool
    /// Told of each background commit, so that the log is checkpointed as after other writes.
    private let onCommit: @Sendable () -> Void
    private let state = Mutex(State())

    init(
        writer: any DatabaseWriter, hasBacklog: Bool, worksInBackground: Bool,
        onCommit: @escaping @Sendable () -> Void
    ) {
        self.writer = writer
        self.hasBacklog = hasBacklog
        self.worksInBackground = worksInBackground
        self.onCommit = onCommit
    }

    /// Rewrites the copies of `deleted` in the events between `position` and `deletion` (the deletion's event), inside
    /// the deletion's transaction: the first ``candidatesPerTransaction`` candidates now, the rest noted in the backlog
    /// (all of them now in a database without one). Returns whether a backlog was noted: call ``noteBacklog()`` once
    /// the transaction commits.
    func redact(
        _ deleted: Message, after position: Int64, before deletion: Int64, _ db: Database, _ encoder: JSONEncoder,
        _ decoder: JSONDecoder
    ) throws -> Bool {
        var after = position
        while let next = try Self.redactChunk(of: deleted, after: after, before: deletion, db, encoder, decoder) {
            guard !hasBacklog else {
                try db.cachedStatement(
                    sql: """
                        INSERT OR REPLACE INTO redactionBacklog (messageID, afterPosition, beforePosition)
                        VALUES (?, ?, ?)
                        """
                ).execute(arguments: [deleted.id.rawValue, next, deletion])
                return true
            }
            after = next
        }
        return false
    }

    /// Examines the next ``candidatesPerTransaction`` candidate events after `position` (and before `deletion`) and
    /// writes the tombstone into those holding `deleted`; returns the last position examined when more candidates may
    /// follow, `nil` when none do.
    static func redactChunk(
        of deleted: Message, after position: Int64, before deletion: Int64, _ db: Database, _ encoder: JSONEncoder,
        _ decoder: JSONDecoder
    ) throws -> Int64? {
        let candidates = try Row.fetchAll(
            db.cachedStatement(sql: candidatesSQL),
            arguments: [
                deleted.id.rawValue, deleted.conversationID.rawValue, position, deletion, candidatesPerTransaction,
            ]
        )
        // One payload at a time: each holds a copy of the whole message (up to the longest message's size).
        let readPayload = try db.cachedStatement(sql: "SELECT payload FROM event WHERE position = ?")
        for candidate in candidates where candidate[1] as Bool {
            let position: Int64 = candidate[0]
            guard let payload = try Data.fetchOne(readPayload, arguments: [position]),
                var event = try? decoder.decode(StoredEvent.self, from: payload),
                event.message?.id == deleted.id
            else { continue }
            event.message = deleted
            try db.execute(
                sql: "UPDATE event SET payload = ? WHERE position = ?",
                arguments: [try encoder.encode(event), position]
            )
        }
        guard candidates.count == candidatesPerTransaction, let last = candidates.last else { return nil }
        return last[0] as Int64
    }

    /// Works off one chunk of the first backlog entry in the current write transaction; returns whether any backlog
    /// is left.
    static func workOffChunk(_ db: Database) throws -> Bool {
        guard let entry = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT messageID, afterPosition, beforePosition FROM redactionBacklog LIMIT 1")
        ) else { return false }
        let id = MessageID(rawValue: entry[0])
        let (after, deletion): (Int64, Int64) = (entry[1], entry[2])
        let decoder = Codec.sharedDecoder
        // A message row that is missing or does not decode (a damaged file) or is no longer deleted has nothing left
        // to redact here: its entry goes, so that it holds up no other.
        let deleted: Message?
        do {
            deleted = try Lookups.message(db, id: id, decoder)
        } catch let error as DatabaseError {
            throw error  // The file's trouble (I/O, memory): the transaction is tried again after a pause.
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            deleted = nil
        }
        if let deleted, deleted.isDeleted,
            let next = try redactChunk(of: deleted, after: after, before: deletion, db, Codec.makeEncoder(), decoder)
        {
            try db.cachedStatement(sql: "UPDATE redactionBacklog SET afterPosition = ? WHERE messageID = ?")
                .execute(arguments: [next, id.rawValue])
        } else {
            try db.cachedStatement(sql: "DELETE FROM redactionBacklog WHERE messageID = ?")
                .execute(arguments: [id.rawValue])
        }
        return try Bool.fetchOne(db.cachedStatement(sql: anyBacklogSQL)) ?? false
    }

    /// Whether any backlog waits (for a store opening on a database a process left with one).
    func hasWaitingBacklog() throws -> Bool {
        guard hasBacklog else { return false }
        return try writer.read { db in
            try Bool.fetchOne(db, sql: Self.anyBacklogSQL) ?? false
        }
    }

    /// Works off the whole backlog now, a transaction at a time, beside the background work if it runs.
    func finish() async throws {
        guard hasBacklog else { return }
        while try await writer.write({ db in try Self.workOffChunk(db) }) {
            onCommit()
        }
        onCommit()
    }

    /// Notes that a backlog waits: starts the background work unless it runs already.
    func noteBacklog() {
        guard worksInBackground else { return }
        state.withLock { state in
            guard !state.isClosed else { return }
            guard !state.isRunning else {
                state.hasMore = true
                return
            }
            state.isRunning = true
            state.hasMore = false
            // The task cannot touch `state` before this critical section ends, so it is stored before it can end.
            state.task = Task.detached(priority: .utility) { [self] in await workOffBacklog() }
        }
    }

    /// The background work: one chunk per transaction (appends and other writes take the writer between them) until
    /// no backlog is left and none was noted meanwhile; after a failure (a full disk) it pauses and tries again.
    private func workOffBacklog() async {
        var pause = Self.firstPause
        while !Task.isCancelled {
            let more: Bool
            do {
                more = try await writer.write { db in try Self.workOffChunk(db) }
                onCommit()
                pause = Self.firstPause
            } catch {
                guard (try? await Task.sleep(for: pause)) != nil else { break }
                pause = min(pause * 2, Self.longestPause)
                continue
            }
            if more { continue }
            let again = state.withLock { state in
                guard state.hasMore, !state.isClosed else {
                    state.isRunning = false
                    return false
                }
                state.hasMore = false
                return true
            }
            if !again { return }
        }
        state.withLock { $0.isRunning = false }
    }

    /// Waits until the background work has nothing left, or the task is cancelled (for tests).
    func waitUntilIdle() async {
        while state.withLock({ $0.isRunning }), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Stops background work; a chunk in progress finishes or fails on the closed connection.
    func close() {
        let task = state.withLock { state in
            state.isClosed = true
            return state.task
        }
        task?.cancel()
    }
}
