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
///
/// Closing: ``close()`` may run while a checkpoint task sleeps, waits for the connection, or checkpoints. A
/// checkpoint checks `isClosed` inside its access to the connection, and `close()` sets it before it
/// closes the connection, with an access of its own that GRDB runs after any access already running: so a
/// checkpoint either runs entirely before the connection closes or not at all. (SQLite's checkpoint function
/// does not check for a closed, `NULL`, connection: it would crash.)
final class Checkpointer: Sendable {
    /// How long after a commit the background checkpoint runs, unless the initializer is given another delay.
    static let interval = Duration.milliseconds(100)
    /// The log size (in pages, 128 MiB at SQLite's default 4 KiB) at which the writer checkpoints itself. Under
    /// constant appends the log grows to this size before it restarts; 8,192 pages measured 10–20 % fewer appends
    /// per second, SQLite's default of 1,000 about half.
    static let writerCheckpointPages = 32768

    private struct State {
        /// A checkpoint task sleeps before its checkpoint: a commit now needs no other.
        var isScheduled = false
        /// Set by ``close()`` before it closes the connection; read by checkpoints inside their access.
        var isClosed = false
        /// The checkpoint tasks that have not finished, by number. A task is added in the same critical section
        /// that schedules it and removes itself when done, so ``close()`` sees (and cancels) every one.
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextTaskNumber = 0
    }

    private let connection: DatabaseQueue
    private let delay: Duration
    private let state = Mutex(State())

    init(path: String, configuration: GRDB.Configuration, delay: Duration = Checkpointer.interval) throws {
        var configuration = configuration
        configuration.label = "ChatKitSQLite.Checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.delay = delay
    }

    /// Notes a commit: schedules a checkpoint unless one is on its way.
    func noteCommit() {
        state.withLock { state in
            guard !state.isScheduled, !state.isClosed else { return }
            state.isScheduled = true
            let number = state.nextTaskNumber
            state.nextTaskNumber += 1
            // The task cannot touch `state` before this critical section ends, so it finds itself in `tasks`.
            state.tasks[number] = Task.detached(priority: .utility) { [self] in
                await checkpoint()
                self.state.withLock { _ = $0.tasks.removeValue(forKey: number) }
            }
        }
    }

    /// The body of a checkpoint task: waits ``delay``, then checkpoints unless the connection is closed.
    private func checkpoint() async {
        try? await Task.sleep(for: delay)
        // From here on a commit schedules the next checkpoint.
        state.withLock { $0.isScheduled = false }
        if Task.isCancelled { return }
        // A failure (busy, a full disk) leaves the pages in the log for the next checkpoint.
        _ = try? await connection.writeWithoutTransaction { [self] db in
            // Serialized with `close()`'s access to the connection: read here, it stays valid for the whole access.
            guard !state.withLock({ $0.isClosed }) else { return }
            _ = try db.checkpoint(.passive)
        }
    }

    /// Stops scheduling checkpoints and closes the connection. A checkpoint in progress finishes first; one that
    /// has not begun never runs.
    func close() throws {
        let tasks = state.withLock { state in
            state.isClosed = true
            return Array(state.tasks.values)
        }
        for task in tasks { task.cancel() }
        try connection.close()
    }

    /// Waits until every checkpoint task has finished (tests: after ``close()`` no new one starts).
    func finished() async {
        while let task = state.withLock({ $0.tasks.values.first }) {
            await task.value
        }
    }
}
