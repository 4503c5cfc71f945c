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


import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

extension DatabaseReader {
    /// Runs `body` in a read transaction on a reader connection, on a Dispatch thread, and hands the connection back
    /// to the pool before the calling task resumes, whether or not that task can run then.
    ///
    /// GRDB's `async` read returns its connection only once the awaiting task runs again: on Swift's cooperative
    /// pool (two threads on a two-core machine), or on the task's preferred executor. A thread that blocks there
    /// on the pool (``SQLiteChatStore/close()`` waits for every connection to be returned, and a read that starts
    /// meanwhile waits for the close) could then keep that connection from ever coming back, and the two would
    /// wait for each other for good. Here the connection goes back as soon as `body` has run, whatever the
    /// calling task's threads are doing.
    ///
    /// The read is GRDB's synchronous one, which hands the connection back and drops every reference to it before it
    /// returns. With GRDB's `asyncRead`, the continuation resumed inside its block, and the block still referenced the
    /// connection after handing it back: the pool's `releaseMemory()` could not close that reader, which closed when
    /// the block was freed, possibly after ``SQLiteChatStore/close()`` had closed the writer; a read-only connection
    /// closing last leaves the write-ahead log beside the database (about one close in a hundred).
    ///
    /// Cancelling the task interrupts the statement `body` is stepping (`sqlite3_interrupt`), which then throws
    /// `SQLITE_INTERRUPT` (``ErrorMapping/thrown(_:)`` makes that a `CancellationError`); a task cancelled before
    /// `body` begins gets a `CancellationError` without running it.
    func readReleasingOnQueue<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        // Cancelled already: no thread, connection or transaction taken for nothing.
        try Task.checkCancellation()
        let cancellation = ReadInterruption()
        let queue = DispatchQueue.global(qos: configuration.readQoS.qosClass)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                queue.async {
                    let result = Result {
                        try self.read { db in try cancellation.whileRunning(db) { try body(db) } }
                    }
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// Interrupts a read's statements when its task is cancelled, but only while the read holds its connection.
private final class ReadInterruption: Sendable {
    private struct State: ~Copyable {
        var isCancelled = false
        /// The connection's address while the read runs on it (a plain number, which can cross threads); `nil`
        /// before and after.
        var connection: Int?
    }

    private let state = Mutex(State())

    /// Runs `body` on `db`, unless the task was cancelled already.
    func whileRunning<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try state.withLock { state in
            if state.isCancelled { throw CancellationError() }
            state.connection = db.sqliteConnection.map { Int(bitPattern: $0) }
        }
        // Cleared under the lock before the connection goes back to the pool: no interrupt reaches its next user.
        defer { state.withLock { $0.connection = nil } }
        return try body()
    }

    /// Marks the read cancelled and interrupts it if it is running.
    func cancel() {
        state.withLock { state in
            state.isCancelled = true
            if let connection = state.connection { sqlite3_interrupt(OpaquePointer(bitPattern: connection)) }
        }
    }
}
