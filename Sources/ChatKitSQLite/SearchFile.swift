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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file of the search index beside a database of `Schema.v20` or later: `<database>-search`.
///
/// SQLite lets one connection at a time write a file. With the index in the database, each catch-up of the index
/// (``SearchIndex``) took the writer from the appends for about 6 µs a message, a quarter of a burst's time; in a
/// file of its own, a connection of its own (the *indexer*) writes it on the other core while the appends go on.
///
/// - The indexer's connection opens the index file and attaches the database as `chat`, only to read it: its
///   transactions are `DEFERRED`, so they take the index file's write lock and never the database's (`IMMEDIATE`
///   would take every attached file's). The store's writer does not attach the index at all, for the same reason.
/// - The store's readers attach the index file as `search`; the index's tables keep their names, and statements
///   name them without a schema, so the search code is the same whichever file holds them.
/// - An in-memory store attaches an in-memory database as `search` to its one connection, which indexes too.
///
/// The index is derived data. It records the database's identity (`searchIdentity`, made by `Schema.v20`), the
/// highest message row it holds and the last change of `searchChange` it applied. When the file is missing, cannot
/// be opened, belongs to another database, is ahead of the database (a database restored from a backup), or is
/// behind changes the database no longer notes (a power loss that kept the removal of applied notes and lost the
/// index's commit, which the indexer's `synchronous = FULL` prevents; files copied at different moments), the index
/// is made again from the messages when the store opens.
enum SearchFile {
    /// The index file of the database at `path`.
    static func path(forDatabase path: String) -> String { path + "-search" }

    /// The attachment name of the index file in the store's readers (and of the in-memory index).
    static let schemaName = "search"
    /// The attachment name of the database in the indexer's connection.
    static let databaseSchemaName = "chat"

    /// Opens the indexer's connection: the index file, created if missing (removed and created again if it cannot
    /// be opened as a database), with the database at `databasePath` attached to read.
    /// The store's settings apply to it too (its `prepareDatabase` steps: the durability, the size limit).
    static func openIndexer(databasePath: String, configuration: GRDB.Configuration) throws -> DatabaseQueue {
        let indexPath = path(forDatabase: databasePath)
        var configuration = configuration
        configuration.label = "ChatKitSQLite.SearchIndexer"
        configuration.prepareDatabase { db in
            try db.execute(sql: "ATTACH DATABASE ? AS \(databaseSchemaName)", arguments: [databasePath])
            // Each catch-up's commit is durable before the changes it applied leave the database (a power loss
            // must not keep the removal and lose the index's commit).
            try db.execute(sql: "PRAGMA main.synchronous = FULL")
            // The index file's log is folded in by the indexer itself, beside the appends, every 1,000 pages
            // (SQLite's default; the store's writer waits until 32,768, see `Checkpointer`).
            try db.execute(sql: "PRAGMA main.wal_autocheckpoint = 1000")
        }
        func open() throws -> DatabaseQueue {
            createWithPermissions(ofFileAt: databasePath, at: indexPath)
            let queue = try DatabaseQueue(path: indexPath, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA main.journal_mode = WAL")
                // Reads the file's header and schema: a file that is not a database fails here, not later.
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM main.sqlite_schema")
            }
            return queue
        }
        do {
            return try open()
        } catch let error as DatabaseError
            where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
        {
            try removeFiles(atDatabasePath: databasePath)
            return try open()
        }
    }

