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

/// Typed shortcuts for every request. Each throws ``ChatKitCore/ChatError`` with the server's code when refused.
extension ChatClient {
    // MARK: Messages

    /// Sends a message through the outbox and waits until the server stores it.
    ///
    /// The message is queued as ``OutgoingMessage/State/pending`` (see ``outbox`` and ``outboxUpdates()``) and sent
    /// as soon as the client is connected, after the messages queued before it in the same conversation. If the
    /// connection drops before the answer, the client sends it again after reconnecting, with the same
    /// `clientMessageID`: the server stores a message once per sender and client message ID, so a resend returns
    /// the first message. What the caller sees:
    ///
    /// - Returns the stored message, however many reconnections it took.
    /// - Throws the server's ``ChatKitCore/ChatError`` when it refuses the message for good (`forbidden`,
    ///   `notFound`, `invalidArgument`, `conflict`, `limitExceeded` without a retry-after, or `storageFailure` or
    ///   `unavailable` ``Configuration/maximumSendAttempts`` times); the message stays in the outbox as
    ///   ``OutgoingMessage/State/failed``. A rate limit (`limitExceeded` with a retry-after) only delays it, and a
    ///   refusal for a login revoked while the message was on its way (`unauthenticated`) sends it again in the next
    ///   session (counted among the attempts).
    /// - Throws `.unavailable` when ``run()`` ends (or has ended) before the message is stored: it stays pending
    ///   and is sent when ``run()`` runs again. A run cancelled while another call of ``run()`` waits for it to end
    ///   (a view restarting the client) throws nothing here: the call waits for the new run.
    /// - Throws `CancellationError` when the calling task is cancelled; the message stays queued all the same
    ///   (it may already be on the wire).
    /// - Throws `.invalidArgument` at once, queueing nothing, when an identifier holds U+0000 (no server takes one).
    /// - Throws `.conflict` at once when a message in the outbox has this `clientMessageID` with another
    ///   conversation or text.
    ///
    /// Calling `send` again with the `clientMessageID` of a queued message waits for that message; with that of a
    /// failed message, queues it again (a retry you can await).
    ///
    /// - Parameters:
    ///   - body: The text.
    ///   - conversation: Where to post.
    ///   - clientMessageID: The idempotency key; by default a new one that grows with time
    ///     (``ChatKitCore/ClientMessageID/timeOrdered()``).
    ///   - replyTo: The message replied to.
    ///   - mentions: Mentioned users.
    ///   - attachments: Attachment metadata.
    /// - Returns: The stored message.
    public func send(
        _ body: String,
        to conversation: ConversationID,
        clientMessageID: ClientMessageID = .timeOrdered(),
        replyTo: MessageID? = nil,
        mentions: [UserID] = [],
        attachments: [Attachment] = []
    ) async throws -> Message {
        let send = try Self.sendRequest(
            body, to: conversation, clientMessageID: clientMessageID, replyTo: replyTo, mentions: mentions,
            attachments: attachments
        )
        return try await enqueue(send)
    }

    /// Puts a message in the outbox and returns at once; the client sends it as
    /// ``send(_:to:clientMessageID:replyTo:mentions:attachments:)`` does (in order within its conversation, again
    /// after reconnections), whether ``run()`` runs now or later.
    ///
    /// For a client that shows its outbox rather than awaiting each message: a terminal reading lines, say, whose
    /// next line must not wait for the last one to be stored. The stored message arrives as an event
    /// (``ChatKitCore/EventKind/messageCreated``), and ``outboxUpdates()`` tells it sent, or refused. With an
    /// ``Configuration/outboxStorage`` the message is saved before this returns (a failure to save shows in
    /// ``outboxStorageError``): on the calling thread, so with ``FileOutboxStorage``, which flushes the file to the
    /// disk, call it off the main actor in a UI app (a flush can take tens of milliseconds), as ``retry(_:)`` and
    /// ``discard(_:)`` too.
    ///
    /// - Returns: The message as queued (``OutgoingMessage/State/pending``), or as the outbox holds it when a message
    ///   with this client message ID was queued already.
    /// - Throws: ``ChatKitCore/ChatError`` `.invalidArgument`, queueing nothing, when an identifier holds U+0000;
    ///   `.conflict` when a queued message has this client message ID with another conversation or text.
    @discardableResult
    public func queue(
        _ body: String,
        to conversation: ConversationID,
        clientMessageID: ClientMessageID = .timeOrdered(),
        replyTo: MessageID? = nil,
        mentions: [UserID] = [],
        attachments: [Attachment] = []
    ) throws -> OutgoingMessage {
        try enqueueWithoutWaiting(
            try Self.sendRequest(
                body, to: conversation, clientMessageID: clientMessageID, replyTo: replyTo, mentions: mentions,
                attachments: attachments
            )
        )
    }

