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

extension SQLiteChatStore {
    /// Copies the whole database to a new file at `path` while the store stays in use.
    ///
    /// It uses SQLite's online backup API from a reader connection: the copy is a consistent snapshot of the
    /// moment the backup started, and appends and other writes continue meanwhile (WAL readers never block the
    /// writer). An existing file at `path` is overwritten.
    ///
    /// To restore, stop every process using the database, copy the backup over the database file, delete the
    /// database's `-wal` and `-shm` files if present, and open the store again:
    ///
    /// ```swift
    /// try await store.backup(to: "/backups/chat-2026-11-29.sqlite")
    /// // later, with the server stopped:
    /// // cp /backups/chat-2026-11-29.sqlite chat.sqlite && rm -f chat.sqlite-wal chat.sqlite-shm
    /// let restored = try SQLiteChatStore(path: "chat.sqlite")
    /// ```
    ///
    /// What was stored after the backup is gone, but clients have seen its stream positions. The restored store
    /// hands out new positions above them (each opening starts counting at its `PositionFloor`, and records the
    /// positions it skips), so a client resuming from a cursor the backup lacks is told to go on from the
    /// backup's last position (``resumePosition(after:)``; the server's `welcome` says `rewoundTo`, and
    /// `ChatClient` yields `.rewound`), and receives every event stored since.
    ///
    /// - Parameter path: Where to write the copy.
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if the copy cannot be written (read-only location,
    ///   full disk).
    public func backup(to path: String) async throws {
        do {
            let destination = try DatabaseQueue(path: path)
            try await longReads.pass {
                try await writer.read { db in
                    try destination.writeWithoutTransaction { destinationDB in
                        try db.backup(to: destinationDB)
                    }
                }
            }
            try destination.close()
        } catch {
            throw ErrorMapping.chatError(error, "backing up to \(path)")
        }
    }

    /// Copies the ChatKit database file at `source` to a new file at `destination` without opening it as a store:
    /// whatever version of ChatKit wrote it, it is copied as it is, neither migrated nor written to.
    ///
    /// Use it for backups taken outside the serving process (the example server's `--backup-to`): a store opened
    /// on the file would first migrate it to this version's schema (under a server of an older version that is
    /// still running on it, or before the upgrade the backup was meant to precede) and refuse a database of a newer
    /// version. Like ``backup(to:)`` it uses SQLite's online backup API, from a read-only connection: the copy is a
    /// consistent snapshot of the moment the backup started, and a server using the database goes on writing. An
    /// existing file at `destination` is overwritten; restore as ``backup(to:)`` describes.
    ///
    /// - Parameters:
    ///   - source: The database file to copy.
    ///   - destination: Where to write the copy; not the database itself.
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if there is no database at `source`, if it is not a
    ///   ChatKit database, or if the copy cannot be written (read-only location, full disk); `.invalidArgument`
    ///   if `destination` names `source` itself.
    public static func backup(databaseAt source: String, to destination: String) async throws {
        let resolved = { (path: String) in
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        guard resolved(source) != resolved(destination) else {
            throw ChatError(.invalidArgument, "The backup's destination is the database itself: give another path.")
        }
        guard FileManager.default.fileExists(atPath: source) else {
            throw ChatError(.storageFailure, "There is no database at \(source) to back up.")
        }
        do {
            var configuration = GRDB.Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            let database = try DatabaseQueue(path: source, configuration: configuration)
            defer { try? database.close() }
            try await database.read { db in
                guard try db.tableExists("grdb_migrations") else {
                    throw ChatError(
                        .storageFailure,
                        "\(source) is an SQLite database but not one of ChatKit's (it has no migrations table); "
                            + "nothing was copied."
                    )
                }
                let copy = try DatabaseQueue(path: destination)
                defer { try? copy.close() }
                try copy.writeWithoutTransaction { copyDB in try db.backup(to: copyDB) }
            }
        } catch {
            throw ErrorMapping.chatError(error, "backing up \(source) to \(destination)")
        }
    }
}
