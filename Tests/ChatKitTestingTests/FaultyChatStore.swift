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

/// A deliberately broken ``ChatStore``: an ``InMemoryChatStore`` with one fault injected, to prove that the
/// conformance suite notices when a store breaks a promise.
final class FaultyChatStore: ChatStoreDecorator {
    /// Which promise the store breaks.
    enum Fault: String, CaseIterable, Sendable {
        /// Appends ignore the client message ID, so resends create duplicates.
        case duplicatesResends
        /// Appends report seqs that skip numbers.
        case skipsSeqs
        /// History pages come back newest first.
        case reversesHistory
        /// Sync ignores the cursor and always starts from the beginning.
        case ignoresSyncCursor
        /// Refusals to non-members say forbidden instead of not found, revealing that a conversation exists.
        case revealsConversations
        /// Search ignores the conversation restriction.
        case searchesEverywhere
        /// Deleting a message forgets to record anything (the delete is a no-op).
        case ignoresDeletes
    }

    let base: any ChatStore = InMemoryChatStore()
    let fault: Fault

    init(_ fault: Fault) { self.fault = fault }

    private func revealing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ChatError where fault == .revealsConversations && error.code == .notFound {
            throw ChatError(.forbidden, "You are not a member of this conversation.")
        }
    }

    func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation {
        try await revealing { try await base.conversation(id, as: user) }
    }
    func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        try await revealing { try await base.members(of: id, as: user) }
    }

    func append(_ message: NewMessage) async throws -> Message {
        var message = message
        if fault == .duplicatesResends { message.clientMessageID = .random() }
        var stored = try await revealing { [message] in try await base.append(message) }
        if fault == .skipsSeqs { stored.seq *= 2 }
        return stored
    }
    func message(_ id: MessageID, as user: UserID) async throws -> Message {
        try await revealing { try await base.message(id, as: user) }
    }
    func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        let page = try await revealing { try await base.messages(in: id, query, as: user) }
        return fault == .reversesHistory ? page.reversed() : page
    }
    func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        guard fault == .ignoresDeletes else { return try await base.deleteMessage(id, by: user) }
        var message = try await base.message(id, as: user)
        message.deletedAt = message.createdAt
        message.body = ""
        return message
    }

    func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try await base.events(for: user, after: fault == .ignoresSyncCursor ? .start : cursor, limit: limit)
    }

    func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try await revealing {
            try await base.search(query, as: user, in: fault == .searchesEverywhere ? nil : conversation, limit: limit)
        }
    }
}
