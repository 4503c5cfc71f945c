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
import Synchronization

/// A complete ``ChatStore`` that keeps everything in memory.
///
/// It is safe to use from many tasks at once (one lock guards the state; every operation holds it briefly and
/// never across an `await`), fast enough to back a small server, and the reference the conformance suite is
/// written against. Nothing survives the process: use `SQLiteChatStore` for durability.
///
/// Search has no index: a search reads the messages of the user's conversations, newest first, under the lock,
/// until it has `limit` hits in each (every message for a word nobody wrote), so every other operation waits for it.
/// That suits tests and small servers; at hundreds of thousands of messages, searches stall the server. Its hits
/// come newest first, not ranked by relevance (`SQLiteChatStore` ranks with BM25): the top hit of a query with more
/// matches than `limit` may differ between the two, as the contract allows.
///
/// ```swift
/// let store = InMemoryChatStore()
/// let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
/// let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil)
/// let chat = try await store.createConversation(.direct(between: alice.id, and: bob.id))
/// let message = try await store.append(NewMessage(conversationID: chat.id, senderID: alice.id, body: "Hi"))
/// // message.seq == 1
/// ```
public final class InMemoryChatStore: ChatStore {
    /// Settings of an in-memory store.
    public struct Configuration: Sendable {
        /// The clock timestamps come from (millisecond precision is kept). Defaults to the system time.
        public var now: @Sendable () -> Date

        /// Creates a configuration.
        public init(now: @escaping @Sendable () -> Date = { Date() }) {
            self.now = now
        }
    }

    let state = Mutex(InMemoryState())
    /// Message IDs: time-ordered UUIDs, made without a system call (a random ID read the kernel's generator while
    /// holding the store's lock, 3 % of a server's CPU in the pairs benchmark).
    let messageIDs = TimeOrderedUUIDGenerator()
    let configuration: Configuration

    /// Creates an empty store.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The current time, truncated to whole milliseconds as durable stores keep it.
    func now() -> Date {
        let milliseconds = (configuration.now().timeIntervalSince1970 * 1000).rounded(.down)
        return Date(timeIntervalSince1970: milliseconds / 1000)
    }

    /// Runs `body` with exclusive access to the state.
    func withState<Result: Sendable>(_ body: (inout InMemoryState) throws -> Result) throws -> Result {
        try state.withLock { state in try body(&state) }
    }

    // MARK: UserStore

    public func createUser(_ user: NewUser, passwordHash: String?) async throws -> User {
        try TextRules.validate(user)
        return try withState { state in
            let now = now()
            guard state.userIDsByName[Array(user.username.utf8)] == nil else {
                throw ChatError(.conflict, "The username is already taken.")
            }
            let created = User(
                id: .random(),
                username: user.username,
                displayName: user.displayName.isEmpty ? user.username : user.displayName,
                statusText: user.statusText,
                createdAt: now
            )
            state.users[created.id] = created
            state.userIDsByName[Array(created.username.utf8)] = created.id
            if let passwordHash {
                state.credentials[created.id] = Credentials(userID: created.id, passwordHash: passwordHash, updatedAt: now)
            }
            return created
        }
    }

    public func user(_ id: UserID) async throws -> User? {
        try withState { $0.users[id] }
    }

    public func user(username: String) async throws -> User? {
        try withState { state in state.userIDsByName[Array(username.utf8)].flatMap { state.users[$0] } }
    }

    public func users(_ ids: [UserID]) async throws -> [User] {
        try withState { state in Set(ids).compactMap { state.users[$0] } }
    }

    public func updateProfile(of user: UserID, _ update: ProfileUpdate) async throws -> User {
        try TextRules.validate(update)
        return try withState { state in
            let now = now()
            guard var profile = state.users[user] else { throw ChatError(.notFound, "No user with ID '\(user)'.") }
            if let displayName = update.displayName { profile.displayName = displayName }
            if update.clearsStatusText {
                profile.statusText = nil
            } else if let statusText = update.statusText {
                profile.statusText = statusText
            }
            state.users[user] = profile
            let contacts = (state.contacts[user] ?? [:]).values.filter { $0.state == .accepted }.map(\.userID)
            state.recordUserEvent(
                StoredEvent(
                    position: state.nextPosition(), kind: .profileUpdated, actorID: user, createdAt: now,
                    user: profile, audience: [user] + contacts.sorted()
                )
            )
            return profile
        }
    }

    public func credentials(of user: UserID) async throws -> Credentials? {
        try withState { $0.credentials[user] }
    }

    public func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials {
        return try withState { state in
            let now = now()
            try state.requireUser(user)
            let version = (state.credentials[user]?.version ?? 0) + 1
            let credentials = Credentials(userID: user, passwordHash: passwordHash, version: version, updatedAt: now)
            state.credentials[user] = credentials
            return credentials
        }
    }

    // MARK: ContactStore

    public func requestContact(from user: UserID, to other: UserID) async throws -> Contact {
        guard user != other else { throw ChatError(.invalidArgument, "A user cannot be their own contact.") }
        return try withState { state in
            let now = now()
            try state.requireUser(user)
            try state.requireUser(other)
            if let existing = state.contact(user, other), existing.state != .incoming {
                return existing
            }
            // A request in the other direction is accepted by asking back.
            let accepting = state.contact(user, other)?.state == .incoming
            let mine = Contact(userID: other, state: accepting ? .accepted : .outgoing, since: now)
            let theirs = Contact(userID: user, state: accepting ? .accepted : .incoming, since: now)
            state.setContact(user, other, mine)
            state.setContact(other, user, theirs)
            state.recordContactEvent(actor: user, other: other, at: now)
            return mine
        }
    }

    public func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact {
        return try withState { state in
            let now = now()
            guard let existing = state.contact(user, requester), existing.state != .outgoing else {
                throw ChatError(.notFound, "There is no contact request from that user.")
            }
            if existing.state == .accepted { return existing }
            let mine = Contact(userID: requester, state: .accepted, since: now)
            state.setContact(user, requester, mine)
            state.setContact(requester, user, Contact(userID: user, state: .accepted, since: now))
            state.recordContactEvent(actor: user, other: requester, at: now)
            return mine
        }
    }

    public func declineContact(_ user: UserID, from requester: UserID) async throws {
        try withState { state in
            let now = now()
            guard state.contact(user, requester)?.state == .incoming else {
                throw ChatError(.notFound, "There is no pending contact request from that user.")
            }
            state.setContact(user, requester, nil)
            state.setContact(requester, user, nil)
            state.recordContactEvent(actor: user, other: requester, at: now)
        }
    }

    public func removeContact(_ user: UserID, _ other: UserID) async throws {
        try withState { state in
            let now = now()
            guard state.contact(user, other) != nil else {
                throw ChatError(.notFound, "That user is not in the contact list.")
            }
            state.setContact(user, other, nil)
            state.setContact(other, user, nil)
            state.recordContactEvent(actor: user, other: other, at: now)
        }
    }

    public func contacts(of user: UserID) async throws -> [Contact] {
        try withState { state in (state.contacts[user] ?? [:]).values.sorted { $0.userID < $1.userID } }
    }
}

extension InMemoryState {
    mutating func recordContactEvent(actor: UserID, other: UserID, at date: Date) {
        recordUserEvent(
            StoredEvent(
                position: nextPosition(), kind: .contactChanged, actorID: actor, createdAt: date,
                contactPair: [actor, other], audience: [actor, other]
            )
        )
    }
}
