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

/// A custom ``ChatKitCore/ChatStore``: any store, plus an audit trail of the changes that matter to an
/// administrator — who created, renamed or edited what, who joined a channel, who changed whose membership or role,
/// and every refused attempt, with the refusal's code.
///
/// It is built on ``ChatKitCore/ChatStoreDecorator``, so it implements only what it changes; everything else goes
/// straight to the base store. Its test runs ChatKit's whole conformance suite against it, which is how you prove
/// an adapter of your own keeps every promise of the protocol.
///
/// The trail never holds message bodies or password hashes: only who, what, on which object, and the outcome.
public final class AuditedChatStore: ChatStoreDecorator {
    public let base: any ChatStore
    private let record: @Sendable (AuditRecord) async -> Void

    /// Wraps a store.
    ///
    /// - Parameters:
    ///   - base: The store that keeps the data.
    ///   - record: Receives each audit record once the change succeeded or was refused; write it wherever your
    ///     audit trail lives (a log, a table, a queue). The store waits for it, so keep it quick.
    public init(_ base: any ChatStore, record: @escaping @Sendable (AuditRecord) async -> Void) {
        self.base = base
        self.record = record
    }

    /// Passes a batch of appends (a client's pipelined sends) on whole, so that the base store commits it together;
    /// without this, ``ChatKitCore/MessageStore``'s default would append the messages one at a time. Appends are
    /// not audited.
    public func append(contentsOf messages: [NewMessage]) async -> [Result<Message, any Error>] {
        await base.append(contentsOf: messages)
    }

    public func createConversation(_ conversation: NewConversation) async throws -> Conversation {
        try await audited(conversation.createdBy, "createConversation", target: { $0?.id.rawValue ?? "" }) {
            try await base.createConversation(conversation)
        }
    }

    public func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID)
        async throws -> [Member]
    {
        let detail = "\(users.map(\.rawValue).joined(separator: ",")) as \(role)"
        return try await audited(actor, "addMembers", target: { _ in id.rawValue }, detail: detail) {
            try await base.addMembers(users, to: id, role: role, by: actor)
        }
    }

    public func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member {
        try await audited(user, "joinChannel", target: { _ in id.rawValue }) {
            try await base.joinChannel(id, user: user)
        }
    }

    public func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws {
        try await audited(actor, "removeMember", target: { _ in id.rawValue }, detail: user.rawValue) {
            try await base.removeMember(user, from: id, by: actor)
        }
    }

    public func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws
        -> Member
    {
        try await audited(actor, "setRole", target: { _ in id.rawValue }, detail: "\(user.rawValue) to \(role)") {
            try await base.setRole(role, of: user, in: id, by: actor)
        }
    }

    public func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws
        -> Conversation
    {
        try await audited(actor, "renameConversation", target: { _ in id.rawValue }) {
            try await base.renameConversation(id, to: title, by: actor)
        }
    }

    public func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        try await audited(user, "editMessage", target: { _ in id.rawValue }) {
            try await base.editMessage(id, body: body, by: user)
        }
    }

    public func deleteMessage(_ id: MessageID, by user: UserID) async throws -> Message {
        try await audited(user, "deleteMessage", target: { _ in id.rawValue }) {
            try await base.deleteMessage(id, by: user)
        }
    }

    public func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials {
        try await audited(user, "setPassword", target: { _ in user.rawValue }) {
            try await base.setPasswordHash(passwordHash, of: user)
        }
    }

    public func revokeSessions(of user: UserID) async throws {
        try await audited(user, "revokeSessions", target: { _ in user.rawValue }) {
            try await base.revokeSessions(of: user)
        }
    }

    /// Runs a change and records its outcome: the target it names on success, the error code on refusal.
    private func audited<Result>(
        _ actor: UserID,
        _ action: String,
        target: (Result?) -> String,
        detail: String? = nil,
        _ change: () async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await change()
            await record(
                AuditRecord(at: Date(), actor: actor, action: action, target: target(result), detail: detail, outcome: nil)
            )
            return result
        } catch let error as ChatError {
            await record(
                AuditRecord(at: Date(), actor: actor, action: action, target: target(nil), detail: detail, outcome: error.code)
            )
            throw error
        }
    }
}
