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
import Foundation
import GRDB
import Synchronization

/// A durable ``ChatKitCore/ChatStore`` in one SQLite file (its search index in a second one beside it, made from the
/// messages): the embedded default of ChatKit.
///
/// - **WAL and a reader pool.** A file database runs in write-ahead-log mode: reads (history, sync, search) run
///   concurrently on ``Configuration/readerCount`` connections and never wait for the writer.
/// - **Group commit.** Concurrent ``append(_:)`` calls are committed together in one transaction; each caller
///   still returns only after its own message is committed, with its own result or error. Seqs stay gapless.
/// - **Durability** is chosen with ``Configuration/synchronous``; the default, ``Synchronous/normal``, survives a
///   crash or `kill -9` of the process.
/// - **Search** uses an FTS5 index (unicode61 tokenizer, diacritics removed), ranked by bm25, in a file of its own
///   (`PATH-search`, ``SearchFile``) written by a connection of its own. New messages, edits and deletions reach it
///   in batches beside the appends; a search sees every change made before it began.
/// - **Migrations.** Opening a database written by an older ChatKit migrates it; a database written by a newer
///   one is refused with ``ChatKitCore/ChatError/Code/storageFailure``.
/// - **Backup.** ``backup(to:)`` copies the live database while writes continue.
/// - **Deletion.** A deleted message's text leaves its row, the search index (at its next batch, before any search)
///   and the stored events that held a copy
///   of it (its edits and reactions). The deletion's transaction looks at up to 64 of its conversation's edit and
///   reaction events since the message was sent (any message's); if more followed, the rest are looked at in the
///   background, a transaction at a time, and after a restart if the process stops first. Reads show the tombstone
///   in every event meanwhile.
///
/// ```swift
/// let store = try SQLiteChatStore(configuration: .init(path: "chat.sqlite"))
/// let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
/// ```
///
/// Every failure is a ``ChatKitCore/ChatError``: the codes the protocols document, or `.storageFailure` with a
/// readable reason and the SQLite error as ``ChatKitCore/ChatError/underlying`` (a corrupt file, a file that is
/// not a database, a read-only location, a full disk). The exception is cancellation: a call whose task is
/// cancelled throws `CancellationError`, having changed nothing (GRDB rolls its transaction back), except a
/// reused refresh token's revocation, which commits all the same.
public final class SQLiteChatStore: ChatStore {
    let configuration: Configuration
    let writer: any DatabaseWriter
    let appends: GroupCommit<NewMessage, Message>
    let messageIDs = MessageIDGenerator()
    let searchIndex: SearchIndex
    /// The connection that writes the search index in its own file (``SearchFile``; file databases of
    /// `Schema.v20` or later).
    let searchIndexer: DatabaseQueue?
    /// The connection that writes the search index: the indexer's, or the store's writer (in-memory stores, and
    /// databases before `Schema.v20`).
    var searchIndexWriter: any DatabaseWriter { searchIndexer ?? writer }
    /// Rewrites deleted messages' copies in events beyond what a deletion's transaction does.
    let redactions: EventRedactions
    /// Each message row's conversation, for searches that walk the index (``RowConversations``).
    let rowConversations: RowConversations
    /// Background checkpoints of the write-ahead log (file databases only).
    let checkpointer: Checkpointer?
    /// Bounds the long reads that hold a reader connection at once (see ``readInBackground(_:)``).
    let longReads: ReadGate
    /// Whether short reads run on the caller's thread (see ``read(_:)``).
    let readsOnCaller: Bool
    /// Counters that tests observe.
    let statistics = Statistics()
    /// The lowest position this store hands out (see ``PositionFloor``).
    let positionFloor: Int64
    /// Where the positions an opening skips are recorded (`Schema.v7`), if the schema has it.
    let recordsStreamGaps: Bool
    /// Whether sessions keep when their refresh token was last rotated (`Schema.v13`).
    let keepsRefreshTimes: Bool
    /// Whether sessions keep the credentials version they were opened with (`Schema.v15`).
    let keepsCredentialsVersions: Bool
    /// Whether conversations keep their creation keys (`Schema.v16`).
    let keepsCreationKeys: Bool
    /// A conversation's member count in SQL, for a conversation aliased `c`: the count it keeps (`Schema.v9`), or,
    /// in a database migrated only so far, its members counted.
    let memberCountOfC: String

