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

/// One of the two stores a reference comparison calls, with the IDs it handed out, in the order they were created
/// (the `n`th of each list names the same thing in both stores).
struct ComparedSide: Sendable {
    let store: any ChatStore
    var users: [UserID] = []
    var conversations: [ConversationID] = []
    var messages: [MessageID] = []
    /// Every event's position, oldest first.
    var positions: [StreamPosition] = []

    init(_ store: any ChatStore) { self.store = store }

    /// What an operation returned, encoded as JSON with this store's IDs, and the IDs it created or returned
    /// that the comparison may not know yet.
    struct Performed: Sendable {
        var result: Result<Data, any Error>
        var users: [UserID] = []
        var conversations: [ConversationID] = []
        /// The messages, each with its place in the operation's list (0 for a single append).
        var messages: [(index: Int, message: Message)] = []
    }

    /// Calls the store as `operation` says.
    func perform(_ operation: StoreOperation) async -> Performed {
        do {
            return try await performing(operation)
        } catch {
            return Performed(result: .failure(error))
        }
    }

    // The cases follow `StoreOperation`'s order.
    private func performing(_ operation: StoreOperation) async throws -> Performed {
        switch operation {
        case .createUser(let username):
            let user = try await store.createUser(NewUser(username: username, displayName: username), passwordHash: "h")
            return Performed(result: encoded(user), users: [user.id])
        case .updateProfile(let index, let update):
            return Performed(result: encoded(try await store.updateProfile(of: user(index), update)))
        case .setPassword(let index):
            return Performed(result: encoded(try await store.setPasswordHash("h2", of: user(index))))
        case .requestContact(let from, let to):
            return Performed(result: encoded(try await store.requestContact(from: user(from), to: user(to))))
        case .acceptContact(let index, let from):
            return Performed(result: encoded(try await store.acceptContact(user(index), from: user(from))))
        case .declineContact(let index, let from):
            try await store.declineContact(user(index), from: user(from))
            return Performed(result: encoded(true))
        case .removeContact(let index, let other):
            try await store.removeContact(user(index), user(other))
            return Performed(result: encoded(true))
        case .createConversation(let kind, let creator, let members, let title, let creationKey):
            let conversation = try await store.createConversation(
                NewConversation(
                    kind: kind, title: title, createdBy: user(creator), memberIDs: members.map(user),
                    creationKey: creationKey
                )
            )
            return Performed(result: encoded(conversation), conversations: [conversation.id])
        case .addMembers(let indices, let index, let role, let actor):
            let members = try await store.addMembers(
                indices.map(user), to: conversation(index), role: role, by: user(actor)
            )
            return Performed(result: encoded(members))
        case .joinChannel(let index, let member):
            return Performed(result: encoded(try await store.joinChannel(conversation(index), user: user(member))))
        case .removeMember(let member, let index, let actor):
            try await store.removeMember(user(member), from: conversation(index), by: user(actor))
            return Performed(result: encoded(true))
        case .setRole(let role, let member, let index, let actor):
            let changed = try await store.setRole(role, of: user(member), in: conversation(index), by: user(actor))
            return Performed(result: encoded(changed))
        case .rename(let index, let title, let actor):
            let renamed = try await store.renameConversation(conversation(index), to: title, by: user(actor))
            return Performed(result: encoded(renamed))
        case .append(let message):
            let appended = try await store.append(newMessage(message))
            return Performed(result: encoded(appended), messages: [(0, appended)])
        case .appendBatch(let messages):
            let outcomes = await store.append(contentsOf: messages.map(newMessage))
            let items = outcomes.map { outcome in
                switch outcome {
                case .success(let message): BatchItem(message: message, error: nil)
                case .failure(let error): BatchItem(message: nil, error: ComparedOutcome.describe(error))
                }
            }
            let appended = items.enumerated().compactMap { index, item in item.message.map { (index, $0) } }
            return Performed(result: encoded(items), messages: appended)
        case .edit(let index, let body, let actor):
            return Performed(result: encoded(try await store.editMessage(message(index), body: body, by: user(actor))))
        case .delete(let index, let actor):
            return Performed(result: encoded(try await store.deleteMessage(message(index), by: user(actor))))
        case .addReaction(let emoji, let index, let actor):
            return Performed(result: encoded(try await store.addReaction(emoji, to: message(index), by: user(actor))))
        case .removeReaction(let emoji, let index, let actor):
            let changed = try await store.removeReaction(emoji, from: message(index), by: user(actor))
            return Performed(result: encoded(changed))
        case .markDelivered(let index, let seq, let actor):
            let marker = try await store.markDelivered(conversation(index), upTo: seq, by: user(actor))
            return Performed(result: encoded(marker))
        case .markRead(let index, let seq, let actor):
            let marker = try await store.markRead(conversation(index), upTo: seq, by: user(actor))
            return Performed(result: encoded(marker))
        case .createSession(let index, let owner, let lifetime, let credentialsVersion):
            let session = AuthSession(
                id: Self.sessionID(index), userID: user(owner), refreshTokenHash: "hash-0",
                createdAt: Self.sessionsBegin, expiresAt: Self.sessionsBegin.addingTimeInterval(Double(lifetime)),
                credentialsVersion: credentialsVersion
            )
            try await store.createSession(session)
            return Performed(result: encoded(true))
        case .rotate(let index, let from, let to):
            let rotated = try await store.rotateRefreshToken(
                of: Self.sessionID(index), from: from, to: to, expiresAt: Self.sessionsBegin.addingTimeInterval(86_400)
            )
            return Performed(result: encoded(rotated))
        case .revokeSession(let index):
            try await store.revokeSession(Self.sessionID(index))
            return Performed(result: encoded(true))
        case .revokeSessions(let owner):
            try await store.revokeSessions(of: user(owner))
            return Performed(result: encoded(true))
        default:
            return try await reading(operation)
        }
    }

