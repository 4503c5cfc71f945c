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

import Foundation
import GRDB
import GRDBSQLite

/// A prepared statement of a hot path (appends, reading events back for routing and sync, the bodies a search
/// reads), bound, stepped and read through SQLite's C interface.
///
/// GRDB's convenience costs about 20,000 instructions per statement execution on the append path (boxing each
/// argument as a `DatabaseValue`, a cursor object per query, checks), several times what SQLite spends on a
/// small insert; an append runs four statements. Reading a row through GRDB's `Row` costs as much again (a row
/// object with a lowercased column-name table per row, and a generic decode per value). The statement itself is
/// one of GRDB's cached statements of the connection, so GRDB still owns it and finalizes it when the connection
/// closes. Use it only inside one
/// database access (GRDB's queue serializes those, so only one thread uses the connection and its statements),
/// and reset it (``step()`` leaves a finished statement reset) before the access ends.
///
/// It keeps GRDB's `Statement` object, not only its handle: the handle is finalized when that object is
/// released, and GRDB releases cached statements whenever it empties its statement cache (a schema change
/// through GRDB, `Database.clearSchemaCache()`, `releaseMemory()`, a failed GRDB statement of the same SQL). Held
/// here, the handle stays valid until this value is gone, whatever the cache does meanwhile.
struct RawStatement {
    /// Owns `handle`.
    private let statement: Statement
    let handle: OpaquePointer
    let connection: OpaquePointer

    init(_ db: Database, _ sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        // Not nil: preparing the statement just succeeded on it.
        connection = db.sqliteConnection!
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the value before the bind returns.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// Binds the whole string, by its UTF-8 length: a length of -1 would end it at its first U+0000, so that an ID
    /// such as "C\0x" would name conversation "C".
    func bind(_ index: Int32, _ value: String) {
        guard !value.isEmpty else {
            // An empty buffer may have no address, which SQLite would bind as NULL.
            sqlite3_bind_text(handle, index, "", 0, Self.transient)
            return
        }
        var value = value
        _ = value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { text in
                sqlite3_bind_text(handle, index, text.baseAddress, Int32(text.count), Self.transient)
            }
        }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Steps the statement: `true` with a row to read, `false` when done (the statement is then reset, its
    /// bindings kept). Errors are GRDB's `DatabaseError`, as from any other statement.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW:
            return true
        case SQLITE_DONE:
            sqlite3_reset(handle)
            return false
        default:
            let code = sqlite3_extended_errcode(connection)
            let message = String(cString: sqlite3_errmsg(connection))
            let sql = sqlite3_sql(handle).map { String(cString: $0) }
            sqlite3_reset(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    /// Runs a statement that returns no rows.
    func execute() throws {
        while try step() {}
    }

    /// The first column of the first row, `nil` if there is no row or the value is `NULL`; the statement is reset.
    func firstInt64() throws -> Int64? {
        guard try step() else { return nil }
        defer { reset() }
        return optionalInt64(0)
    }

    /// Ends reading rows early.
    func reset() {
        sqlite3_reset(handle)
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    func optionalInt64(_ column: Int32) -> Int64? {
        isNull(column) ? nil : int64(column)
    }

    /// A text column as a string (the empty string for `NULL`); text with invalid UTF-8 is repaired, as
    /// `String(decoding:as:)` does.
    func string(_ column: Int32) -> String {
        // `sqlite3_column_text` first: it may convert the value, and `sqlite3_column_bytes` then counts the text.
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Calls `body` with a text column's UTF-8 bytes (empty for `NULL`), valid only during the call: no string is
    /// made.
    func withUTF8<T>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        guard let text = sqlite3_column_text(handle, column) else {
            return try body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column))))
    }

    func optionalString(_ column: Int32) -> String? {
        isNull(column) ? nil : string(column)
    }

    /// A blob column's bytes (empty for `NULL`).
    func data(_ column: Int32) -> Data {
        guard let bytes = sqlite3_column_blob(handle, column) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, column)))
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    var lastInsertedRowID: Int64 {
        sqlite3_last_insert_rowid(connection)
    }

    /// Runs `body` in an immediate transaction, with `BEGIN` and `COMMIT` as cached statements (GRDB's
    /// `inTransaction` prepares both anew each time). Rolls back if `body` or the commit throws.
    static func transaction<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try RawStatement(db, "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            let result = try body()
            try RawStatement(db, "COMMIT TRANSACTION").execute()
            return result
        } catch {
            if sqlite3_get_autocommit(db.sqliteConnection) == 0 {
                try? db.execute(sql: "ROLLBACK TRANSACTION")
            }
            throw error
        }
    }
}
