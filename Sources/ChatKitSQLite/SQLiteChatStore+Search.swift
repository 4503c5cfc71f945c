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
import GRDB

extension SQLiteChatStore {
    // MARK: SearchStore

    /// How many of the newest matches are ranked. Ranking every match of a broad word over millions of
    /// messages would cost a full scan of its postings; bounding the candidates keeps a search fast however big
    /// the store grows, and the newest messages are the ones users look for most.
    static let searchCandidateLimit = 2000

    /// Full-text search with the FTS5 index; see ``ChatKitCore/SearchStore/search(_:as:in:limit:)``.
    ///
    /// Words are tokenized by FTS5's `unicode61` tokenizer with diacritics removed, so "cafe" finds "Café", and
    /// told where ``ChatKitCore/SearchText`` ends words (vowel signs are part of their word, emoji end one); a
    /// query word ending in `*` matches as a prefix. Only messages of conversations `user` is a member of now
    /// are found; tombstones have no words. Among the newest 2000 matches, hits come best first by BM25 (ties
    /// newest first; see `SearchRanking` for how it is computed), each with a snippet of about 12 words around
    /// the first match, marked with `[` and `]`.
    ///
    /// When the conversations searched hold less than half of all messages and at most 64 of them hold messages, and
    /// the query is of words (or prefixes of up to 6 characters, which the index holds as one list each) each matching
    /// more messages than the 2,000 candidates (``ScopeFilter``), FTS5 itself keeps to them: the index holds each
    /// message's conversation as a character of its own. Otherwise, when they hold a small share of all messages and
    /// every word is common, their messages are read and their words matched as the index holds them, instead of
    /// walking the index past every other conversation's matches: the same messages are found. (For a prefix of
    /// hundreds of words in a query of several, its weight in the ranking is then estimated from the conversations
    /// searched, not from the newest messages.) When they hold a modest share, the index's matches are walked as row
    /// numbers, each one's conversation looked up in memory (4 bytes a message, filled when the store
    /// opens: about 0.3 s at a million messages), without reading the messages of the others.
    ///
    /// New messages are indexed in batches shortly after they are appended (see ``SearchIndex``); a search that
    /// finds messages not indexed yet indexes them first, so it sees every message whose append returned before
    /// it began. Only if that fails (a full disk; after a failure, catch-ups wait for a back-off of up to 30 s) are
    /// those messages matched by scanning them with the word rules of ``ChatKitCore/SearchText``; they come after the
    /// ranked hits, newest first.
    public func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try MembershipRules.validateLimit(limit)
        // An ID holding U+0000 names nothing; with a conversation named, its look-up says so (`notFound`).
        if conversation == nil, !Lookups.canName(user) { return [] }
        let text = SearchText(query: query)
        var configuredWays = configuration.searchWays
        configuredWays.scopeFilter.isEnabled = configuredWays.scopeFilter.isEnabled && searchIndex.hasScopeColumn
        let ways = configuredWays
        let rowMap = rowConversations
        let capabilities = PrefixExpansion.Capabilities(
            hasWordTable: searchIndex.addsWords, prefixLengths: searchIndex.prefixLengths
        )
        let appliesChanges = searchIndex.appliesChanges
        let first = try await readInBackground { db -> (hits: [SearchHit], unindexed: ClosedRange<Int64>?) in
            // First, in one statement with the database: the index file's snapshot begins with the database's.
            let progress = try SearchIndex.progress(db)
            if let conversation { _ = try Lookups.memberConversation(db, conversation, user) }
            guard !text.terms.isEmpty, limit > 0 else { return ([], nil) }
            let hasPendingChanges = try appliesChanges && SearchIndex.hasPendingChanges(db)
            if progress.lastRow > progress.indexedUpTo || hasPendingChanges {
                return ([], (progress.indexedUpTo + 1)...max(progress.indexedUpTo + 1, progress.lastRow))
            }
            let hits = try Self.searchIndex(
                db, text, capabilities, user, conversation, limit, ways, rowMap
            )
            return (hits, nil)
        }
        guard let unindexed = first.unindexed else { return first.hits }
        try? await searchIndex.catchUpUnlessBackingOff()
        return try await readInBackground { db in
            // Again: the membership may have ended since the first read.
            // First, in one statement with the database: the index file's snapshot begins with the database's, so
            // the notes of changes read below are those of the index read here.
            let indexedUpTo = try SearchIndex.progress(db).indexedUpTo
            if let conversation { _ = try Lookups.memberConversation(db, conversation, user) }
            var hits = try Self.searchIndex(
                db, text, capabilities, user, conversation, limit, ways, rowMap
            )
            if appliesChanges, try SearchIndex.hasPendingChanges(db) {
                // The index could not apply edits and deletions (a full disk): it may hold texts the messages no
                // longer have. Those messages are matched by scanning them instead, as unindexed ones are.
                let changed = try Int64.fetchSet(
                    db,
                    sql: """
                        SELECT rowNumber FROM searchChange
                        WHERE id > (SELECT appliedChange FROM searchProgress WHERE id = 1) AND rowNumber <= ?
                        """,
                    arguments: [indexedUpTo]
                )
                let idOfRow = try db.cachedStatement(sql: "SELECT id FROM message WHERE rowNumber = ?")
                let changedIDs = Set(try changed.compactMap { try String.fetchOne(idOfRow, arguments: [$0]) })
                hits.removeAll { changedIDs.contains($0.message.id.rawValue) }
                for row in changed.sorted(by: >) where hits.count < limit {
                    hits += try Self.scan(db, row...row, text, user, conversation, limit - hits.count)
                }
            }
            if hits.count < limit, indexedUpTo < unindexed.upperBound {
                let range = max(indexedUpTo + 1, unindexed.lowerBound)...unindexed.upperBound
                hits += try Self.scan(db, range, text, user, conversation, limit - hits.count)
            }
            return hits
        }
    }

    /// The ranked hits of the FTS5 index.
    ///
    /// FTS5 finds the newest ``searchCandidateLimit`` matches the user may see (within the scope's conversations when
    /// ``ScopeFilter`` names them; else ``ScopeScan`` does, when the conversations searched hold a small share of the
    /// messages and the terms are common; ``BroadPrefixScan`` does, for a query with a prefix of hundreds of words,
    /// when one bounded read tells them; ``ScopedIndexWalk`` does, walking FTS5's matches against the scope's
    /// conversations, when ``SearchPlan`` expects it to be the cheapest); ``SearchRanking`` scores them from their
    /// bodies (BM25) and ``ChatKitCore/SearchText`` marks the snippets of the best `limit`. FTS5's own `bm25()` and
    /// `snippet()` cost a pass over each term's whole posting list (per hit, for `snippet()` of a prefix query): 20–40
    /// ms for a common word at a million messages, against a few for this.
    private static func searchIndex(
        _ db: Database,
        _ text: SearchText,
        _ capabilities: PrefixExpansion.Capabilities,
        _ user: UserID,
        _ conversation: ConversationID?,
        _ limit: Int,
        _ ways: Configuration.SearchWays,
        _ rowConversations: RowConversations
    ) throws -> [SearchHit] {
        let patterns = try text.terms.map { try PrefixExpansion.pattern($0, capabilities, db) }
        if ScopeFilter.isWorthTrying(text, patterns),
            let restriction = try ScopeFilter.restriction(
                db, patterns: patterns.map(\.text), user: user, conversation: conversation, limits: ways.scopeFilter
            )
        {
            guard case .filter(let filter) = restriction else { return [] }
            let found = try newestMatches(db, patterns.map(\.text), user, conversation, scopeFilter: filter)
            return try rank(db, text, patterns, SearchCandidates(candidates: found, densities: []), limit)
        }
        let plan = try SearchPlan.make(
            db, text, patterns: patterns, user: user, conversation: conversation,
            candidateLimit: Self.searchCandidateLimit, scanLimit: ways.scopeScan.messageLimit, policy: ways.scopedWalk
        )
        /// ``ScopedIndexWalk``'s candidates.
        func walked() throws -> SearchCandidates {
            try ScopedIndexWalk.newestMatches(
                db, patterns: patterns.map(\.text), user: user, conversation: conversation,
                candidateLimit: Self.searchCandidateLimit, rowConversations: rowConversations
            )
        }
        let found: SearchCandidates
        if plan.walksFirst {
            found = try walked()
        } else if let scoped = try ScopeScan.newestMatches(
            db, text, patterns: patterns, user: user, conversation: conversation,
            candidateLimit: Self.searchCandidateLimit, limits: ways.scopeScan, termMatches: plan.termMatches
        ) {
            found = scoped
        } else if patterns.contains(where: \.isBroad),
            let broad = try BroadPrefixScan.newestMatches(
                db, text, patterns: patterns, user: user, conversation: conversation,
                candidateLimit: Self.searchCandidateLimit
            )
        {
            found = broad
        } else if plan.walksBeforePlain {
            found = try walked()
        } else {
            found = SearchCandidates(
                candidates: try newestMatches(db, patterns.map(\.text), user, conversation), densities: []
            )
        }
        // Densities the scans measured (broad terms), else the plan's counts, else SearchRanking counts.
        let densities = found.densities.contains { $0 != nil } ? found.densities : plan.densities
        return try rank(db, text, patterns, SearchCandidates(candidates: found.candidates, densities: densities), limit)
    }

    /// The best `limit` of `found` by ``SearchRanking``, with their snippets.
    private static func rank(
        _ db: Database, _ text: SearchText, _ patterns: [PrefixExpansion.Pattern], _ found: SearchCandidates,
        _ limit: Int
    ) throws -> [SearchHit] {
        guard !found.candidates.isEmpty else { return [] }
        let ranking = try SearchRanking(
            db, text: text, patterns: patterns.map(\.text), candidateCount: found.candidates.count,
            densities: found.densities
        )
        let best = found.candidates
            .map { (rowNumber: $0.rowNumber, score: ranking.score($0.body)) }
            .sorted { ($0.score, $0.rowNumber) > ($1.score, $1.rowNumber) }
            .prefix(limit)
        let fetch = try db.cachedStatement(sql: "SELECT \(messageColumns) FROM message WHERE rowNumber = ?")
        return try best.compactMap { candidate in
            guard let row = try Row.fetchOne(fetch, arguments: [candidate.rowNumber]) else { return nil }
            let message = try Codec.message(row)
            return SearchHit(message: message, snippet: text.snippet(of: message.body))
        }
    }

    /// The newest ``searchCandidateLimit`` messages FTS5 finds for `patterns` (all of them, and `scopeFilter` if
    /// given: ``ScopeFilter``) that `user` may see.
    private static func newestMatches(
        _ db: Database, _ patterns: [String], _ user: UserID, _ conversation: ConversationID?,
        scopeFilter: String? = nil
    ) throws -> [(rowNumber: Int64, body: String)] {
        let statement = try newestMatchesStatement(
            db, patterns + (scopeFilter.map { [$0] } ?? []), user, conversation, limit: searchCandidateLimit
        )
        var candidates: [(rowNumber: Int64, body: String)] = []
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() { candidates.append((try row.decode(atIndex: 0), try row.decode(atIndex: 1))) }
        return candidates
    }

    /// The statement that reads, newest first, at most `limit` messages FTS5 finds for `patterns` (all of them)
    /// that `user` may see (in `conversation`, if given): their row numbers and bodies. The index holds only rows
    /// up to its mark.
    static func newestMatchesStatement(
        _ db: Database, _ patterns: [String], _ user: UserID, _ conversation: ConversationID?, limit: Int
    ) throws -> Statement {
        var arguments: StatementArguments = [patterns.joined(separator: " AND "), user.rawValue]
        var restriction = ""
        if let conversation {
            restriction = "AND m.conversationID = ?"
            arguments += [conversation.rawValue]
        }
        arguments += [limit]
        let statement = try db.cachedStatement(
            sql: """
                SELECT m.rowNumber, m.body FROM messageSearch
                JOIN message m ON m.rowNumber = messageSearch.rowid
                WHERE messageSearch MATCH ?
                    AND m.conversationID IN (SELECT conversationID FROM member WHERE userID = ?)
                    AND m.deletedAt IS NULL \(restriction)
                ORDER BY messageSearch.rowid DESC LIMIT ?
                """
        )
        statement.setUncheckedArguments(arguments)
        return statement
    }

    /// Hits among unindexed message rows, found by reading them: only when the index could not be brought up to
    /// date.
    private static func scan(
        _ db: Database,
        _ rows: ClosedRange<Int64>,
        _ text: SearchText,
        _ user: UserID,
        _ conversation: ConversationID?,
        _ limit: Int
    ) throws -> [SearchHit] {
        let statement = try db.cachedStatement(
            sql: """
                SELECT \(qualifiedMessageColumns) FROM message m
                WHERE m.rowNumber BETWEEN ? AND ? AND m.deletedAt IS NULL
                    AND m.conversationID IN (SELECT conversationID FROM member WHERE userID = ?)
                    AND (? IS NULL OR m.conversationID = ?)
                ORDER BY m.rowNumber DESC
                """
        )
        statement.setUncheckedArguments([
            rows.lowerBound, rows.upperBound, user.rawValue, conversation?.rawValue, conversation?.rawValue,
        ])
        var hits: [SearchHit] = []
        let cursor = try Row.fetchCursor(statement)
        while hits.count < limit, let row = try cursor.next() {
            let message = try Codec.message(row)
            if text.matches(SearchText.words(in: message.body)) {
                hits.append(SearchHit(message: message, snippet: text.snippet(of: message.body)))
            }
        }
        return hits
    }
}