    private func reading(_ operation: StoreOperation) async throws -> Performed {
        switch operation {
        case .user(let index):
            return Performed(result: encoded(try await store.user(user(index))))
        case .userNamed(let username):
            return Performed(result: encoded(try await store.user(username: username)))
        case .users(let indices):
            return Performed(result: encoded(try await store.users(indices.map(user))))
        case .credentials(let index):
            return Performed(result: encoded(try await store.credentials(of: user(index))))
        case .contacts(let index):
            return Performed(result: encoded(try await store.contacts(of: user(index))))
        case .conversation(let index, let reader):
            return Performed(result: encoded(try await store.conversation(conversation(index), as: user(reader))))
        case .members(let index, let reader):
            return Performed(result: encoded(try await store.members(of: conversation(index), as: user(reader))))
        case .memberIDs(let index, let event):
            let ids = try await store.memberIDs(of: conversation(index), at: event.map { positions[$0] })
            return Performed(result: encoded(ids))
        case .memberCount(let index):
            return Performed(result: encoded(try await store.memberCount(of: conversation(index))))
        case .isMember(let member, let index):
            return Performed(result: encoded(try await store.isMember(user(member), of: conversation(index))))
        case .conversations(let index):
            return Performed(result: encoded(try await store.conversations(of: user(index))))
        case .conversationPage(let index, let event, let limit):
            let page = try await store.conversations(
                of: user(index), before: event.map { positions[$0] }, limit: limit
            )
            return Performed(result: encoded(page))
        case .memberships(let index):
            let memberships = try await store.memberships(of: user(index)).map {
                MembershipItem(conversationID: $0.conversationID, kind: $0.kind, memberCount: $0.memberCount)
            }
            return Performed(result: encoded(memberships))
        case .membersSharingPresence(let index, let maxGroupSize):
            let users = try await store.membersSharingPresence(with: user(index), maxGroupSize: maxGroupSize)
            return Performed(result: encoded(Array(users)))
        case .message(let index, let reader):
            return Performed(result: encoded(try await store.message(message(index), as: user(reader))))
        case .history(let index, let query, let reader):
            let page = try await store.messages(in: conversation(index), query, as: user(reader))
            return Performed(result: encoded(page))
        case .markers(let index, let reader):
            return Performed(result: encoded(try await store.markers(of: conversation(index), as: user(reader))))
        case .events(let index, let event, let limit):
            let page = try await store.events(for: user(index), after: position(after: event), limit: limit)
            return Performed(result: encoded(page))
        case .allEvents(let event, let limit):
            return Performed(result: encoded(try await store.allEvents(after: position(after: event), limit: limit)))
        case .latestPosition:
            return Performed(result: encoded(PositionItem(position: try await store.latestPosition())))
        case .resumePosition(let event):
            let position = try await store.resumePosition(after: position(after: event))
            return Performed(result: encoded(PositionItem(position: position)))
        case .session(let index):
            return Performed(result: encoded(try await store.session(Self.sessionID(index))))
        case .search(let query, let reader, let index, let limit):
            let hits = try await store.search(query, as: user(reader), in: index.map(conversation), limit: limit)
            // Ranks and snippets are each store's own: the comparison asks for the same messages.
            return Performed(result: encoded(hits.map(\.message)))
        default:
            preconditionFailure("\(operation) is not a read")
        }
    }

    /// The ID of the `index`th login session (the caller's choice, as `AuthService` chooses them).
    static func sessionID(_ index: Int) -> SessionID { SessionID(rawValue: "session-\(index)") }

    /// When the comparison's sessions begin (its clock's start).
    static let sessionsBegin = Date(timeIntervalSince1970: 1_780_000_000)

    /// The `index`th user, or one that does not exist.
    private func user(_ index: Int) -> UserID {
        index < users.count ? users[index] : UserID(rawValue: "no-such-user")
    }

    private func conversation(_ index: Int) -> ConversationID {
        index < conversations.count ? conversations[index] : ConversationID(rawValue: "no-such-conversation")
    }

    private func message(_ index: Int) -> MessageID {
        index < messages.count ? messages[index] : MessageID(rawValue: "no-such-message")
    }

    /// The position of the `index`th event, or the start.
    private func position(after index: Int?) -> StreamPosition {
        index.map { positions[$0] } ?? .start
    }

    private func newMessage(_ message: OperationMessage) -> NewMessage {
        NewMessage(
            conversationID: conversation(message.conversation), senderID: user(message.sender),
            clientMessageID: ClientMessageID(rawValue: message.clientMessageID), body: message.body,
            replyTo: message.replyTo.map(self.message), mentions: message.mentions.map(user)
        )
    }

    private func encoded<Value: Encodable>(_ value: Value) -> Result<Data, any Error> {
        Result { try ComparedOutcome.encoder.encode(value) }
    }
}

/// One outcome of `append(contentsOf:)`.
private struct BatchItem: Codable {
    var message: Message?
    var error: String?
}

/// A ``ChatKitCore/ConversationMembership``, encoded.
private struct MembershipItem: Codable {
    var conversationID: ConversationID
    var kind: ConversationKind
    var memberCount: Int
}

/// A position returned alone, under a name the comparison maps positions by.
private struct PositionItem: Codable {
    var position: StreamPosition
}