    /// The request for a message, refused when an identifier holds U+0000 (no server takes one: it would only wait
    /// in the outbox and fail).
    private static func sendRequest(
        _ body: String, to conversation: ConversationID, clientMessageID: ClientMessageID, replyTo: MessageID?,
        mentions: [UserID], attachments: [Attachment]
    ) throws(ChatError) -> ClientRequest.Send {
        let identifiers =
            [conversation.rawValue, clientMessageID.rawValue] + (replyTo.map { [$0.rawValue] } ?? [])
            + mentions.map(\.rawValue) + attachments.map(\.id.rawValue)
        guard identifiers.allSatisfy(ConversationID.isAcceptable) else {
            throw ChatError(.invalidArgument, "An identifier cannot contain the character U+0000; nothing was queued.")
        }
        return ClientRequest.Send(
            conversationID: conversation, clientMessageID: clientMessageID, body: body, replyTo: replyTo,
            mentions: mentions.isEmpty ? nil : mentions, attachments: attachments.isEmpty ? nil : attachments
        )
    }

    /// Replaces the body of one of your messages. An edit to the body it has (the same bytes: a retry) changes
    /// nothing and sends no `messageEdited` event.
    public func edit(_ message: MessageID, body: String) async throws -> Message {
        try required(\.message, of: try await request(.edit(.init(messageID: message, body: body))))
    }

    /// Deletes a message, leaving a tombstone.
    public func delete(_ message: MessageID) async throws -> Message {
        try required(\.message, of: try await request(.delete(.init(messageID: message))))
    }

    /// Adds a reaction.
    public func react(_ emoji: String, to message: MessageID) async throws -> Message {
        try required(\.message, of: try await request(.react(.init(messageID: message, emoji: emoji))))
    }

    /// Removes a reaction.
    public func unreact(_ emoji: String, from message: MessageID) async throws -> Message {
        try required(\.message, of: try await request(.unreact(.init(messageID: message, emoji: emoji))))
    }

    /// Marks messages up to `seq` as delivered to this user. The `markerUpdated` event reaches every member of a
    /// direct conversation or a group of up to 100 members, and only this user's devices in a channel or a larger
    /// group (others read it with ``markers(of:)``).
    public func markDelivered(_ conversation: ConversationID, upTo seq: Int64) async throws -> Marker {
        try first(\.markers, of: try await request(.markDelivered(.init(conversationID: conversation, seq: seq))))
    }

    /// Marks messages up to `seq` as read; the `markerUpdated` event reaches whom ``markDelivered(_:upTo:)``'s does.
    public func markRead(_ conversation: ConversationID, upTo seq: Int64) async throws -> Marker {
        try first(\.markers, of: try await request(.markRead(.init(conversationID: conversation, seq: seq))))
    }

    /// Starts (or refreshes) or stops this user's typing indicator. The other members see it in a direct
    /// conversation or a group of up to 100 members (the server's `typingMaxGroupSize`); in a channel or a larger
    /// group the request succeeds and nobody is shown it.
    public func setTyping(_ isTyping: Bool, in conversation: ConversationID) async throws {
        _ = try await request(.typing(.init(conversationID: conversation, isTyping: isTyping)))
    }

    // MARK: Conversations

    /// Creates (or finds) the direct conversation with `user`.
    public func createDirectConversation(with user: UserID) async throws -> Conversation {
        try required(\.conversation, of: try await request(.createConversation(.init(kind: .direct, memberIDs: [user]))))
    }

