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
}
