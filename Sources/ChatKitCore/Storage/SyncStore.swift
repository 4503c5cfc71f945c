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

/// Serves each user's stream of stored events, for catching up after being offline. Part of ``ChatStore``.
public protocol SyncStore: Sendable {
    /// The events `user` may see with a position after `cursor`, oldest first, at most `limit`.
    ///
    /// `user` sees an event of a conversation if they were a member when it was stored (their own
    /// ``EventKind/memberRemoved`` included), and an event with an ``StoredEvent/audience`` (outside conversations,
    /// or a marker move seen by its user alone) if they are in it, once. Events are as they were stored (a later
    /// edit is its own event), with one exception: a message deleted since comes back as its tombstone in every
    /// event that carries it, so deleted content is gone everywhere.
    /// Paging with the returned ``SyncPage/cursor`` returns every visible event exactly once, in order.
    ///
    /// - Parameters:
    ///   - user: Whose stream to read.
    ///   - cursor: The position of the last event already processed; ``StreamPosition/start`` for everything.
    ///   - limit: At most this many events; `0` returns an empty page.
    /// - Throws: ``ChatError`` `.invalidArgument` for a negative limit.
    func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage

    /// Every stored event after `cursor`, whoever may see it, oldest first: `limit` of them when at least that many
    /// follow `cursor` (the engine reads on only after a full page), fewer only at the end.
    ///
    /// For trusted server code only (the engine routes live events with it): there is no visibility filter.
    /// Deleted messages are redacted as in ``events(for:after:limit:)``. Positions are handed out in commit
    /// order, so reading on from the last position returned never skips an event.
    ///
    /// - Throws: ``ChatError`` `.invalidArgument` for a negative limit.
    func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent]

    /// The position of the newest stored event, ``StreamPosition/start`` while there is none. A client that
    /// loads current state directly may start syncing from here.
    func latestPosition() async throws -> StreamPosition

    /// Where a client whose cursor is `cursor` resumes: `cursor` itself, or, when the store no longer holds events
    /// it handed out up to `cursor` (a database restored from a backup, or one that lost its newest commits), the
    /// last position it holds before them. The client then loads again what it shows.
    ///
    /// A default implementation answers `min(cursor, latestPosition())`: it sees a cursor past every stored
    /// event, not one that later events have passed. A store that can tell should: `SQLiteChatStore` records the
    /// positions each opening skips.
    func resumePosition(after cursor: StreamPosition) async throws -> StreamPosition
}

extension SyncStore {
    /// `min(cursor, latestPosition())`.
    public func resumePosition(after cursor: StreamPosition) async throws -> StreamPosition {
        min(cursor, try await latestPosition())
    }
}