    /// Creates a group you own.
    ///
    /// `members` may name at most the server's ``ChatKitCore/ServerLimits/maxMembersPerRequest`` users (500 by
    /// default; the welcome of ``connected()`` says): add more with ``addMembers(_:to:role:)``, in lists of that
    /// size. A longer list throws ``ChatKitCore/ChatError`` `.limitExceeded`.
    ///
    /// - Parameter creationKey: The creation's idempotency key (``ChatKitCore/NewConversation/creationKey``). When
    ///   this throws `.unavailable` (the connection closed before the answer), the group may or may not exist:
    ///   call again with the same key, once connected, to get the group the first call made or to make it now.
    ///   `nil`: a new key, so that each call makes a group.
    public func createGroup(_ title: String, members: [UserID] = [], creationKey: String? = nil)
        async throws -> Conversation
    {
        let create = ClientRequest.CreateConversation(
            kind: .group, title: title, memberIDs: members, creationKey: creationKey ?? UUID().uuidString
        )
        return try required(\.conversation, of: try await request(.createConversation(create)))
    }

    /// Creates a channel you own. `members` is bounded as for ``createGroup(_:members:creationKey:)``.
    ///
    /// - Parameter creationKey: The creation's idempotency key, as for ``createGroup(_:members:creationKey:)``.
    public func createChannel(_ title: String, members: [UserID] = [], creationKey: String? = nil)
        async throws -> Conversation
    {
        let create = ClientRequest.CreateConversation(
            kind: .channel, title: title, memberIDs: members, creationKey: creationKey ?? UUID().uuidString
        )
        return try required(\.conversation, of: try await request(.createConversation(create)))
    }

    /// Adds members to a group or channel: at most the server's ``ChatKitCore/ServerLimits/maxMembersPerRequest``
    /// users (500 by default) at a time; a longer list throws ``ChatKitCore/ChatError`` `.limitExceeded`.
    public func addMembers(_ users: [UserID], to conversation: ConversationID, role: MemberRole = .member)
        async throws -> [Member]
    {
        let add = ClientRequest.AddMembers(conversationID: conversation, userIDs: users, role: role)
        return try required(\.members, of: try await request(.addMembers(add)))
    }

    /// Joins a channel.
    public func join(_ channel: ConversationID) async throws -> Member {
        try first(\.members, of: try await request(.join(.init(conversationID: channel))))
    }

    /// Leaves a group or channel.
    public func leave(_ conversation: ConversationID) async throws {
        _ = try await request(.leave(.init(conversationID: conversation)))
    }

    /// Removes a member.
    public func removeMember(_ user: UserID, from conversation: ConversationID) async throws {
        _ = try await request(.removeMember(.init(conversationID: conversation, userID: user)))
    }

    /// Changes a member's role.
    public func setRole(_ role: MemberRole, of user: UserID, in conversation: ConversationID) async throws -> Member {
        try first(\.members, of: try await request(.setRole(.init(conversationID: conversation, userID: user, role: role))))
    }

    /// Renames a group or channel.
    public func rename(_ conversation: ConversationID, to title: String) async throws -> Conversation {
        try required(\.conversation, of: try await request(.rename(.init(conversationID: conversation, title: title))))
    }

    /// A conversation's details.
    public func conversation(_ id: ConversationID) async throws -> Conversation {
        try required(\.conversation, of: try await request(.conversation(.init(conversationID: id))))
    }

    /// A conversation's members.
    public func members(of conversation: ConversationID) async throws -> [Member] {
        try required(\.members, of: try await request(.members(.init(conversationID: conversation))))
    }

    /// A conversation's markers (read receipts). In a channel or a group of more than 100 members, others' marker
    /// moves are not pushed live: ask again to show current receipts there.
    public func markers(of conversation: ConversationID) async throws -> [Marker] {
        try required(\.markers, of: try await request(.markers(.init(conversationID: conversation))))
    }

    /// All your conversations with last message and unread count, most recently active first, read a page at a
    /// time (``conversations(before:limit:)``).
    ///
    /// A conversation that becomes active while later pages are read moves ahead of them: when the list took more
    /// than one page, the first page is read again at the end and what it holds replaces what came before. A
    /// conversation left meanwhile is not listed if that page should have held it (it was as recently active as
    /// the page's last one, or the page holds them all).
    public func conversations() async throws -> [ConversationSummary] {
        var all: [ConversationSummary] = []
        var before: StreamPosition?
        var pages = 0
        while true {
            let page = try await conversations(before: before, limit: nil)
            pages += 1
            all += page.conversations
            guard page.hasMore, let last = page.conversations.last, last.activity < before ?? .init(rawValue: .max)
            else { break }
            before = last.activity
        }
        guard pages > 1 else { return all }
        let reread = try await conversations(before: nil, limit: nil)
        let newest = reread.conversations
        let renewed = Set(newest.map(\.conversation.id))
        // Activity only grows, so the page read again holds every conversation at or above its last one's: one read
        // before, at or above it, and missing from the page has been left (all of them, when nothing follows it).
        let floor = reread.hasMore ? newest.last?.activity ?? StreamPosition(rawValue: .max) : nil
        let older = all.filter { summary in
            guard let floor, !renewed.contains(summary.conversation.id) else { return false }
            return summary.activity < floor
        }
        return (newest + older).sorted { $0.activity > $1.activity }
    }

