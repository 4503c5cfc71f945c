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
final class FaultyChatStore: ChatStore {
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

    let base = InMemoryChatStore()
    let fault: Fault

    init(_ fault: Fault) { self.fault = fault }

    private func revealing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ChatError where fault == .revealsConversations && error.code == .notFound {
            throw ChatError(.forbidden, "You are not a member of this conversation.")
        }
    }

    func createUser(_ user: NewUser, passwordHash: String?) async throws -> User {
        try await base.createUser(user, passwordHash: passwordHash)
    }
    func user(_ id: UserID) async throws -> User? { try await base.user(id) }
    func user(username: String) async throws -> User? { try await base.user(username: username) }
    func users(_ ids: [UserID]) async throws -> [User] { try await base.users(ids) }
    func updateProfile(of user: UserID, _ update: ProfileUpdate) async throws -> User {
        try await base.updateProfile(of: user, update)
    }
    func credentials(of user: UserID) async throws -> Credentials? { try await base.credentials(of: user) }
    func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials {
        try await base.setPasswordHash(passwordHash, of: user)
    }

    func requestContact(from user: UserID, to other: UserID) async throws -> Contact {
        try await base.requestContact(from: user, to: other)
    }
    func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact {
        try await base.acceptContact(user, from: requester)
    }
    func declineContact(_ user: UserID, from requester: UserID) async throws {
        try await base.declineContact(user, from: requester)
    }
    func removeContact(_ user: UserID, _ other: UserID) async throws { try await base.removeContact(user, other) }
    func contacts(of user: UserID) async throws -> [Contact] { try await base.contacts(of: user) }

    func createConversation(_ conversation: NewConversation) async throws -> Conversation {
        try await base.createConversation(conversation)
    }
    func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation {
        try await revealing { try await base.conversation(id, as: user) }
    }
    func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        try await revealing { try await base.members(of: id, as: user) }
    }
    func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
        try await base.memberIDs(of: id, at: position)
    }
    func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID) async throws
        -> [Member]
    {
        try await base.addMembers(users, to: id, role: role, by: actor)
    }
    func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member {
        try await base.joinChannel(id, user: user)
    }
    func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws {
        try await base.removeMember(user, from: id, by: actor)
    }
    func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws -> Member {
        try await base.setRole(role, of: user, in: id, by: actor)
    }
    func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws -> Conversation {
        try await base.renameConversation(id, to: title, by: actor)
    }
    func conversations(of user: UserID) async throws -> [ConversationSummary] {
        try await base.conversations(of: user)
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
    func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        try await base.editMessage(id, body: body, by: user)
    }
    func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        guard fault == .ignoresDeletes else { return try await base.deleteMessage(id, by: user) }
        var message = try await base.message(id, as: user)
        message.deletedAt = message.createdAt
        message.body = ""
        return message
    }
    func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message {
        try await base.addReaction(emoji, to: id, by: user)
    }
    func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        try await base.removeReaction(emoji, from: id, by: user)
    }

    func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await base.markDelivered(id, upTo: seq, by: user)
    }
    func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await base.markRead(id, upTo: seq, by: user)
    }
    func markers(of id: ConversationID, as user: UserID) async throws -> [Marker] {
        try await base.markers(of: id, as: user)
    }

    func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try await base.events(for: user, after: fault == .ignoresSyncCursor ? .start : cursor, limit: limit)
    }
    func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent] {
        try await base.allEvents(after: cursor, limit: limit)
    }
    func latestPosition() async throws -> StreamPosition { try await base.latestPosition() }

    func createSession(_ session: AuthSession) async throws { try await base.createSession(session) }
    func session(_ id: SessionID) async throws -> AuthSession? { try await base.session(id) }
    func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date) async throws
        -> AuthSession
    {
        try await base.rotateRefreshToken(of: id, from: oldHash, to: newHash, expiresAt: expiresAt)
    }
    func revokeSession(_ id: SessionID) async throws { try await base.revokeSession(id) }
    func revokeSessions(of user: UserID) async throws { try await base.revokeSessions(of: user) }

    func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try await revealing {
            try await base.search(query, as: user, in: fault == .searchesEverywhere ? nil : conversation, limit: limit)
        }
    }
}
