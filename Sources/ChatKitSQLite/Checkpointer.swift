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

/// Copies the write-ahead log into the database file in the background, so that commits do not wait for it.
///
/// SQLite checkpoints on the committing connection by default, once the log reaches 1,000 pages: the commit
/// that crosses the mark copies the log into the database file and, at every `synchronous` level but `OFF`,
/// syncs both files first, which on a virtual disk takes tens of milliseconds while every append waits. Here a
/// connection of its own runs a `PASSIVE` checkpoint ``interval`` after a commit finds none scheduled; it runs
/// alongside the writer and the readers and blocks neither. The writer keeps an automatic checkpoint at
/// ``writerCheckpointPages`` as a backstop: the log restarts from its beginning only when a write begins with
/// it wholly copied, which under constant writes happens when the writer checkpoints itself, and then it only
/// has the pages written since the last background checkpoint left to copy.
///
/// Durability does not change: an acknowledged commit is in the log (synced at commit with `synchronous =
/// FULL`), and a checkpoint syncs the log before it copies anything, whichever connection runs it.
final class Checkpointer: Sendable {
    /// How long after a commit the background checkpoint runs.
    static let interval = Duration.milliseconds(100)
    /// The log size (in pages, 128 MiB at SQLite's default 4 KiB) at which the writer checkpoints itself. Under
    /// constant appends the log grows to this size before it restarts; 8,192 pages measured 10–20 % fewer appends
    /// per second, SQLite's default of 1,000 about half.
    static let writerCheckpointPages = 32768

    private struct State {
        var isScheduled = false
        var isClosed = false
        var task: Task<Void, Never>?
    }

    private let connection: DatabaseQueue
    private let state = Mutex(State())

    init(path: String, configuration: GRDB.Configuration) throws {
        var configuration = configuration
        configuration.label = "ChatKitSQLite.Checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Notes a commit: schedules a checkpoint unless one is on its way.
    func noteCommit() {
        let schedule = state.withLock { state in
            guard !state.isScheduled, !state.isClosed else { return false }
            state.isScheduled = true
            return true
        }
        guard schedule else { return }
        let connection = self.connection
        let task = Task.detached(priority: .utility) { [self] in
            try? await Task.sleep(for: Self.interval)
            state.withLock { $0.isScheduled = false }
            if Task.isCancelled { return }
            // A failure (busy, a full disk) leaves the pages in the log for the next checkpoint.
            _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
        state.withLock { state in
            if state.isScheduled { state.task = task }
        }
    }

    /// Stops scheduling checkpoints and closes the connection.
    func close() throws {
        let task = state.withLock { state in
            state.isClosed = true
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        try connection.close()
    }
}