    /// Creates an empty file at `path` with the permissions of the file at `source`, if that exists and `path` does
    /// not: the index holds the messages' words, and SQLite would create it with the process's default mode.
    private static func createWithPermissions(ofFileAt source: String, at path: String) {
        var status = stat()
        guard stat(source, &status) == 0 else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, status.st_mode & 0o777)
        guard descriptor >= 0 else { return }
        _ = fchmod(descriptor, status.st_mode & 0o777)  // the process's umask narrowed the mode `open` gave it
        _ = close(descriptor)
    }

    /// Removes the index file of the database at `path`, and its log.
    static func removeFiles(atDatabasePath path: String) throws {
        let indexPath = self.path(forDatabase: path)
        for file in [indexPath, indexPath + "-wal", indexPath + "-shm"]
        where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.removeItem(atPath: file)
        }
    }

    /// Makes the index's tables in `schema` anew, empty, unless they hold a valid index of the attached database:
    /// one with its identity, no row above its last message row and no change it has not recorded. Returns whether
    /// it made them anew (every message is then to be indexed). Run in a transaction of the indexing connection.
    static func prepare(_ db: Database, schema: String) throws -> Bool {
        // The index file's write lock first, as each catch-up takes it (`SearchIndex.lockIndex(_:)`): the database is
        // then read after any other process's indexer committed.
        if try db.tableExists("searchProgress", in: schema) {
            try db.execute(sql: "UPDATE \(schema).searchProgress SET indexedUpTo = indexedUpTo WHERE id = 1")
        }
        let identity = try String.fetchOne(db, sql: "SELECT identity FROM searchIdentity WHERE id = 1")
        let lastRow = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowNumber), 0) FROM message") ?? 0
        let lastChange = try lastChangeNumber(db)
        if try db.tableExists("searchProgress", in: schema),
            try db.tableExists("messageSearch", in: schema),
            let row = try Row.fetchOne(
                db, sql: "SELECT identity, indexedUpTo, appliedChange FROM \(schema).searchProgress WHERE id = 1"
            ),
            row["identity"] as String? == identity,
            let indexedUpTo = row["indexedUpTo"] as Int64?, indexedUpTo <= lastRow,
            let appliedChange = row["appliedChange"] as Int64?, appliedChange <= lastChange,
            // Every change it has not applied is still noted (the database did not lose them to a prune that
            // outlived the index's commit that applied them: a power loss, or files copied at different moments).
            try Int64.fetchOne(db, sql: "SELECT count(*) FROM searchChange WHERE id > ?", arguments: [appliedChange])
                == lastChange - appliedChange
        {
            try mergeSixteenSegmentsAtATime(db, schema: schema)
            return false
        }
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS \(schema).messageSearch;
                DROP TABLE IF EXISTS \(schema).searchWord;
                DROP TABLE IF EXISTS \(schema).searchWordFolding;
                DROP TABLE IF EXISTS \(schema).searchProgress;
                CREATE VIRTUAL TABLE \(schema).messageSearch USING fts5(
                    body,
                    searchScope,
                    content='',
                    tokenize=\(IndexTokenizer.declaration),
                    prefix='1 2 3 4 5 6'
                );
                CREATE TABLE \(schema).searchWord (word TEXT PRIMARY KEY) WITHOUT ROWID;
                CREATE TABLE \(schema).searchWordFolding (
                    folded TEXT NOT NULL,
                    word TEXT NOT NULL,
                    PRIMARY KEY (folded, word)
                ) WITHOUT ROWID;
                CREATE TABLE \(schema).searchProgress (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    identity TEXT NOT NULL,
                    indexedUpTo INTEGER NOT NULL,
                    appliedChange INTEGER NOT NULL
                );
                """
        )
        try mergeSixteenSegmentsAtATime(db, schema: schema)
        try db.execute(
            sql: """
                INSERT INTO \(schema).searchProgress (id, identity, indexedUpTo, appliedChange) VALUES (1, ?, 0, ?)
                """,
            arguments: [identity ?? "", lastChange]
        )
        return true
    }

    /// Has FTS5 merge 16 segments of a level at a time instead of 4: the indexer keeps up with a burst of appends
    /// (the first search after 50,000 waited 140 ms for it, 50 ms with this). Set on index files made before it was
    /// too, at their next opening (a setting FTS5 keeps in the file; written only when it differs).
    private static func mergeSixteenSegmentsAtATime(_ db: Database, schema: String) throws {
        let current = try Int.fetchOne(
            db, sql: "SELECT v FROM \(schema).messageSearch_config WHERE k = 'automerge'"
        )
        guard current != 16 else { return }
        try db.execute(sql: "INSERT INTO \(schema).messageSearch(messageSearch, rank) VALUES ('automerge', 16)")
    }

    /// The number of the last change `searchChange` ever held (its `AUTOINCREMENT` sequence: pruned changes count).
    static func lastChangeNumber(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'searchChange'), 0),
                    COALESCE((SELECT MAX(id) FROM searchChange), 0))
                """
        ) ?? 0
    }
}
