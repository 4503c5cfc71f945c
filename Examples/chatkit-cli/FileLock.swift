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

    /// Takes the lock on `path` (created if needed, mode 0600), waiting while another process holds it.
    ///
    /// The wait blocks a thread of its own, not one of the concurrency pool's, which other tasks need meanwhile.
    static func acquire(_ path: String) async throws -> FileLock {
        let descriptor = try openLockFile(path)
        let failure: Int32 = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                while flock(descriptor, LOCK_EX) != 0 {
                    guard errno == EINTR else {
                        continuation.resume(returning: errno)
                        return
                    }
                }
                continuation.resume(returning: 0)
            }
        }
        guard failure == 0 else {
            close(descriptor)
            throw ValidationError("Could not lock \(path): \(String(cString: strerror(failure))).")
        }
        return FileLock(descriptor: descriptor)
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
