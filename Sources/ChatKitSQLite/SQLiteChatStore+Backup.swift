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
    /// Copies the whole database to a new file at `path` while the store stays in use (not its search index's file,
    /// which a store opened on the copy makes from the messages).
    ///
    /// It uses SQLite's online backup API from a reader connection: the copy is a consistent snapshot of the
    /// moment the backup started, and appends and other writes continue meanwhile (WAL readers never block the
    /// writer). The copy is written beside `path` and renamed into place once complete: an existing file at `path`
    /// is replaced only by a whole copy, and a backup that fails leaves it as it was.
    ///
    /// To restore, stop every process using the database (and keep them stopped), delete the database's `-wal` and
    /// `-shm` files if present (a log left by an unclean stop belongs to the old file), copy the backup beside the
    /// database file and rename it over it, and open the store again:
    ///
    /// ```swift
    /// try await store.backup(to: "/backups/chat-2026-11-29.sqlite")
    /// // later, with the server stopped:
    /// // rm -f chat.sqlite-wal chat.sqlite-shm
    /// // cp /backups/chat-2026-11-29.sqlite chat.sqlite.restoring && mv chat.sqlite.restoring chat.sqlite
    /// let restored = try SQLiteChatStore(path: "chat.sqlite")
    /// ```
    ///
    /// What was stored after the backup is gone, but clients have seen its stream positions. The restored store
    /// hands out new positions above them (each opening starts counting at its `PositionFloor`, and records the
    /// positions it skips), so a client resuming from a cursor the backup lacks is told to go on from the
    /// backup's last position (``resumePosition(after:)``; the server's `welcome` says `rewoundTo`, and
    /// `ChatClient` yields `.rewound`), and receives every event stored since.
    ///
    /// The copies of deleted messages that the store had yet to rewrite in stored events (see ``SQLiteChatStore``'s
    /// deletion) are rewritten before the copy starts, and the search index applies the deletions it has noted and
    /// not applied (their notes hold the deleted texts), so that the backup holds no deleted text (unless writing
    /// fails: the copy is taken all the same). The copy has no search index: a store opened on it makes its index
    /// file from the messages (`PATH-search`, about 10 seconds a million messages, in the background).
    ///
    /// - Parameter path: Where to write the copy; not the database itself.
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if the copy cannot be written (read-only location,
    ///   full disk); `.invalidArgument` if `path` names the store's own file.
    public func backup(to path: String) async throws {
        if let database = configuration.location.path { try BackupCopy.checkDestination(path, isNot: database) }
        do {
            // Best effort: a backup to another disk must not fail because this one is full.
            try? await redactions.finish()
            // The search index's notes of deleted texts too (`searchChange`): applied, then removed.
            try? await searchIndex.catchUp()
            try await longReads.pass {
                try await writer.readReleasingOnQueue { db in try BackupCopy.write(from: db, to: path) }
            }
        } catch {
            if ErrorMapping.thrown(error) is CancellationError { throw CancellationError() }
            throw ErrorMapping.chatError(error, "writing the backup at \(path)")
        }
    }

    /// Copies the ChatKit database file at `source` to a new file at `destination` without opening it as a store:
    /// whatever version of ChatKit wrote it, it is copied as it is and never migrated.
    ///
    /// Use it for backups taken outside the serving process (the example server's `--backup-to`): a store opened
    /// on the file would first migrate it to this version's schema (under a server of an older version that is
    /// still running on it, or before the upgrade the backup was meant to precede) and refuse a database of a newer
    /// version. Like ``backup(to:)`` it uses SQLite's online backup API, here from a read-only connection (the
    /// database is not written to; SQLite may create its `-wal` and `-shm` files beside it when no process has it
    /// open): the copy is a consistent snapshot of the moment the backup started, a server using the database goes
    /// on writing, and the copy replaces an existing file at `destination` only once it is complete. Restore as
    /// ``backup(to:)`` describes.
    ///
    /// - Parameters:
    ///   - source: The database file to copy.
    ///   - destination: Where to write the copy; not the database itself.
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if there is no database at `source`, if it cannot be
    ///   read or is not a ChatKit database, or if the copy cannot be written (read-only location, full disk);
    ///   `.invalidArgument` if `destination` is `source` itself (also through a link).
    public static func backup(databaseAt source: String, to destination: String) async throws {
        try BackupCopy.checkDestination(destination, isNot: source)
        guard FileManager.default.fileExists(atPath: source) else {
            throw ChatError(.storageFailure, "There is no database at \(source) to back up.")
        }
        let database: DatabaseQueue
        do {
            var configuration = GRDB.Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: source, configuration: configuration)
            try await database.read { db in
                // Reading the schema is where a file that is not a database fails.
                guard try db.tableExists("grdb_migrations"),
                    try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?", arguments: [Schema.v1]
                    ) == true
                else {
                    throw ChatError(
                        .storageFailure,
                        "\(source) is an SQLite database but not one of ChatKit's (it has no ChatKit migrations); "
                            + "nothing was copied."
                    )
                }
            }
        } catch {
            throw ErrorMapping.chatError(error, "reading the database at \(source)")
        }
        defer { try? database.close() }
        do {
            try await database.read { db in try BackupCopy.write(from: db, to: destination) }
        } catch {
            throw ErrorMapping.chatError(error, "writing the backup at \(destination)")
        }
    }
}
