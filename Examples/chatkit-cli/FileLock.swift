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

import ArgumentParser
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on a lock file, held until ``release()`` (or until the process ends, however it ends: the
/// system drops the lock with the process's descriptors, so a killed process leaves no stale lock behind).
///
/// Other chatkit-cli processes in the same home take the same lock; the lock file itself holds nothing and is never
/// removed (removing it while a process waits on it would let two processes hold "the" lock at once).
final class FileLock {
    private var descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Takes the lock on `path` (created if needed, mode 0600), waiting while another process holds it: a note on
    /// standard error after a second says what the wait is for, and after `patience` it gives up with an error (a
    /// process holding the lock across a server that does not answer, or one stopped with Ctrl-Z). Cancelling the
    /// calling task ends the wait too.
    ///
    /// The wait blocks a thread of its own, not one of the concurrency pool's, which other tasks need meanwhile. A
    /// wait given up leaves that thread blocked; it lets the lock go at once if it gets it later.
    static func acquire(_ path: String, patience: Duration = .seconds(120)) async throws -> FileLock {
        let descriptor = try openLockFile(path)
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return FileLock(descriptor: descriptor) }
        let wait = LockWait()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                wait.start(continuation)
                Thread.detachNewThread {
                    var result: Int32 = 0
                    while flock(descriptor, LOCK_EX) != 0 {
                        guard errno == EINTR else {
                            result = errno
                            break
                        }
                    }
                    // Given up meanwhile: nobody will release it, so it is let go (and the file closed) here.
                    if !wait.end(.finished(result)) { close(descriptor) }
                }
                Task {
                    try await Task.sleep(for: .seconds(1))
                    guard !wait.hasEnded else { return }
                    let note = "Waiting for another chatkit-cli process using \(path)…\n"
                    FileHandle.standardError.write(Data(note.utf8))
                    try await Task.sleep(for: patience - .seconds(1))
                    _ = wait.end(.timedOut)
                }
            }
        } onCancel: {
            _ = wait.end(.cancelled)
        }
        switch outcome {
        case .finished(0):
            return FileLock(descriptor: descriptor)
        case .finished(let failure):
            close(descriptor)
            throw ValidationError("Could not lock \(path): \(String(cString: strerror(failure))).")
        case .timedOut:
            throw ValidationError(
                "Another chatkit-cli process has held \(path) for \(patience.components.seconds) s (a command waiting "
                    + "for a server, or a stopped chat): let it finish, or end it, and try again."
            )
        case .cancelled:
            throw CancellationError()
        }
    }

    /// Takes the lock on `path` if no other process holds it; `nil` if one does.
    static func acquireIfFree(_ path: String) throws -> FileLock? {
        let descriptor = try openLockFile(path)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            if failure == EINTR { continue }
            close(descriptor)
            if failure == EWOULDBLOCK { return nil }
            throw ValidationError("Could not lock \(path): \(String(cString: strerror(failure))).")
        }
        return FileLock(descriptor: descriptor)
    }

    private static func openLockFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ValidationError("Could not open \(path): \(String(cString: strerror(errno))).")
        }
        return descriptor
    }

    /// Lets the next process take the lock.
    func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit {
        release()
    }
}

/// One wait for a lock: ended once, by the thread that got the lock (or failed), by the time limit, or by a
/// cancellation; the first to end it decides.
private final class LockWait: Sendable {
    enum Outcome: Sendable {
        /// `flock` returned: 0 when it locked, else its `errno`.
        case finished(Int32)
        case timedOut
        case cancelled
    }

    private let state = Mutex<(continuation: CheckedContinuation<Outcome, Never>?, outcome: Outcome?)>((nil, nil))

    var hasEnded: Bool { state.withLock { $0.outcome != nil } }

    /// Sets the continuation to resume; at once when the wait ended before (a cancellation).
    func start(_ continuation: CheckedContinuation<Outcome, Never>) {
        let ended = state.withLock { state -> Outcome? in
            if state.outcome == nil { state.continuation = continuation }
            return state.outcome
        }
        if let ended { continuation.resume(returning: ended) }
    }

    /// Ends the wait with `outcome`; `false` when it had ended already.
    func end(_ outcome: Outcome) -> Bool {
        let (ended, continuation) = state.withLock { state -> (Bool, CheckedContinuation<Outcome, Never>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            defer { state.continuation = nil }
            return (true, state.continuation)
        }
        continuation?.resume(returning: outcome)
        return ended
    }
}