    /// A page of your conversations, most recently active first: those last active before `before` (the most
    /// recent when `nil`), at most `limit` (the server's page size when `nil`; a page of large last messages may
    /// hold fewer).
    ///
    /// - Returns: The conversations, and whether older ones remain: ask again with `before` set to the last one's
    ///   ``ChatKitCore/ConversationSummary/activity``.
    public func conversations(before: StreamPosition?, limit: Int? = nil) async throws -> ConversationPage {
        let result = try await request(.listConversations(.init(before: before, limit: limit)))
        let conversations = try required(\.conversations, of: result)
        return ConversationPage(conversations: conversations, hasMore: result.hasMore ?? false)
    }

    /// A page of history, ascending by seq.
    ///
    /// The server cuts a page of large messages to about half a megabyte, so a page may hold fewer than `limit`
    /// messages. Seqs have no gaps: older messages exist while the first one's seq is above 1.
    public func history(of conversation: ConversationID, before: Int64? = nil, after: Int64? = nil, limit: Int? = nil)
        async throws -> [Message]
    {
        let history = ClientRequest.History(conversationID: conversation, before: before, after: after, limit: limit)
        return try required(\.messages, of: try await request(.history(history)))
    }

    /// Your events after `cursor`.
    public func sync(after cursor: StreamPosition, limit: Int? = nil) async throws -> SyncPage {
        try required(\.page, of: try await request(.sync(.init(cursor: cursor, limit: limit))))
    }

    /// Messages you may read that contain every word of `query`.
    public func search(_ query: String, in conversation: ConversationID? = nil, limit: Int? = nil) async throws
        -> [SearchHit]
    {
        let search = ClientRequest.Search(query: query, conversationID: conversation, limit: limit)
        return try required(\.hits, of: try await request(.search(search)))
    }

    // MARK: Contacts and profiles

    /// Asks `user` to become a contact.
    public func requestContact(_ user: UserID) async throws -> Contact {
        try first(\.contacts, of: try await request(.requestContact(.init(userID: user))))
    }

    /// Accepts `user`'s contact request.
    public func acceptContact(_ user: UserID) async throws -> Contact {
        try first(\.contacts, of: try await request(.acceptContact(.init(userID: user))))
    }

    /// Declines `user`'s contact request.
    public func declineContact(_ user: UserID) async throws {
        _ = try await request(.declineContact(.init(userID: user)))
    }

    /// Removes `user` from your contacts.
    public func removeContact(_ user: UserID) async throws {
        _ = try await request(.removeContact(.init(userID: user)))
    }

    /// Your contact list.
    public func contacts() async throws -> [Contact] {
        try required(\.contacts, of: try await request(.listContacts(.init())))
    }

    /// The user with this username, or `nil` when there is none.
    public func findUser(username: String) async throws -> User? {
        try required(\.users, of: try await request(.findUser(.init(username: username)))).first
    }

    /// Profiles of the given users (yours when empty).
    public func profiles(_ users: [UserID] = []) async throws -> [User] {
        try required(\.users, of: try await request(.profiles(.init(userIDs: users))))
    }

    /// Changes your display name or status text.
    public func updateProfile(_ update: ProfileUpdate) async throws -> User {
        try first(\.users, of: try await request(.updateProfile(update)))
    }

    /// Checks the session is alive.
    public func ping() async throws {
        _ = try await request(.ping(.init()))
    }

    // MARK: Results

    private func required<Value>(_ field: KeyPath<RequestResult, Value?>, of result: RequestResult) throws -> Value {
        guard let value = result[keyPath: field] else {
            throw ChatError(.invalidArgument, "The server's result lacks a field this request returns.")
        }
        return value
    }

    private func first<Value>(_ field: KeyPath<RequestResult, [Value]?>, of result: RequestResult) throws -> Value {
        guard let value = try required(field, of: result).first else {
            throw ChatError(.invalidArgument, "The server's result lacks a field this request returns.")
        }
        return value
    }
}
