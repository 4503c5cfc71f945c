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
    static func write(from db: Database, to destination: String) throws {
        let folder = (destination as NSString).deletingLastPathComponent
        let name = (destination as NSString).lastPathComponent
        let partial = (folder.isEmpty ? "" : folder + "/") + ".\(name).partial-\(UInt64.random(in: .min ... .max))"
        do {
            let copy = try DatabaseQueue(path: partial)
            do {
                try copy.writeWithoutTransaction { copyDB in try db.backup(to: copyDB) }
                try copy.close()
            } catch {
                try? copy.close()
                throw error
            }
            guard rename(partial, destination) == 0 else {
                let reason = String(cString: strerror(errno))
                throw ChatError(
                    .storageFailure,
                    "The backup was written but could not be moved to \(destination): \(reason). Nothing was replaced."
                )
            }
        } catch {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(partial + suffix) }
            throw error
        }
    }

    /// Refuses a destination that is the database itself, by path or (when it exists) as the same file under
    /// another name (a symbolic or hard link): the copy would replace the live database with a snapshot of it.
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
    }
}
