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

/// The database schema, as named migrations. A released migration is never edited: changes are new migrations.
///
/// Conventions: IDs are the identifiers' raw strings; times are integer milliseconds since 1970 (session times,
/// which callers supply, are exact `REAL` seconds); lists
/// (mentions, attachments, reactions) are JSON arrays, `NULL` when empty; every stored event keeps its
/// ``ChatKitCore/StoredEvent`` as JSON in `event.payload`, except the `messageCreated` events of messages appended
/// since ``v3``, which are the message rows themselves.
enum Schema {
    /// The first released schema: users, contacts, conversations, members, messages, markers, events.
    static let v1 = "v1-core"
    /// Full-text search: an FTS5 index of message bodies kept in step by triggers, filled from existing messages.
    static let v2 = "v2-search"
    /// A lighter append path: new messages are indexed for search in batches (``SearchIndex``) instead of by an
    /// insert trigger, and a new message is its own `messageCreated` event instead of a JSON copy in `event`.
    static let v3 = "v3-append-path"
    /// The idempotency key's index leads with the client message ID: `UNIQUE (clientMessageID, senderID)` instead
    /// of `(senderID, clientMessageID)`. Clients make time-ordered IDs
    /// (``ChatKitCore/ClientMessageID/timeOrdered()``), so a batch of appends from senders whose clocks agree adds
    /// to the end of the index, one or two leaf pages, instead of one leaf page per sender; that index was half the
    /// cost of an append. The message table is rebuilt, since an inline `UNIQUE` constraint cannot be dropped: the
    /// migration takes time and disk space in proportion to the messages (at a million, about what the table
    /// takes), once.
    static let v4 = "v4-client-id-index"
    /// The words of the search index in a table of their own (`searchWord`, see ``SearchWords``), so that a prefix
    /// search lists its words with a range scan instead of FTS5's `fts5vocab`, which reads each word's postings.
    /// Filled from the index when made: at a million messages, about a second.
    static let v5 = "v5-search-words"

    /// The search index keeps prefix indexes of its words' first 1 to 4 characters (FTS5's `prefix` option), so
    /// that a search for a short prefix (`wo*`, typing as one searches) reads one posting list instead of merging
    /// those of every word it begins: at a million messages, 1.5 ms instead of about 1.8 s. The index is made again
    /// from the messages, in the migration: about 6 seconds at a million messages, and 2.4 times the index's size
    /// on disk.
    static let v6 = "v6-prefix-index"

    /// The stream positions each opening of the store skips (`streamGap`): from the last stored event's to its
    /// ``PositionFloor``. A client whose cursor falls in one received events the database no longer has (it was
    /// restored from a backup, or lost its newest commits), and resumes from the gap's start (see
    /// ``SQLiteChatStore/resumePosition(after:)``).
    static let v7 = "v7-stream-gaps"

    /// An index of `eventAudience` by position. Its foreign key to `event(position)` made every delete of an
    /// `event` row (deleting a message that was edited or reacted to removes its copied creation event) scan the
    /// whole table, whose only index leads with the user, while holding the write lock.
    static let v8 = "v8-event-audience-position"

    /// Each conversation keeps its member count (`conversation.memberCount`), kept in step by triggers on `member`.
    /// Counting them at every session's start (who shares presence) read every member of every conversation the
    /// user is in: a hundred thousand index entries for each member of a channel that large, at every connect.
    static let v9 = "v9-member-counts"

    /// An index of each conversation's owners (`member_owner`, a partial index of the owner rows). Leaving,
    /// removing a member and changing a role count the owners (the last one may not go), which read every member
    /// row of the conversation while holding the write lock: a hundred thousand rows for a channel that large.
    static let v10 = "v10-owner-index"

    /// The search index holds each message's conversation as a second column, `searchScope`: one character of
    /// Unicode's private use area (U+F0000–U+FFFFD) kept with the conversation (`conversation.searchScope`, made
    /// from the first four hexadecimal digits of its ID when it is inserted). A search in a few conversations asks
    /// FTS5 for its words `AND` those characters, and FTS5 intersects the lists instead of the search reading the
    /// matches of every other conversation (``ScopeFilter``). Conversations whose IDs share the digits share the
    /// character: the search still checks each match's conversation. A query's words never hold such a character
    /// (``ChatKitCore/SearchText`` takes it for a separator), the filter names its column, and the character's
    /// prefix index entries are its own, so the words searched never meet it. The index reads the character through the
    /// view `messageSearchSource` (a message joined to its conversation, 0.1 µs a row; computing it from the ID for
    /// every message indexed cost 1.3–2.2 µs, and as a generated column of `message` 3 µs an append). The index is
    /// made again from the messages, in the migration: about 10 seconds at a million messages; it grows by about a
    /// seventh.
    static let v11 = "v11-search-scope"

