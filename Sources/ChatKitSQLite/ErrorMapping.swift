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
import GRDB

/// Maps GRDB and SQLite failures onto ``ChatKitCore/ChatError``.
///
/// A ``ChatKitCore/ChatError`` passes through unchanged. Constraint violations that the store's own checks
/// should have prevented (lost races with another process) become the codes the protocols document: a
/// uniqueness violation is `.conflict`, a foreign key violation `.notFound`. Everything else is
/// `.storageFailure` with a sentence naming the condition and the SQLite error as `underlying`.
enum ErrorMapping {
    /// What a store call throws for `error`: a `CancellationError` as it is (the caller's task was cancelled
    /// before GRDB began; nothing was written, and the store did not fail), anything else as ``chatError(_:_:)``.
    static func thrown(_ error: any Error) -> any Error {
        if error is CancellationError { return error }
        // GRDB interrupts the statement of a read whose task was cancelled: a statement stepped by hand
        // (`RawStatement`) then throws SQLITE_INTERRUPT, which is that cancellation, not a failure of the store.
        if let database = error as? DatabaseError, database.resultCode == .SQLITE_INTERRUPT, Task.isCancelled {
            return CancellationError()
        }
        return chatError(error)
    }

    static func chatError(_ error: any Error, _ context: @autoclosure () -> String = "") -> ChatError {
        if let error = error as? ChatError { return error }
        if error is RowDecodingError {
            // A NULL where the schema allows none, or a value of another type: SQLite checks neither on reads.
            return ChatError(
                .storageFailure,
                "A stored record cannot be read: the database is damaged (check it with PRAGMA integrity_check and "
                    + "restore it from a backup)\(suffix(context())).",
                underlying: error
            )
        }
        guard let error = error as? DatabaseError else {
            return ChatError(.storageFailure, "Unexpected storage error\(suffix(context())).", underlying: error)
        }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY:
            return ChatError(.conflict, "A record with the same key already exists.", underlying: error)
        case .SQLITE_CONSTRAINT_FOREIGNKEY:
            return ChatError(.notFound, "A referenced record does not exist.", underlying: error)
        default:
            break
        }
        let reason: String
        switch error.resultCode {
        case .SQLITE_FULL:
            reason = "The database or disk is full; nothing of the failed operation was stored"
        case .SQLITE_CORRUPT:
            reason = "The database file is corrupt; restore it from a backup"
        case .SQLITE_NOTADB:
            reason = "The file is not an SQLite database (or is encrypted or badly corrupt)"
        case .SQLITE_READONLY:
            reason = "The database is read-only; check the permissions of the file and its directory"
        case .SQLITE_CANTOPEN:
            reason = "The database file cannot be opened; check that its directory exists and is writable"
        case .SQLITE_PERM, .SQLITE_AUTH:
            reason = "Access to the database file was denied"
        case .SQLITE_IOERR:
            reason = "A disk I/O error occurred"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            reason = "The database stayed locked by another connection past the busy timeout"
        case .SQLITE_NOMEM:
            reason = "SQLite ran out of memory"
        default:
            reason = "SQLite error \(error.resultCode.rawValue)"
        }
        return ChatError(.storageFailure, reason + suffix(context()) + ".", underlying: error)
    }

    private static func suffix(_ context: String) -> String {
        context.isEmpty ? "" : " (\(context))"
    }
}
