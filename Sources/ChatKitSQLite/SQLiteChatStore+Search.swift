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
    /// Words are tokenized by FTS5's `unicode61` tokenizer with diacritics removed, so "cafe" finds "Café"; a
    /// query word ending in `*` matches as a prefix. Only messages of conversations `user` is a member of now
    /// are found; tombstones have no words. Among the newest 2000 matches, hits come best first by bm25 (ties
    /// newest first), each with a snippet of about 12 words around the matches, marked with `[` and `]`.
    public func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try MembershipRules.validateLimit(limit)
        let terms = SearchText(query: query).terms
        let pattern = terms.map { term in
            "\"" + term.word.replacing("\"", with: "\"\"") + "\"" + (term.isPrefix ? " *" : "")
        }.joined(separator: " ")
        return try await read { db in
            if let conversation { _ = try Lookups.memberConversation(db, conversation, user) }
            guard !terms.isEmpty, limit > 0 else { return [] }
            var arguments: StatementArguments = [pattern, user.rawValue]
            var restriction = ""
            if let conversation {
                restriction = "AND m.conversationID = ?"
                arguments += [conversation.rawValue]
            }
            arguments += [Self.searchCandidateLimit]
            let candidates = try Row.fetchAll(
                db,
                sql: """
                    SELECT messageSearch.rowid, bm25(messageSearch) FROM messageSearch
                    JOIN message m ON m.rowNumber = messageSearch.rowid
                    WHERE messageSearch MATCH ?
                        AND m.conversationID IN (SELECT conversationID FROM member WHERE userID = ?)
                        AND m.deletedAt IS NULL \(restriction)
                    ORDER BY messageSearch.rowid DESC LIMIT ?
                    """,
                arguments: arguments
            ).map { (rowNumber: $0[0] as Int64, score: $0[1] as Double) }
            let best = candidates.sorted { ($0.score, -$0.rowNumber) < ($1.score, -$1.rowNumber) }.prefix(limit)
            let decoder = Codec.makeDecoder()
            return try best.compactMap { candidate in
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(
                            sql: """
                                SELECT \(qualifiedMessageColumns), snippet(messageSearch, 0, '[', ']', '…', 12)
                                FROM messageSearch JOIN message m ON m.rowNumber = messageSearch.rowid
                                WHERE messageSearch MATCH ? AND messageSearch.rowid = ?
                                """
                        ),
                        arguments: [pattern, candidate.rowNumber]
                    )
                else { return nil }
                return SearchHit(message: try Codec.message(row, decoder), snippet: row[14])
            }
        }
    }
}