    /// Counters that tests observe.
    final class Statistics: Sendable {
        /// How many group-commit transactions ran.
        let appendCommits = Atomic<Int>(0)
        /// How many messages those transactions carried.
        let appendedMessages = Atomic<Int>(0)
    }

    /// Opens (creating if needed) and migrates the database the configuration names.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if the file cannot be opened or created (read-only
    ///   location, missing directory), is not an SQLite database, is another application's SQLite database (it
    ///   has tables, none of them ChatKit's; they are left as they were), is corrupt, or was written by a newer
    ///   version of ChatKit.
    public convenience init(configuration: Configuration) throws {
        try self.init(configuration: configuration, migratingUpTo: nil)
    }

    /// Opens the database and migrates it up to the named migration (`nil`: all of them). Tests use a partial
    /// migration to write databases as an older version did, and `redactsInBackground: false` to leave a deletion's
    /// redaction backlog for the next opening.
    init(
        configuration: Configuration, migratingUpTo lastMigration: String?, redactsInBackground: Bool = true
    ) throws {
        self.configuration = configuration
        positionFloor = PositionFloor.at(configuration.now())
        recordsStreamGaps = Schema.includes(Schema.v7, upTo: lastMigration)
        keepsRefreshTimes = Schema.includes(Schema.v13, upTo: lastMigration)
        keepsCredentialsVersions = Schema.includes(Schema.v15, upTo: lastMigration)
        keepsCreationKeys = Schema.includes(Schema.v16, upTo: lastMigration)
        memberCountOfC =
            Schema.includes(Schema.v9, upTo: lastMigration)
            ? "c.memberCount" : "(SELECT COUNT(*) FROM member n WHERE n.conversationID = c.id)"
        longReads = ReadGate(width: configuration.readerCount - 2)
        var grdb = GRDB.Configuration()
        grdb.foreignKeysEnabled = true
        grdb.busyMode = .timeout(
            Double(configuration.busyTimeout.components.seconds)
                + Double(configuration.busyTimeout.components.attoseconds) / 1e18
        )
        grdb.maximumReaderCount = max(1, configuration.readerCount)
        let synchronous = configuration.synchronous.pragma
        let maximumSize = configuration.limits.maximumDatabaseSize
        let location = configuration.location
        let usesSearchFile = Schema.includes(Schema.v20, upTo: lastMigration)
        // The search index's file (`SearchFile`): the readers attach it; an in-memory store's one connection
        // attaches an in-memory one. The store's writer never does (its `IMMEDIATE` transactions would lock it).
        let searchAttachment = usesSearchFile ? location.path.map(SearchFile.path(forDatabase:)) ?? ":memory:" : nil
        grdb.prepareDatabase { db in
            if let searchAttachment, db.configuration.readonly || searchAttachment == ":memory:" {
                // A reader that cannot attach the index (its file deleted while the store runs) still serves every
                // read but searches, which then fail with a clear error.
                try? db.execute(sql: "ATTACH DATABASE ? AS \(SearchFile.schemaName)", arguments: [searchAttachment])
            }
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // Checkpoints run in the background (see `Checkpointer`); this is the writer's backstop.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Checkpointer.writerCheckpointPages)")
            if let maximumSize {
                let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                try db.execute(sql: "PRAGMA max_page_count = \(max(1, maximumSize / pageSize))")
            }
        }
        var searchIndexer: DatabaseQueue?
        do {
            if let path = location.path {
                // Before the pool: opening it switches the file's journal to WAL, a change that stays.
                try Self.refuseAnotherApplicationsDatabase(at: path, busyMode: grdb.busyMode)
                // Before the pool too: its readers attach the index file, which must exist (with its log's index,
                // which the indexer keeps) by the time the first one opens.
                if usesSearchFile {
                    searchIndexer = try SearchFile.openIndexer(databasePath: path, configuration: grdb)
                }
                // Each commit's log frames in one write (`LogWriteBatching`; the pool's readers open the file
                // through it too, and write nothing). The checkpointer opens the file as usual.
                let fileName = configuration.batchesLogWrites ? LogWriteBatching.fileName(forPath: path) : path
                writer = try DatabasePool(path: fileName, configuration: grdb)
            } else {
                writer = try DatabaseQueue(configuration: grdb)
            }
            try Self.migrate(writer, upTo: lastMigration)
            if usesSearchFile {
                // The index's tables, made anew (empty) unless they hold this database's index (`SearchFile`).
                let indexWriter: any DatabaseWriter = searchIndexer ?? writer
                let schema = searchIndexer == nil ? SearchFile.schemaName : "main"
                try indexWriter.writeWithoutTransaction { db in
                    try db.inTransaction(.deferred) {
                        _ = try SearchFile.prepare(db, schema: schema)
                        return .commit
                    }
                }
            }
            // Searches find each indexed row's conversation in memory (`RowConversations`): filled here, once.
            let rowConversations = RowConversations()
            if Schema.includes(Schema.v3, upTo: lastMigration) {
                try writer.read { db in try rowConversations.extend(upTo: SearchIndex.progress(db).indexedUpTo, db) }
            }
            self.rowConversations = rowConversations
            checkpointer = try location.path.map { try Checkpointer(path: $0, configuration: grdb) }
            readsOnCaller = writer is DatabasePool && grdb.maximumReaderCount >= 2
        } catch {
            try? searchIndexer?.close()
            throw ErrorMapping.chatError(error, "opening \(location)")
        }
        self.searchIndexer = searchIndexer
        let writer = self.writer
        let now = configuration.now
        let statistics = self.statistics
        let messageIDs = self.messageIDs
        let positionFloor = self.positionFloor
        let recordsStreamGaps = self.recordsStreamGaps
        // The changes a catch-up applied leave `searchChange` (with the texts of deleted messages) in a write of
        // their own, once per catch-up that applied any, before the catch-up returns.
        let prunedChanges = Mutex<Int64>(0)
        let searchIndex = SearchIndex(
            writer: searchIndexer ?? writer,
            appliesChanges: usesSearchFile,
            addsWords: Schema.includes(Schema.v5, upTo: lastMigration),
            prefixLengths: Schema.indexedPrefixLengths(upTo: lastMigration),
            hasScopeColumn: Schema.includes(Schema.v11, upTo: lastMigration),
            rowConversations: rowConversations,
            now: now,
            onChangesApplied: { lastChange in
                guard prunedChanges.withLock({ lastChange > $0 }) else { return }
                try await writer.write { db in try SearchIndex.removeNotes(upTo: lastChange, db) }
                prunedChanges.withLock { $0 = max($0, lastChange) }
            }
        )
        self.searchIndex = searchIndex
        let checkpointerOfRedactions = self.checkpointer
        redactions = EventRedactions(
            writer: writer, hasBacklog: Schema.includes(Schema.v19, upTo: lastMigration),
            worksInBackground: redactsInBackground, onCommit: { checkpointerOfRedactions?.noteCommit() }
        )
        let checkpointer = self.checkpointer
        appends = GroupCommit(maximumBatchSize: configuration.maximumBatchSize) { batch in
            // The leader commits on its own thread: GRDB's synchronous access runs the transaction right here
            // when the writer is free (and waits for it when busy), instead of hopping to the writer's dispatch
            // queue and back, two thread wake-ups per batch during which the writer idles. The thread is busy
            // with the transaction, not parked; the other submitters run on the other threads meanwhile.
            // It runs on Swift's global executor even when the submitter prefers another (ChatKitServer runs each
            // WebSocket session on its socket's event loop, which must never wait for a disk).
            try Task.checkCancellation()
            let commit = { @Sendable (messages: [NewMessage]) throws -> [Result<Message, any Error>] in
                try writer.writeWithoutTransaction { db in
                    try RawStatement.transaction(db) {
                        statistics.appendCommits.add(1, ordering: .relaxed)
                        statistics.appendedMessages.add(messages.count, ordering: .relaxed)
                        let context = try WriteContext(
                            db, now: Self.truncated(now()), messageIDs: messageIDs, positionFloor: positionFloor,
                            recordsStreamGaps: recordsStreamGaps
                        )
                        return try Self.appendBatch(messages, context)
                    }
                }
            }
            let results = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                do {
                    return try commit(batch)
                } catch where batch.count > 1 && Self.mayFailAlone(error) {
                    // An error one message can cause (the file at its size limit or the disk full under one large
                    // message) rolled the whole batch back, other users' messages with it: each message is
                    // committed again on its own, so that only those that fail alone fail, as each caller was
                    // promised. (Not an error of the file's, such as a lock another process holds: each retry would
                    // wait out the busy timeout again while every append waits behind it.)
                    return batch.map { message in
                        do {
                            return try commit([message])[0]
                        } catch {
                            return .failure(error)
                        }
                    }
                }
            }
            searchIndex.noteAppends()
            checkpointer?.noteCommit()
            return results
        }
        if Schema.includes(Schema.v3, upTo: lastMigration) {
            // Rows a crashed process appended but did not index yet (the schema has `searchProgress` since v3).
            searchIndex.noteAppends()
        }
        // Copies of deleted messages that a closed or crashed process had not rewritten yet.
        if (try? redactions.hasWaitingBacklog()) == true { redactions.noteBacklog() }
    }

    /// Whether a batch of appends that failed with `error` may have failed for one of its messages alone: the file
    /// full (at its size limit) or a value too large, which a smaller message would not meet.
    static func mayFailAlone(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_FULL || error.resultCode == .SQLITE_TOOBIG
    }

    /// Opens (creating if needed) the database file at `path` with default settings.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` as ``init(configuration:)`` does.
    public convenience init(path: String) throws {
        try self.init(configuration: Configuration(path: path))
    }

    /// Refuses the file at `path` if it is another application's SQLite database, looking at it through a plain
    /// connection that changes nothing (no WAL switch, no pragma that stays). A missing or empty file is a new
    /// database; a file that is not SQLite, or is corrupt, fails here as it would in the pool.
    private static func refuseAnotherApplicationsDatabase(at path: String, busyMode: Database.BusyMode) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return }
        var plain = GRDB.Configuration()
        plain.busyMode = busyMode
        let probe = try DatabaseQueue(path: path, configuration: plain)
        defer { try? probe.close() }
        if try probe.read(isAnotherApplicationsDatabase) {
            // Migrating would write ChatKit's tables into another application's database (or fail on a table name
            // they share), and GRDB's own migrations of another application would read as a newer ChatKit's.
            throw ChatError(
                .storageFailure,
                "The file is an SQLite database but not one of ChatKit's (it has tables and no ChatKit migrations); "
                    + "its tables and journal mode were left as they were. Give the store a file of its own."
            )
        }
    }

    private static func migrate(_ writer: any DatabaseWriter, upTo lastMigration: String?) throws {
        let migrator = Schema.migrator
        let superseded = try writer.read { db in try migrator.hasBeenSuperseded(db) }
        if superseded {
            throw ChatError(
                .storageFailure,
                "The database was written by a newer version of ChatKit (its schema has migrations this version "
                    + "does not know); open it with that version or newer."
            )
        }
        if let lastMigration {
            try migrator.migrate(writer, upTo: lastMigration)
        } else {
            try migrator.migrate(writer)
        }
    }

    /// Whether the database has tables but not ChatKit's first migration: another application's. (A new file has
    /// no tables; every ChatKit database has its first migration recorded in `grdb_migrations`.)
    private static func isAnotherApplicationsDatabase(_ db: Database) throws -> Bool {
        let hasTables = try Bool.fetchOne(
            db, sql: "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^' LIMIT 1"
        ) == true
        guard hasTables else { return false }
        guard try db.tableExists("grdb_migrations") else { return true }
        let hasFirstMigration = try Bool.fetchOne(
            db, sql: "SELECT 1 FROM grdb_migrations WHERE identifier = ?", arguments: [Schema.v1]
        ) == true
        return !hasFirstMigration
    }

    /// Closes the database connections. Every later call throws ``ChatKitCore/ChatError`` `.storageFailure`.
    ///
    /// Releasing the store closes them too; call this to close at a known moment, for example before replacing
    /// the file with a backup. Closed with no read under way (after the server has stopped), the database is one
    /// file again: the write-ahead log is folded in and its `-wal` and `-shm` files are removed, unless another
    /// process still has the database open (and so is the search index's file, `PATH-search`). That final checkpoint
    /// runs on the calling thread, and takes as long as writing the log's pages into the database file (at most the
    /// last 100 ms of writes, usually). Before it, the search index applies the edits and deletions it has not yet,
    /// so that the database keeps no note of a deleted text.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.storageFailure` if a connection cannot be closed.
    public func close() throws {
        searchIndex.close()
        redactions.close()
        // The edits and deletions the index has not applied yet: applied now, and their notes (with deleted texts)
        // removed from the database (best effort: a failure leaves them for the next opening).
        if let lastChange = try? searchIndex.applyChangesNow(), lastChange > 0 {
            _ = try? writer.write { db in try SearchIndex.removeNotes(upTo: lastChange, db) }
        }
        do {
            try? checkpointer?.close()
            if let pool = writer as? DatabasePool {
                // GRDB's pool closes its writer before its readers (GRDB's own TODO about issue #739), so the last
                // connection to close would be a read-only one, which cannot fold the log into the database:
                // `-wal` and `-shm` would stay beside a cleanly closed database (nothing lost; the next open
                // recovers the log). Closing the idle readers first leaves the writer last, and SQLite then
                // checkpoints and deletes both files, unless another process still has the database open.
                pool.releaseMemory()
                // The indexer after the readers (it is then the last connection to the index file, and folds its
                // log in) and before the writer (which is then the last to the database); the pool is closed even
                // if the indexer cannot be.
                let indexerClosing = Result { try searchIndexer?.close() }
                try pool.close()
                try indexerClosing.get()
            } else if let queue = writer as? DatabaseQueue {
                try queue.close()
            }
        } catch {
            throw ErrorMapping.chatError(error, "closing the database")
        }
    }

    /// Time truncated to whole milliseconds, as it is stored.
    static func truncated(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    func now() -> Date { Self.truncated(configuration.now()) }

    /// Runs a short read on a reader connection, on the calling task's thread, mapping failures to ``ChatError``.
    ///
    /// GRDB's asynchronous read hops to the reader's dispatch queue and back: two thread wake-ups, which were
    /// 150 of the 350 µs of a history page at p50 (chatkit-sqlite-bench, 1M messages). Here the read runs on the
    /// caller's thread, which it occupies meanwhile as CPU work would; it runs on Swift's global executor even
    /// when the caller prefers another (such as an event loop, which must never wait for a disk). Short reads
    /// are index lookups and pages bounded by a request's limit (a sync page of 100 events is the longest:
    /// ~4 ms at 1M messages); searches, backups and lists that grow with a conversation or a user (members,
    /// conversations, contacts, profiles, markers) take ``readInBackground(_:)``, which keeps reader connections free
    /// for these.
    ///
    /// Only a file database with at least two readers reads here: an in-memory database has one connection,
    /// which a long read or a write would hold while this thread waits, and with one reader a long read could
    /// hold it while every thread of the global executor waits here for it.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard readsOnCaller else { return try await readInBackground(body) }
        do {
            return try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try writer.read(body)
            }
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    /// Runs a long read (a search, a backup) on a Dispatch thread, mapping failures to ``ChatError``.
    ///
    /// At most ``Configuration/readerCount`` minus two (at least one) long reads hold a connection at once; the
    /// others wait their turn, so that ``read(_:)`` finds a connection without waiting for a long read (with three
    /// readers or more; with two, it may wait for one long read; with one, it does not run on the caller). The
    /// connection goes back to the pool as soon as `body` has run (`readReleasingOnQueue`), so ``close()`` never
    /// waits for the reading task to be scheduled again, and closes every reader before the writer.
    func readInBackground<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await longReads.pass { try await writer.readReleasingOnQueue(body) }
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    /// Runs a write transaction as ``write(_:)`` does, to its commit even if the calling task is cancelled meanwhile:
    /// for a write that must commit although its caller gives up (a reused refresh token's revocation). GRDB's
    /// async access checks for cancellation before the transaction and interrupts it when the task is cancelled;
    /// its callback access, awaited here, does neither.
    func writeToTheEnd<T: Sendable>(_ body: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        do {
            let transaction = inWriteContext(body)
            let result: T = try await withCheckedThrowingContinuation { continuation in
                writer.asyncWrite(transaction, completion: { _, result in continuation.resume(with: result) })
            }
            checkpointer?.noteCommit()
            return result
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    /// Runs a write transaction, mapping failures to ``ChatError``. The context's time is taken in the transaction,
    /// so a later commit never carries an earlier time (an edit, a reaction or a marker move waiting behind another).
    func write<T: Sendable>(_ body: @escaping @Sendable (WriteContext) throws -> T) async throws -> T {
        do {
            let result = try await writer.write(inWriteContext(body))
            checkpointer?.noteCommit()
            return result
        } catch {
            throw ErrorMapping.thrown(error)
        }
    }

    /// `body` as a transaction of GRDB's: run with the write context made in it.
    private func inWriteContext<T>(_ body: @escaping @Sendable (WriteContext) throws -> T)
        -> @Sendable (Database) throws -> T
    {
        let messageIDs = self.messageIDs
        let (positionFloor, recordsStreamGaps) = (self.positionFloor, self.recordsStreamGaps)
        let now = configuration.now
        return { db in
            try body(
                try WriteContext(
                    db, now: Self.truncated(now()), messageIDs: messageIDs, positionFloor: positionFloor,
                    recordsStreamGaps: recordsStreamGaps
                )
            )
        }
    }
}
