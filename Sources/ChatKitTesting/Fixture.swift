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

/// Shortcuts the conformance cases use to set a store up; also handy in adapter authors' own tests.
public struct StoreFixture: Sendable {
    /// The store under test.
    public let store: any ChatStore

    /// Wraps a store.
    public init(_ store: any ChatStore) { self.store = store }

    /// Creates a user named `name` (with a password hash `"hash-<name>"`).
    public func user(_ name: String) async throws -> UserID {
        try await store.createUser(NewUser(username: name, displayName: name.uppercased()), passwordHash: "hash-\(name)")
            .id
    }

    /// Creates users with the given names.
    public func users(_ names: String...) async throws -> [UserID] {
        var ids: [UserID] = []
        for name in names { ids.append(try await user(name)) }
        return ids
    }

    /// Creates `count` users named `prefix0`, `prefix1`, ….
    public func users(count: Int, prefix: String = "user") async throws -> [UserID] {
        var ids: [UserID] = []
        for index in 0..<count { ids.append(try await user("\(prefix)\(index)")) }
        return ids
    }

    /// Creates a group owned by `owner` with `members`.
    public func group(_ owner: UserID, _ members: [UserID], title: String = "Group") async throws -> ConversationID {
        try await store.createConversation(.group(title, createdBy: owner, members: members)).id
    }

    /// Creates a channel owned by `owner` with `members`.
    public func channel(_ owner: UserID, _ members: [UserID] = [], title: String = "Channel") async throws
        -> ConversationID
    {
        try await store.createConversation(.channel(title, createdBy: owner, members: members)).id
    }

    /// Creates (or finds) the direct conversation of two users.
    public func direct(_ user: UserID, _ other: UserID) async throws -> ConversationID {
        try await store.createConversation(.direct(between: user, and: other)).id
    }

    /// Sends a message.
    @discardableResult
    public func send(
        _ body: String,
        from sender: UserID,
        to conversation: ConversationID,
        clientMessageID: ClientMessageID = .random(),
        replyTo: MessageID? = nil
    ) async throws -> Message {
        try await store.append(
            NewMessage(
                conversationID: conversation,
                senderID: sender,
                clientMessageID: clientMessageID,
                body: body,
                replyTo: replyTo
            )
        )
    }

    /// Sends `count` messages `"<prefix> 1"`, `"<prefix> 2"`, … and returns them.
    @discardableResult
    public func send(count: Int, from sender: UserID, to conversation: ConversationID, prefix: String = "message")
        async throws -> [Message]
    {
        var messages: [Message] = []
        guard count > 0 else { return messages }
        for index in 1...count {
            messages.append(try await send("\(prefix) \(index)", from: sender, to: conversation))
        }
        return messages
    }

    /// Every event `user` may see after `cursor`, read in pages of `pageSize`.
    public func allEvents(for user: UserID, after cursor: StreamPosition = .start, pageSize: Int = 100) async throws
        -> [StoredEvent]
    {
        var events: [StoredEvent] = []
        var cursor = cursor
        while true {
            let page = try await store.events(for: user, after: cursor, limit: pageSize)
            events += page.events
            try check(page.events.count <= pageSize, "a sync page held \(page.events.count) events, limit \(pageSize)")
            guard page.hasMore else { return events }
            try check(page.cursor > cursor, "a sync page said hasMore but did not advance the cursor")
            cursor = page.cursor
        }
    }
}
