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

public import Foundation

/// A ``ChatStore`` that wraps another and changes only some of what it does: caching, auditing, metrics,
/// validation, encryption of what it can see, faults for tests.
///
/// Every requirement of ``ChatStore`` has a default here that forwards to ``base``; implement just the ones you
/// change. Your implementations replace the defaults (they are protocol requirements, so the engine calls yours):
///
/// ```swift
/// final class CountingStore: ChatStoreDecorator {
///     let base: any ChatStore
///     let appends = Atomic<Int>(0)
///     init(_ base: any ChatStore) { self.base = base }
///
///     func append(_ message: NewMessage) async throws -> Message {
///         let stored = try await base.append(message)
///         appends.add(1, ordering: .relaxed)
///         return stored
///     }
/// }
/// ```
///
/// ``MessageStore/append(contentsOf:)`` is the exception: its default calls your ``MessageStore/append(_:)`` for
/// each message in turn, so that an `append(_:)` of yours sees every message the server appends. Implement it to
/// pass batches on to ``base`` (and keep the base store's batched commits).
///
/// Requirements with defaults derived from others (``ConversationStore/memberships(of:)`` and
/// ``ConversationStore/conversations(of:before:limit:)`` from ``ConversationStore/conversations(of:)``,
/// ``ConversationStore/membersSharingPresence(with:maxGroupSize:)`` from the memberships and members,
/// ``ConversationStore/memberCount(of:)`` and ``ConversationStore/isMember(_:of:)`` from
/// ``ConversationStore/memberIDs(of:at:)``,
/// ``SyncStore/resumePosition(after:)`` from
/// ``SyncStore/latestPosition()``) are forwarded to ``base`` as they are: a decorator that changes the one must
/// change the other to match (the conformance suite checks that memberships and pages agree with the conversation
/// list).
///
/// A decorator must keep the base store's promises: run the conformance suite (`ChatKitTesting`'s
/// `ChatStoreConformance`) against it, as `Examples/CustomStore` does.
public protocol ChatStoreDecorator: ChatStore {
    /// The store that does the work.
    var base: any ChatStore { get }
}

extension ChatStoreDecorator {
    public func createUser(_ user: NewUser, passwordHash: String?) async throws -> User {
        try await base.createUser(user, passwordHash: passwordHash)
    }
    public func user(_ id: UserID) async throws -> User? { try await base.user(id) }
    public func user(username: String) async throws -> User? { try await base.user(username: username) }
    public func users(_ ids: [UserID]) async throws -> [User] { try await base.users(ids) }
    public func updateProfile(of user: UserID, _ update: ProfileUpdate) async throws -> User {
        try await base.updateProfile(of: user, update)
    }
    public func credentials(of user: UserID) async throws -> Credentials? { try await base.credentials(of: user) }
    public func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials {
        try await base.setPasswordHash(passwordHash, of: user)
    }

    public func requestContact(from user: UserID, to other: UserID) async throws -> Contact {
        try await base.requestContact(from: user, to: other)
    }
    public func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact {
        try await base.acceptContact(user, from: requester)
    }
    public func declineContact(_ user: UserID, from requester: UserID) async throws {
        try await base.declineContact(user, from: requester)
    }
    public func removeContact(_ user: UserID, _ other: UserID) async throws { try await base.removeContact(user, other) }
    public func contacts(of user: UserID) async throws -> [Contact] { try await base.contacts(of: user) }

    public func createConversation(_ conversation: NewConversation) async throws -> Conversation {
        try await base.createConversation(conversation)
    }
    public func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation {
        try await base.conversation(id, as: user)
    }
    public func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        try await base.members(of: id, as: user)
    }
    public func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
        try await base.memberIDs(of: id, at: position)
    }

    public func memberCount(of id: ConversationID) async throws -> Int {
        try await base.memberCount(of: id)
    }
    public func isMember(_ user: UserID, of id: ConversationID) async throws -> Bool {
        try await base.isMember(user, of: id)
    }
    public func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID) async throws
        -> [Member]
    {
        try await base.addMembers(users, to: id, role: role, by: actor)
    }
    public func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member {
        try await base.joinChannel(id, user: user)
    }
    public func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws {
        try await base.removeMember(user, from: id, by: actor)
    }
    public func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws -> Member {
        try await base.setRole(role, of: user, in: id, by: actor)
    }
    public func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws -> Conversation {
        try await base.renameConversation(id, to: title, by: actor)
    }
    public func conversations(of user: UserID) async throws -> [ConversationSummary] {
        try await base.conversations(of: user)
    }

    public func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
        -> [ConversationSummary]
    {
        try await base.conversations(of: user, before: before, limit: limit)
    }
    public func memberships(of user: UserID) async throws -> [ConversationMembership] {
        try await base.memberships(of: user)
    }
    public func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
        try await base.membersSharingPresence(with: user, maxGroupSize: maxGroupSize)
    }

    public func append(_ message: NewMessage) async throws -> Message { try await base.append(message) }
    public func message(_ id: MessageID, as user: UserID) async throws -> Message { try await base.message(id, as: user) }
    public func messages(in id: ConversationID, _ query: HistoryQuery, as user: UserID) async throws -> [Message] {
        try await base.messages(in: id, query, as: user)
    }
    public func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        try await base.editMessage(id, body: body, by: user)
    }
    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        try await base.deleteMessage(id, by: user)
    }
    public func addReaction(_ emoji: String, to id: MessageID, by user: UserID) async throws -> Message {
        try await base.addReaction(emoji, to: id, by: user)
    }
    public func removeReaction(_ emoji: String, from id: MessageID, by user: UserID) async throws -> Message {
        try await base.removeReaction(emoji, from: id, by: user)
    }

    public func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await base.markDelivered(id, upTo: seq, by: user)
    }
    public func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        try await base.markRead(id, upTo: seq, by: user)
    }
    public func markers(of id: ConversationID, as user: UserID) async throws -> [Marker] {
        try await base.markers(of: id, as: user)
    }

    public func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
        try await base.events(for: user, after: cursor, limit: limit)
    }
    public func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent] {
        try await base.allEvents(after: cursor, limit: limit)
    }
    public func latestPosition() async throws -> StreamPosition { try await base.latestPosition() }
    public func resumePosition(after cursor: StreamPosition) async throws -> StreamPosition {
        try await base.resumePosition(after: cursor)
    }

    public func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        try await base.search(query, as: user, in: conversation, limit: limit)
    }

    public func createSession(_ session: AuthSession) async throws { try await base.createSession(session) }
    public func session(_ id: SessionID) async throws -> AuthSession? { try await base.session(id) }
    public func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date) async throws
        -> AuthSession
    {
        try await base.rotateRefreshToken(of: id, from: oldHash, to: newHash, expiresAt: expiresAt)
    }
    public func revokeSession(_ id: SessionID) async throws { try await base.revokeSession(id) }
    public func revokeSessions(of user: UserID) async throws { try await base.revokeSessions(of: user) }
    public func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int {
        try await base.deleteSessions(endedBefore: date, limit: limit)
    }
}