    /// The search index holds prefixes of 5 and 6 characters too (`prefix='1 2 3 4 5 6'`), so that a prefix typed
    /// as one searches is one posting list up to 6 characters instead of the `OR` of its words (``PrefixExpansion``),
    /// which FTS5 merges at about half a microsecond a match and cannot restrict to a user's conversations cheaply
    /// (``ScopeFilter``): a 6-character prefix of 111 words searched by a usual user of a large server took 40–260
    /// ms. The index is made again from the messages, in the migration: about 14 seconds at a million messages; it
    /// grows by up to two fifths (each word of 5 or more characters adds one or two prefixes).
    static let v12 = "v12-longer-prefixes"

    /// Each session keeps when its refresh token was last rotated (`session.refreshedAt`), so that a refresh retried
    /// within `AuthService`'s retry window is told from a reuse by that time, not by the token's expiry less a
    /// lifetime that may have changed since. A column added: instant at any size.
    static let v13 = "v13-session-refreshed-at"

    /// The indexed words that ``ChatKitCore/SearchText`` folds to other characters, under their folded forms
    /// (`searchWordFolding`, see ``SearchWords``), so that a search word finds the spellings FTS5 keeps apart: its
    /// tokenizer removes the diacritics of Latin letters only, so "αθηνα" did not find "Αθήνα", nor "елка" "ёлка"
    /// (the in-memory store found both). Filled from `searchWord`: only words with other characters than ASCII are
    /// folded, a fraction of a second for a hundred thousand of them.
    static let v14 = "v14-search-word-folding"

    /// Each session keeps the version of its user's credentials it was opened with (`session.credentialsVersion`),
    /// so that a session opened before a password change cannot be refreshed, even one that a change which failed
    /// halfway left unrevoked (a column: sessions from before read `NULL`); and indexes of when sessions expire and
    /// were revoked, so that ended sessions are deleted without reading the table (a second a million sessions).
    static let v15 = "v15-session-credentials-version"

    /// Each group or channel keeps the creation key its creator's client gave (`conversation.creationKey`,
    /// ``ChatKitCore/NewConversation/creationKey``), unique per creator, so that a creation asked again after a lost
    /// answer returns the first conversation instead of making a second (a column, and a partial index of the
    /// conversations that have a key: none from before).
    static let v16 = "v16-conversation-creation-key"

    /// A partial index of the events that can carry a copy of a message (creations stored before `v3`, edits and
    /// reactions), by conversation and position: a deletion rewrites those copies (``SQLiteChatStore`` redacts the
    /// deleted text), and finding them walked every later event of the conversation, marker moves included, while
    /// holding the writer (about 0.8 s at a million events: every append waited).
    static let v17 = "v17-event-message-copies"

    /// The search index splits text into words where ``ChatKitCore/SearchText`` does (``IndexTokenizer``): FTS5's
    /// tokenizer, left to its own tables, split Indic, Thai and vowelled Arabic words at their vowel signs (`की`
    /// found `का`) and took the emoji of the last ten years for letters (`ok🙂` was one word, not found by `ok`).
    /// The index is made again from the messages, in the migration, as in `v12` (9–12 seconds at a million
    /// messages), and `searchWord` and `searchWordFolding` again from its words, as in `v5` and `v14`.
    static let v18 = "v18-index-tokenizer"

    /// Where the redaction of a deleted message's copies in events stopped, for each deletion followed by more edit and
    /// reaction events in its conversation than one transaction looks at (``EventRedactions``): the rest are looked
    /// at in the background, and after a restart.
    static let v19 = "v19-redaction-backlog"

    /// The search index (`messageSearch`, `searchWord`, `searchWordFolding`, `searchProgress`) moves to a file of
    /// its own beside the database (``SearchFile``), written by a connection of its own, so that indexing new
    /// messages runs beside the appends instead of taking the writer from them. It is derived data: made again from
    /// the messages when missing, unreadable or not the database's (at the first opening after this migration:
    /// about 10 seconds at a million messages). In the database, edits and deletions of messages are noted in
    /// `searchChange` by triggers, with the text the index holds, for the indexing connection to apply; each
    /// database has an identity (`searchIdentity`) that its index file records.
    static let v20 = "v20-search-file"

