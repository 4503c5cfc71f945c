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

public import ChatKitCore
public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Replaces a file's contents so that a crash, a kill or a power loss leaves the old contents or the new ones:
/// written to a temporary file beside it, flushed to the disk, renamed over it, and the directory flushed so
/// that the rename is on the disk too (Foundation's atomic write flushes neither the directory nor, on Apple
/// platforms, the drive's cache).
///
/// ``FileOutboxStorage`` saves the outbox with it; an app can save its own small files the same way (a login's
/// tokens, for instance: the file is readable by its owner only from the moment it is created).
public enum DurableFileReplacement {
    /// What the temporary files' names add to the file's name; ``removeLeftovers(of:)`` removes the ones a kill
    /// left behind.
    static let temporaryInfix = ".saving-"

    /// Replaces `url`'s contents with `data`; the file is readable and writable by its owner only.
    ///
    /// The file is a new one in the old one's place: hard links, a symbolic link at `url`, its owner, ACLs and
    /// extended attributes are not kept, and its mode is always 0600. The folder must exist and be writable. It
    /// blocks until the disk has the data (tens of milliseconds on some devices): keep it off the main actor.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` saying which step failed and why.
    public static func replace(_ url: URL, with data: Data) throws(ChatError) {
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(
            url.lastPathComponent + temporaryInfix + UUID().uuidString.prefix(8)
        ).path
        let file = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw failure("create \(temporary)") }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        let written = Result { () throws(ChatError) in
            try write(data, to: file, temporary)
            try flush(file, temporary)
        }
        let closed = close(file) == 0
        try written.get()
        guard closed else { throw failure("close \(temporary)") }
        guard rename(temporary, url.path) == 0 else { throw failure("rename \(temporary) to \(url.path)") }
        renamed = true
        // The rename is an entry of the directory: it is on the disk once the directory is. Best effort: the new
        // contents are in place whatever happens here, and some file systems (network, FUSE) refuse to flush a
        // directory, where a failure reported for every save would never clear.
        let folder = open(directory.path, O_RDONLY | O_CLOEXEC)
        guard folder >= 0 else { return }
        _ = fsync(folder)
        close(folder)
    }

    /// Removes the temporary files of saves of `url` that did not finish (the process was killed during one).
    /// Call it when no save of `url` runs.
    public static func removeLeftovers(of url: URL) {
        let directory = url.deletingLastPathComponent()
        let prefix = url.lastPathComponent + temporaryInfix
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    private static func write(_ data: Data, to file: Int32, _ path: String) throws(ChatError) {
        let failed = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let count = Foundation.write(file, base + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += count
            }
            return false
        }
        if failed { throw failure("write \(path)") }
    }

    private static func flush(_ file: Int32, _ path: String) throws(ChatError) {
        #if canImport(Darwin)
        // `fsync` leaves the data in the drive's cache on Apple platforms.
        if fcntl(file, F_FULLFSYNC) == 0 { return }
        #endif
        guard fsync(file) == 0 else { throw failure("flush \(path)") }
    }

    /// The failure of `step`, with the system's reason (`errno`).
    private static func failure(_ step: String) -> ChatError {
        ChatError(.storageFailure, "Could not \(step): \(String(cString: strerror(errno))).")
    }
}
