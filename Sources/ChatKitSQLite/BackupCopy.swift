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

/// Writes a backup file whole or not at all: SQLite's online backup API copies a database into a new file beside
/// the destination, which replaces the destination (an atomic rename) only once the copy is complete and closed.
/// A copy that fails (a full disk, a killed process) leaves the destination as it was, never a partial file in
/// its place.
enum BackupCopy {
    /// Copies the database `db` reads to `destination`. Call it from a read transaction, which is the snapshot
    /// copied.
    ///
    /// A destination that is a symbolic link is followed: its target is replaced. The copy is readable by its owner
    /// only, or keeps the permissions of the file it replaces. The destination's folder must be writable (the copy
    /// is made there); a partial copy left by a process killed during a backup is removed by the next backup into
    /// the same folder (to any name: dated names never come again), once it is an hour old.
    static func write(from db: Database, to destination: String) throws {
        let target = URL(fileURLWithPath: destination).resolvingSymlinksInPath().path
        let folder = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        let prefix = ".\(name)\(partialMark)"
        removeStalePartials(in: folder)
        let partial = (folder.isEmpty ? "" : folder + "/") + prefix + "\(UInt64.random(in: .min ... .max))"
        let mode = ((try? FileManager.default.attributesOfItem(atPath: target))?[.posixPermissions] as? NSNumber)
            .map { mode_t($0.uint16Value) } ?? 0o600
        do {
            // Created here with its permissions: SQLite keeps those of a file that exists.
            let descriptor = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard descriptor >= 0 else {
                throw ChatError(
                    .storageFailure,
                    "The backup could not be created beside \(target): \(String(cString: strerror(errno))). Check that "
                        + "the folder exists and is writable."
                )
            }
            fchmod(descriptor, mode)  // not narrowed by the process's umask
            close(descriptor)
            let copy = try DatabaseQueue(path: partial)
            do {
                try copy.writeWithoutTransaction { copyDB in try db.backup(to: copyDB) }
                try copy.close()
            } catch {
                try? copy.close()
                throw error
            }
            guard rename(partial, target) == 0 else {
                let reason = String(cString: strerror(errno))
                throw ChatError(
                    .storageFailure,
                    "The backup was written but could not be moved to \(target): \(reason). Nothing was replaced."
                )
            }
            // The copy's commit flushed its data; the rename is the folder's, and a power loss before the folder
            // reaches the disk could undo it after this returned.
            let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if folderDescriptor >= 0 {
                _ = fsync(folderDescriptor)
                close(folderDescriptor)
            }
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(partial + suffix) }
            throw error
        }
    }

    /// What a partial copy's name holds between the destination's name and a random number.
    private static let partialMark = ".partial-"

    /// Whether `name` is a partial copy's (`.NAME.partial-DIGITS`, or one of SQLite's files beside it).
    static func isPartialCopy(_ name: String) -> Bool {
        guard name.hasPrefix("."), let mark = name.range(of: partialMark, options: .backwards) else { return false }
        var number = name[mark.upperBound...]
        for suffix in ["-wal", "-shm", "-journal"] where number.hasSuffix(suffix) {
            number = number.dropLast(suffix.count)
        }
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Removes partial copies in `folder` that are more than an hour old (left by killed backups; a backup
    /// running now writes its own, newer one).
    private static func removeStalePartials(in folder: String) {
        let files = FileManager.default
        let directory = folder.isEmpty ? "." : folder
        guard let names = try? files.contentsOfDirectory(atPath: directory) else { return }
        let hourAgo = Date().addingTimeInterval(-3600)
        for name in names where isPartialCopy(name) {
            let path = directory + "/" + name
            if let modified = (try? files.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                modified < hourAgo
            {
                unlink(path)
            }
        }
    }

    /// Refuses a destination that is the database itself, by path or (when it exists) as the same file under
    /// another name (a symbolic or hard link): the copy would replace the live database with a snapshot of it; and
    /// one that is SQLite's log, shared memory or journal file of the database.
    static func checkDestination(_ destination: String, isNot database: String) throws {
        let resolved = { (path: String) in
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        let files = FileManager.default
        let sameFile: Bool
        if resolved(database) == resolved(destination) {
            sameFile = true
        } else if let copy = try? files.attributesOfItem(atPath: destination),
            let original = try? files.attributesOfItem(atPath: database)
        {
            sameFile =
                (copy[.systemNumber] as? NSNumber) == (original[.systemNumber] as? NSNumber)
                && (copy[.systemFileNumber] as? NSNumber) == (original[.systemFileNumber] as? NSNumber)
        } else {
            sameFile = false
        }
        guard !sameFile else {
            throw ChatError(.invalidArgument, "The backup's destination is the database itself: give another path.")
        }
        // SQLite's own files beside the database: replacing the log could lose its newest commits.
        // The last three are the search index's (`SearchFile`).
        let ownFiles = ["-wal", "-shm", "-journal", "-search", "-search-wal", "-search-shm"]
        for suffix in ownFiles where resolved(destination) == resolved(database) + suffix {
            throw ChatError(
                .invalidArgument, "The backup's destination is the database's \(suffix) file: give another path."
            )
        }
    }
}
