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
import Foundation
import GRDB
import Synchronization
import Testing

@testable import ChatKitSQLite

/// Long reads (searches, lists, backups) and what closing the store or cancelling the reading task does to them.
@Suite("Long reads, closing and cancelling")
struct LongReadTests {
    /// GRDB's pool waits, when closing, for every reader connection to come back. GRDB's `async` read returns its
    /// connection only when the awaiting task runs again; a close blocking a thread of the cooperative pool (which
    /// has two on this machine) while a read started meanwhile blocks the other could then never end. Here the
    /// task's executor is held still instead: the close must end all the same.
    @Test("a long read hands its connection back before its task resumes, so close() does not wait for the task")
    func closeDoesNotWaitForTheReadingTask() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            let executor = SuspendableExecutor()
            let bodyStarted = Flag()
            let bodyMayEnd = DispatchSemaphore(value: 0)
            let read = Task {
                try await withTaskExecutorPreference(executor) {
                    try await store.readInBackground { db in
                        bodyStarted.set()
                        bodyMayEnd.wait()
                        return try Int.fetchOne(db, sql: "SELECT 42")
                    }
                }
            }
            try await waitUntil { bodyStarted.isSet }
            executor.suspend()
            bodyMayEnd.signal()
            let closed = Flag()
            Thread {
                try? store.close()
                closed.set()
            }.start()
            let closedWhileTaskHeld = (try? await waitUntil(timeout: .seconds(10)) { closed.isSet }) != nil
            executor.resume()
            #expect(closedWhileTaskHeld, "close() waited for the task whose read had ended")
            try await waitUntil { closed.isSet }
            #expect(try await read.value == 42)
        }
    }

    @Test("cancelling the task of a long read interrupts its statement: the read ends with CancellationError")
    func cancellingInterrupts() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            defer { try? store.close() }
            let stepping = Flag()
            let read = Task {
                try await store.readInBackground { db in
                    // Called for each row, so set while the statement runs: the interrupt cannot fall between
                    // statements. Without an interrupt the count takes tens of seconds.
                    db.add(function: DatabaseFunction("stepping", argumentCount: 1, pure: false) { values in
                        stepping.set()
                        return values[0]
                    })
                    return try Int.fetchOne(
                        db,
                        sql: """
                            WITH RECURSIVE n(x) AS (
                                SELECT 1 UNION ALL SELECT stepping(x) + 1 FROM n WHERE x < 10000000
                            )
                            SELECT COUNT(*) FROM n
                            """
                    )
                }
            }
            try await waitUntil { stepping.isSet }
            read.cancel()
            let result = await outcome { try await read.value }
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }

    @Test("a task cancelled before its long read begins gets CancellationError and reads nothing")
    func cancelledBeforeTheRead() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteChatStore(path: directory.appendingPathComponent("chat.sqlite").path)
            defer { try? store.close() }
            let ran = Flag()
            let read = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await store.readInBackground { _ in ran.set() }
            }
            let result = await outcome { try await read.value }
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(!ran.isSet)
        }
    }
}

/// A flag set on one thread and read on another.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// A task executor whose jobs wait while it is suspended: a task that prefers it does not run meanwhile.
private final class SuspendableExecutor: TaskExecutor {
    private let queue = DispatchQueue(label: "SuspendableExecutor")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    func suspend() { queue.suspend() }
    func resume() { queue.resume() }
}
