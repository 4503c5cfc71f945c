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

/// Full-text search over messages. Part of ``ChatStore``.
public protocol SearchStore: Sendable {
    /// Messages `user` may read that contain every word of `query`.
    ///
    /// Words are compared ignoring case and diacritics ("cafe" finds "Café"); a word of the query matches a whole
    /// word of the body or, when the query word ends with `*`, a word it begins. Only current members see a
    /// conversation's messages; deleted messages are never found and edited ones are found by their new body.
    /// Results come best match first as the store ranks them. A store may rank only a bounded number of the newest
    /// matches, at least 1,000, to keep searches of a common word fast at
    /// millions of messages: older matches past that bound are then not found, whatever the limit
    /// (`SQLiteChatStore` ranks the newest 2,000; the in-memory store ranks every match).
    ///
    /// - Parameters:
    ///   - query: The words to find. A query without words finds nothing.
    ///   - user: Who searches.
    ///   - conversation: Restricts the search to one conversation, or `nil` for all of `user`'s conversations.
    ///   - limit: At most this many hits.
    /// - Throws: ``ChatError`` `.notFound` if `conversation` is given and `user` is not a member of it;
    ///   `.invalidArgument` for a negative limit.
    func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
}