    /// The character counts of the prefixes the search index of `v6` to `v11` holds: those of `v6`'s `prefix`
    /// option, written there literally (a released migration never changes).
    static let v6PrefixLengths = 1...4
    /// The character counts of the prefixes the search index holds since `v12`, written there literally.
    static let v12PrefixLengths = 1...6

    /// The character counts of the prefixes the search index of a database migrated up to `lastMigration` holds;
    /// `nil` before `v6`, which has none.
    static func indexedPrefixLengths(upTo lastMigration: String?) -> ClosedRange<Int>? {
        if includes(v12, upTo: lastMigration) { return v12PrefixLengths }
        return includes(v6, upTo: lastMigration) ? v6PrefixLengths : nil
    }

    /// The migrations in the order they apply.
    static let all = [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20]

    /// Whether a database migrated up to `lastMigration` (`nil`: every migration) has `migration` applied.
    static func includes(_ migration: String, upTo lastMigration: String?) -> Bool {
        guard let lastMigration, let last = all.firstIndex(of: lastMigration) else { return true }
        return all.firstIndex(of: migration).map { $0 <= last } ?? false
    }

    /// Lifts the file's size limit (`max_page_count`, ``SQLiteChatStore/Limits``) for the current transaction, and
    /// puts it back once the transaction ends, committed or rolled back: a migration must not fail because the file
    /// is near its limit (it may need pages for new tables or a rebuilt index, and FTS5 writes the last of a rebuild
    /// when the transaction commits, which a limit put back earlier would refuse).
    static func liftSizeLimitUntilTransactionEnds(_ db: Database) throws {
        let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
        try db.execute(sql: "PRAGMA max_page_count = 4294967294")
        let restoreLimit: @Sendable (Database) -> Void = { db in
            _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)")
        }
        db.afterNextTransaction(onCommit: restoreLimit, onRollback: restoreLimit)
    }

    /// Every migration, in order.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(v1) { db in
            try db.execute(
                sql: """
                    CREATE TABLE user (
                        id TEXT PRIMARY KEY NOT NULL,
                        username TEXT NOT NULL UNIQUE,
                        displayName TEXT NOT NULL,
                        statusText TEXT,
                        createdAt INTEGER NOT NULL
                    );
                    CREATE TABLE credentials (
                        userID TEXT PRIMARY KEY NOT NULL REFERENCES user(id),
                        passwordHash TEXT NOT NULL,
                        version INTEGER NOT NULL,
                        updatedAt INTEGER NOT NULL
                    );
                    CREATE TABLE contact (
                        userID TEXT NOT NULL REFERENCES user(id),
                        otherID TEXT NOT NULL REFERENCES user(id),
                        state TEXT NOT NULL,
                        since INTEGER NOT NULL,
                        PRIMARY KEY (userID, otherID)
                    ) WITHOUT ROWID;
                    CREATE TABLE conversation (
                        id TEXT PRIMARY KEY NOT NULL,
                        kind TEXT NOT NULL,
                        title TEXT,
                        createdBy TEXT NOT NULL REFERENCES user(id),
                        createdAt INTEGER NOT NULL,
                        lastSeq INTEGER NOT NULL DEFAULT 0,
                        activityPosition INTEGER NOT NULL,
                        directKey TEXT UNIQUE
                    );
                    CREATE TABLE member (
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        userID TEXT NOT NULL REFERENCES user(id),
                        role TEXT NOT NULL,
                        joinedAt INTEGER NOT NULL,
                        PRIMARY KEY (conversationID, userID)
                    ) WITHOUT ROWID;
                    CREATE INDEX member_user ON member(userID, conversationID);
                    CREATE TABLE membershipPeriod (
                        userID TEXT NOT NULL REFERENCES user(id),
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        fromPosition INTEGER NOT NULL,
                        toPosition INTEGER,
                        PRIMARY KEY (userID, conversationID, fromPosition)
                    ) WITHOUT ROWID;
                    CREATE INDEX membershipPeriod_conversation ON membershipPeriod(conversationID, fromPosition);
                    CREATE TABLE message (
                        rowNumber INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        seq INTEGER NOT NULL,
                        senderID TEXT NOT NULL REFERENCES user(id),
                        clientMessageID TEXT NOT NULL,
                        body TEXT NOT NULL,
                        replyTo TEXT,
                        mentions TEXT,
                        attachments TEXT,
                        reactions TEXT,
                        createdAt INTEGER NOT NULL,
                        editedAt INTEGER,
                        deletedAt INTEGER,
                        UNIQUE (conversationID, seq),
                        UNIQUE (senderID, clientMessageID)
                    );
                    CREATE TABLE marker (
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        userID TEXT NOT NULL REFERENCES user(id),
                        deliveredSeq INTEGER NOT NULL,
                        readSeq INTEGER NOT NULL,
                        PRIMARY KEY (conversationID, userID)
                    ) WITHOUT ROWID;
                    CREATE TABLE event (
                        position INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        conversationID TEXT REFERENCES conversation(id),
                        payload BLOB NOT NULL
                    );
                    CREATE INDEX event_conversation ON event(conversationID, position);
                    CREATE TABLE session (
                        id TEXT PRIMARY KEY NOT NULL,
                        userID TEXT NOT NULL REFERENCES user(id),
                        refreshTokenHash TEXT NOT NULL,
                        createdAt REAL NOT NULL,
                        expiresAt REAL NOT NULL,
                        revokedAt REAL
                    );
                    CREATE INDEX session_user ON session(userID);
                    CREATE TABLE eventAudience (
                        userID TEXT NOT NULL REFERENCES user(id),
                        position INTEGER NOT NULL REFERENCES event(position),
                        PRIMARY KEY (userID, position)
                    ) WITHOUT ROWID;
                    """
            )
        }
        migrator.registerMigration(v2) { db in
            // External-content FTS5 index over message.body; rowid = message.rowNumber. A tombstone's body is
            // empty, so deleted messages have no terms and are never found. Its rebuild takes pages: a size limit
            // must not stop it (added after release; it changes no schema).
            try liftSizeLimitUntilTransactionEnds(db)
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE messageSearch USING fts5(
                        body,
                        content='message',
                        content_rowid='rowNumber',
                        tokenize='unicode61 remove_diacritics 2'
                    );
                    CREATE TRIGGER message_search_insert AFTER INSERT ON message BEGIN
                        INSERT INTO messageSearch(rowid, body) VALUES (new.rowNumber, new.body);
                    END;
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body) VALUES ('delete', old.rowNumber, old.body);
                        INSERT INTO messageSearch(rowid, body) VALUES (new.rowNumber, new.body);
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body) VALUES ('delete', old.rowNumber, old.body);
                    END;
                    INSERT INTO messageSearch(messageSearch) VALUES ('rebuild');
                    """
            )
        }
        migrator.registerMigration(v3) { db in
            // Search: the insert trigger goes; `searchProgress.indexedUpTo` is the highest message row the index
            // holds (every row up to it is indexed, none above). Rows above it are indexed in batches by
            // `SearchIndex`; until then edits and deletes of such a row have nothing to update in the index, so
            // the triggers skip them (the batch indexes the body current at that time). Every existing row was
            // indexed by the v2 trigger or rebuild.
            //
            // Events: a message appended from now on is its own `messageCreated` event, at stream position
            // `message.createdPosition`, with no row in `event` (see `MessageEvents`). When such a message is
            // first edited or reacted to, a copy of the original goes into `event` at that position and
            // `createdEventCopied` becomes 1; deleting it removes the copy again (the event then shows the
            // tombstone). Messages from before have `createdPosition` NULL: their events are rows of `event`.
            //
            // The new table takes a page: a size limit must not stop it (added after release; no schema change).
            try liftSizeLimitUntilTransactionEnds(db)
            try db.execute(
                sql: """
                    DROP TRIGGER message_search_insert;
                    DROP TRIGGER message_search_update;
                    DROP TRIGGER message_search_delete;
                    CREATE TABLE searchProgress (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        indexedUpTo INTEGER NOT NULL
                    );
                    INSERT INTO searchProgress (id, indexedUpTo) VALUES (1, (SELECT COALESCE(MAX(rowNumber), 0) FROM message));
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body
                            AND old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body) VALUES ('delete', old.rowNumber, old.body);
                        INSERT INTO messageSearch(rowid, body) VALUES (new.rowNumber, new.body);
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message
                        WHEN old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body) VALUES ('delete', old.rowNumber, old.body);
                    END;
                    ALTER TABLE message ADD COLUMN createdPosition INTEGER;
                    ALTER TABLE message ADD COLUMN createdEventCopied INTEGER NOT NULL DEFAULT 0;
                    """
            )
        }
        migrator.registerMigration(v4) { db in
            // SQLite's way to change a table's constraints: make the new table, copy the rows (row numbers kept,
            // so the search index's rowids stay valid), drop the old one and rename. The triggers refer to the
            // table and are made again; the external-content search table names it and needs nothing. Foreign
            // keys are off during a migration and checked before it commits (GRDB's deferred checks).
            //
            // Until the old table is dropped the file holds both copies. A size limit (`Limits`, SQLite's
            // `max_page_count`) must not stop the rebuild, or a database over half its limit could never open
            // again: the limit is lifted for the migration and restored after it. The old table's pages stay in the
            // file, free, and new messages reuse them.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    DROP TRIGGER message_search_update;
                    DROP TRIGGER message_search_delete;
                    CREATE TABLE message_v4 (
                        rowNumber INTEGER PRIMARY KEY,
                        id TEXT NOT NULL UNIQUE,
                        conversationID TEXT NOT NULL REFERENCES conversation(id),
                        seq INTEGER NOT NULL,
                        senderID TEXT NOT NULL REFERENCES user(id),
                        clientMessageID TEXT NOT NULL,
                        body TEXT NOT NULL,
                        replyTo TEXT,
                        mentions TEXT,
                        attachments TEXT,
                        reactions TEXT,
                        createdAt INTEGER NOT NULL,
                        editedAt INTEGER,
                        deletedAt INTEGER,
                        createdPosition INTEGER,
                        createdEventCopied INTEGER NOT NULL DEFAULT 0,
                        UNIQUE (conversationID, seq),
                        UNIQUE (clientMessageID, senderID)
                    );
                    INSERT INTO message_v4 (rowNumber, id, conversationID, seq, senderID, clientMessageID, body,
                        replyTo, mentions, attachments, reactions, createdAt, editedAt, deletedAt, createdPosition,
                        createdEventCopied)
                    SELECT rowNumber, id, conversationID, seq, senderID, clientMessageID, body, replyTo,
                        mentions, attachments, reactions, createdAt, editedAt, deletedAt, createdPosition,
                        createdEventCopied
                    FROM message ORDER BY rowNumber;
                    DROP TABLE message;
                    ALTER TABLE message_v4 RENAME TO message;
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body
                            AND old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body)
                            VALUES ('delete', old.rowNumber, old.body);
                        INSERT INTO messageSearch(rowid, body) VALUES (new.rowNumber, new.body);
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message
                        WHEN old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body)
                            VALUES ('delete', old.rowNumber, old.body);
                    END;
                    """
            )
        }
        // v5 and v6 touch no foreign key: GRDB's deferred check would read the whole database once more.
        migrator.registerMigration(v5, foreignKeyChecks: .immediate) { db in
            // A new table of every indexed word takes pages: as in v4 and v6–v8, a size limit must not stop it.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            // Rows above `searchProgress.indexedUpTo` are not in the index yet; their batch adds their words.
            try db.execute(
                sql: """
                    CREATE TABLE searchWord (word TEXT PRIMARY KEY) WITHOUT ROWID;
                    CREATE VIRTUAL TABLE temp.messageSearchVocabulary USING fts5vocab(main, messageSearch, 'row');
                    INSERT OR IGNORE INTO searchWord (word) SELECT term FROM temp.messageSearchVocabulary;
                    DROP TABLE temp.messageSearchVocabulary;
                    """
            )
        }
        migrator.registerMigration(v6, foreignKeyChecks: .immediate) { db in
            // FTS5 cannot add prefix indexes to an index: it is made again, from every message row's current body.
            // Rows above `searchProgress.indexedUpTo` are indexed too, so the mark moves to the last row (a batch
            // indexing them again would index them twice). The triggers name the table and need nothing.
            //
            // The new index is more than twice the old one's size; as in v4, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    DROP TABLE messageSearch;
                    CREATE VIRTUAL TABLE messageSearch USING fts5(
                        body,
                        content='message',
                        content_rowid='rowNumber',
                        tokenize='unicode61 remove_diacritics 2',
                        prefix='1 2 3 4'
                    );
                    INSERT INTO messageSearch(messageSearch) VALUES ('rebuild');
                    UPDATE searchProgress SET indexedUpTo = (SELECT COALESCE(MAX(rowNumber), 0) FROM message)
                    WHERE id = 1;
                    -- The rows the old index lacked were not in `searchWord` either.
                    CREATE VIRTUAL TABLE temp.messageSearchVocabulary USING fts5vocab(main, messageSearch, 'row');
                    INSERT OR IGNORE INTO searchWord (word) SELECT term FROM temp.messageSearchVocabulary;
                    DROP TABLE temp.messageSearchVocabulary;
                    """
            )
        }
        migrator.registerMigration(v7, foreignKeyChecks: .immediate) { db in
            // A new table takes a page: as in v4 and v6, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    CREATE TABLE streamGap (
                        afterPosition INTEGER NOT NULL,
                        throughPosition INTEGER NOT NULL
                    );
                    """
            )
        }
        migrator.registerMigration(v8, foreignKeyChecks: .immediate) { db in
            // An index takes pages: as in v4, v6 and v7, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(sql: "CREATE INDEX eventAudience_position ON eventAudience(position)")
        }
        migrator.registerMigration(v9, foreignKeyChecks: .immediate) { db in
            // Filling the new column rewrites every conversation row, which may take pages: as in v4 and v6–v8, a
            // size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    ALTER TABLE conversation ADD COLUMN memberCount INTEGER NOT NULL DEFAULT 0;
                    UPDATE conversation
                        SET memberCount = (SELECT COUNT(*) FROM member WHERE conversationID = conversation.id);
                    CREATE TRIGGER member_count_insert AFTER INSERT ON member BEGIN
                        UPDATE conversation SET memberCount = memberCount + 1 WHERE id = new.conversationID;
                    END;
                    CREATE TRIGGER member_count_delete AFTER DELETE ON member BEGIN
                        UPDATE conversation SET memberCount = memberCount - 1 WHERE id = old.conversationID;
                    END;
                    """
            )
        }
        migrator.registerMigration(v10, foreignKeyChecks: .immediate) { db in
            // An index takes pages: as in v4 and v6–v8, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            // Both columns, though every entry's role is the same: SQLite prefers an index that matches both terms of
            // the count over the primary key, which matches one.
            try db.execute(sql: "CREATE INDEX member_owner ON member(conversationID, role) WHERE role = 'owner'")
        }
        migrator.registerMigration(v11, foreignKeyChecks: .immediate) { db in
            // As in v6, FTS5 cannot add a column to an index: it is made again, from every message row, and the mark
            // moves to the last row. The rows above the old mark were not in `searchWord` either: their words are
            // added (from their bodies: the index's vocabulary now holds the scope characters too). The triggers
            // must give FTS5 the values it indexed, the scope character with the body.
            //
            // The scope character: each of the ID's first four characters as a hexadecimal digit (any other
            // character as 15), the four as one number below 65,536, kept below 65,534 (U+FFFFE and U+FFFFF are not
            // characters), from U+F0000. It is kept with the conversation, set by a trigger when one is inserted, so
            // that indexing a message reads it instead of computing it. The view's `CROSS JOIN` keeps the messages
            // the outer loop: FTS5's `rebuild` reads the view without an order, and with statistics (`ANALYZE`)
            // SQLite could read it conversation by conversation, rows out of order, which FTS5 indexes two to three
            // times slower.
            //
            // As in v4 and v6–v8, a size limit must not stop the migration; it comes back only once the transaction
            // ends: FTS5 writes the last of a rebuild's index when the transaction commits, which a limit restored
            // before would refuse.
            try liftSizeLimitUntilTransactionEnds(db)
            let oldMark = try Int64.fetchOne(db, sql: "SELECT indexedUpTo FROM searchProgress WHERE id = 1") ?? 0
            let unindexedBodies = try String.fetchAll(
                db, sql: "SELECT body FROM message WHERE rowNumber > ?", arguments: [oldMark]
            )
            try SearchWords.add(wordsOf: unindexedBodies, db)
            let digit = { (id: String, index: Int) in
                "((instr('0123456789abcdef', lower(substr(\(id), \(index), 1))) + 15) % 16)"
            }
            let character = { (id: String) in
                "char(983040 + (\(digit(id, 1)) * 4096 + \(digit(id, 2)) * 256 + \(digit(id, 3)) * 16 + "
                    + "\(digit(id, 4))) % 65534)"
            }
            try db.execute(
                sql: """
                    ALTER TABLE conversation ADD COLUMN searchScope TEXT;
                    UPDATE conversation SET searchScope = \(character("id"));
                    CREATE TRIGGER conversation_search_scope AFTER INSERT ON conversation BEGIN
                        UPDATE conversation SET searchScope = \(character("new.id")) WHERE id = new.id;
                    END;
                    CREATE VIEW messageSearchSource AS
                        SELECT m.rowNumber, m.body, c.searchScope
                        FROM message m CROSS JOIN conversation c ON c.id = m.conversationID;
                    DROP TRIGGER message_search_update;
                    DROP TRIGGER message_search_delete;
                    DROP TABLE messageSearch;
                    CREATE VIRTUAL TABLE messageSearch USING fts5(
                        body,
                        searchScope,
                        content='messageSearchSource',
                        content_rowid='rowNumber',
                        tokenize='unicode61 remove_diacritics 2',
                        prefix='1 2 3 4'
                    );
                    INSERT INTO messageSearch(messageSearch) VALUES ('rebuild');
                    UPDATE searchProgress SET indexedUpTo = (SELECT COALESCE(MAX(rowNumber), 0) FROM message)
                    WHERE id = 1;
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body
                            AND old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                            VALUES ('delete', old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                        INSERT INTO messageSearch(rowid, body, searchScope)
                            VALUES (new.rowNumber, new.body,
                                (SELECT searchScope FROM conversation WHERE id = new.conversationID));
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message
                        WHEN old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                            VALUES ('delete', old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                    END;
                    """
            )
        }
        migrator.registerMigration(v12, foreignKeyChecks: .immediate) { db in
            // The index is made again with prefixes of 5 and 6 characters (see `v12`), as in v11: the triggers are
            // dropped with it and made again as they were; the rows above the old mark are indexed by the rebuild,
            // so their words are added to `searchWord` first, and the mark moves to the last row.
            //
            // As in v4 and v6–v11, a size limit must not stop the migration; it comes back only once the
            // transaction ends (FTS5 writes the last of a rebuild's index when the transaction commits).
            try liftSizeLimitUntilTransactionEnds(db)
            let oldMark = try Int64.fetchOne(db, sql: "SELECT indexedUpTo FROM searchProgress WHERE id = 1") ?? 0
            let unindexedBodies = try String.fetchAll(
                db, sql: "SELECT body FROM message WHERE rowNumber > ?", arguments: [oldMark]
            )
            try SearchWords.add(wordsOf: unindexedBodies, db)
            try db.execute(
                sql: """
                    DROP TRIGGER message_search_update;
                    DROP TRIGGER message_search_delete;
                    DROP TABLE messageSearch;
                    CREATE VIRTUAL TABLE messageSearch USING fts5(
                        body,
                        searchScope,
                        content='messageSearchSource',
                        content_rowid='rowNumber',
                        tokenize='unicode61 remove_diacritics 2',
                        prefix='1 2 3 4 5 6'
                    );
                    INSERT INTO messageSearch(messageSearch) VALUES ('rebuild');
                    UPDATE searchProgress SET indexedUpTo = (SELECT COALESCE(MAX(rowNumber), 0) FROM message)
                    WHERE id = 1;
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body
                            AND old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                            VALUES ('delete', old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                        INSERT INTO messageSearch(rowid, body, searchScope)
                            VALUES (new.rowNumber, new.body,
                                (SELECT searchScope FROM conversation WHERE id = new.conversationID));
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message
                        WHEN old.rowNumber <= (SELECT indexedUpTo FROM searchProgress WHERE id = 1) BEGIN
                        INSERT INTO messageSearch(messageSearch, rowid, body, searchScope)
                            VALUES ('delete', old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                    END;
                    """
            )
        }
        migrator.registerMigration(v13, foreignKeyChecks: .immediate) { db in
            // A new column takes no page of its own, but the schema's row grows, which may split its page: a size
            // limit must not stop it (added after release; it changes no schema).
            try liftSizeLimitUntilTransactionEnds(db)
            try db.execute(sql: "ALTER TABLE session ADD COLUMN refreshedAt REAL")
        }
        migrator.registerMigration(v14, foreignKeyChecks: .immediate) { db in
            // A new table takes pages: as in v4 and v7, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    CREATE TABLE searchWordFolding (
                        folded TEXT NOT NULL,
                        word TEXT NOT NULL,
                        PRIMARY KEY (folded, word)
                    ) WITHOUT ROWID
                    """
            )
            // Words of rows above `searchProgress.indexedUpTo` come with their batch.
            try SearchWords.addFoldingsOfEveryWord(db)
        }
        migrator.registerMigration(v15, foreignKeyChecks: .immediate) { db in
            // Indexes take pages: as in v8 and v10, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            // The indexes let the deletion of ended sessions find them without reading the table.
            try db.execute(
                sql: """
                    ALTER TABLE session ADD COLUMN credentialsVersion INTEGER;
                    CREATE INDEX session_expiresAt ON session(expiresAt);
                    CREATE INDEX session_revokedAt ON session(revokedAt) WHERE revokedAt IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration(v16, foreignKeyChecks: .immediate) { db in
            // An index takes a page: as in v15, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            try db.execute(
                sql: """
                    ALTER TABLE conversation ADD COLUMN creationKey TEXT;
                    CREATE UNIQUE INDEX conversation_creationKey ON conversation(createdBy, creationKey)
                        WHERE creationKey IS NOT NULL;
                    """
            )
        }
        migrator.registerMigration(v17, foreignKeyChecks: .immediate) { db in
            // An index takes pages: as in v15, a size limit must not stop the migration.
            let pageLimit = try Int64.fetchOne(db, sql: "PRAGMA max_page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = 4294967294")
            defer { _ = try? Int64.fetchOne(db, sql: "PRAGMA max_page_count = \(pageLimit)") }
            // The kinds are written as the deletion's query names them: SQLite uses a partial index only for a query
            // whose terms include its condition.
            try db.execute(
                sql: """
                    CREATE INDEX event_messageCopy ON event(conversationID, position)
                        WHERE kind IN ('messageCreated', 'messageEdited', 'reactionAdded', 'reactionRemoved')
                    """
            )
        }
        migrator.registerMigration(v18, foreignKeyChecks: .immediate) { db in
            // The index is made again with the new tokenizer, as in v12; the triggers on `message` name it and stay.
            // Rows above the old mark are indexed by the rebuild, and the mark moves to the last row. The word
            // tables are then made again from the new index's words, as v5 and v14 made them (the old tokenizer's
            // words of text that is not ASCII included ASCII fragments, "lice" of "Ⓐlice", which a deletion
            // re-tokenized with the new tokenizer would never remove).
            //
            // As in v12, a size limit must not stop the migration; it comes back once the transaction ends.
            try liftSizeLimitUntilTransactionEnds(db)
            try db.execute(
                sql: """
                    DROP TABLE messageSearch;
                    CREATE VIRTUAL TABLE messageSearch USING fts5(
                        body,
                        searchScope,
                        content='messageSearchSource',
                        content_rowid='rowNumber',
                        tokenize=\(IndexTokenizer.declaration),
                        prefix='1 2 3 4 5 6'
                    );
                    INSERT INTO messageSearch(messageSearch) VALUES ('rebuild');
                    UPDATE searchProgress SET indexedUpTo = (SELECT COALESCE(MAX(rowNumber), 0) FROM message)
                    WHERE id = 1;
                    DELETE FROM searchWord;
                    DELETE FROM searchWordFolding;
                    CREATE VIRTUAL TABLE temp.messageSearchVocabulary USING fts5vocab(main, messageSearch, 'col');
                    INSERT OR IGNORE INTO searchWord (word)
                        SELECT term FROM temp.messageSearchVocabulary WHERE col = 'body';
                    DROP TABLE temp.messageSearchVocabulary;
                    """
            )
            try SearchWords.addFoldingsOfEveryWord(db)
        }
        migrator.registerMigration(v19, foreignKeyChecks: .immediate) { db in
            // A table takes a page (and GRDB's check of the migration another): as in v18, a size limit must not
            // stop the migration; it comes back once the transaction ends.
            try liftSizeLimitUntilTransactionEnds(db)
            // The events left to look at are those after `afterPosition` and before `beforePosition` (the deletion's
            // event). No foreign key: an entry whose message row is missing is dropped by the background work.
            try db.execute(
                sql: """
                    CREATE TABLE redactionBacklog (
                        messageID TEXT PRIMARY KEY NOT NULL,
                        afterPosition INTEGER NOT NULL,
                        beforePosition INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """
            )
        }
        migrator.registerMigration(v20, foreignKeyChecks: .immediate) { db in
            // New tables take pages: as in v18, a size limit must not stop the migration.
            try liftSizeLimitUntilTransactionEnds(db)
            try db.execute(
                sql: """
                    DROP TRIGGER IF EXISTS message_search_update;
                    DROP TRIGGER IF EXISTS message_search_delete;
                    DROP TABLE IF EXISTS messageSearch;
                    DROP TABLE IF EXISTS searchWordFolding;
                    DROP TABLE IF EXISTS searchWord;
                    DROP TABLE IF EXISTS searchProgress;
                    CREATE TABLE searchChange (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        rowNumber INTEGER NOT NULL,
                        body TEXT NOT NULL,
                        searchScope TEXT
                    );
                    CREATE TRIGGER message_search_update AFTER UPDATE OF body ON message
                        WHEN old.body IS NOT new.body BEGIN
                        INSERT INTO searchChange (rowNumber, body, searchScope)
                            VALUES (old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                    END;
                    CREATE TRIGGER message_search_delete AFTER DELETE ON message BEGIN
                        INSERT INTO searchChange (rowNumber, body, searchScope)
                            VALUES (old.rowNumber, old.body,
                                (SELECT searchScope FROM conversation WHERE id = old.conversationID));
                    END;
                    CREATE TABLE searchIdentity (id INTEGER PRIMARY KEY CHECK (id = 1), identity TEXT NOT NULL);
                    INSERT INTO searchIdentity (id, identity) VALUES (1, lower(hex(randomblob(16))));
                    """
            )
        }
        return migrator
    }
}
