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
import Synchronization

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
        /// The conversation list shows each conversation's last message as it was appended (a copy kept in the
        /// conversation), not as it is now: edits and deletions do not reach it.
        case copiesLastMessage
        /// An addition of several users adds them one by one and stops at an unknown one, keeping the others.
        case addsMembersOneByOne
        /// A search of every conversation takes `limit` hits from each one.
        case limitsSearchPerConversation
        /// A message refused after its conversation was found (a bad reply, a reused client ID) uses up a seq.
        case burnsSeqsOnRefusals
        /// Markers start at 0 for members who joined after messages were sent, in `markers(of:)`.
        case forgetsMarkersOfNewcomers
        /// A group's or channel's creation event leaves its creator out of the members.
        case leavesCreatorOutOfCreation
        /// Search hands its query to an engine that takes `OR`, `NEAR`, quotes and the like as operators (and
        /// fails on them).
        case takesQueryWordsAsOperators
        /// Search ranks only the newest 100 matches.
        case ranksNewest100
        /// Declining a contact removes it, even one accepted.
        case declinesAcceptedContacts
        /// An edit to an empty body is refused, also for a message with attachments.
        case refusesEmptyEdits
        /// A role change by a non-member of a group says forbidden, revealing that it exists.
        case revealsRoleChanges
        /// A read of unread messages records two events: delivered, then read.
        case marksDeliveryAndReadApart
    }

    let base: any ChatStore
    let fault: Fault
    /// What ``Fault/copiesLastMessage`` shows: each conversation's last appended message, as appended.
    private let appended = Mutex<[ConversationID: Message]>([:])
    /// Seqs ``Fault/burnsSeqsOnRefusals`` has used up, per conversation.
    private let burnt = Mutex<[ConversationID: Int64]>([:])
    /// Who moved a marker, for ``Fault/forgetsMarkersOfNewcomers``.
    private let marked = Mutex<Set<String>>([])

    init(_ fault: Fault, base: any ChatStore = InMemoryChatStore()) {
        self.fault = fault
        self.base = base
    }

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
        var stored: Message
        do {
            stored = try await revealing { [message] in try await base.append(message) }
        } catch let error as ChatError where [.invalidArgument, .conflict].contains(error.code) {
            if fault == .burnsSeqsOnRefusals { burnt.withLock { $0[message.conversationID, default: 0] += 1 } }
            throw error
        }
        if fault == .skipsSeqs { stored.seq *= 2 }
        if fault == .burnsSeqsOnRefusals { stored.seq += burnt.withLock { $0[message.conversationID] ?? 0 } }
        let copy = stored
        appended.withLock { $0[copy.conversationID] = copy }
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
        var page = try await base.events(for: user, after: fault == .ignoresSyncCursor ? .start : cursor, limit: limit)
        page.events = page.events.map(withFaultyCreation)
        return page
    }

    func allEvents(after cursor: StreamPosition, limit: Int) async throws -> [StoredEvent] {
        try await base.allEvents(after: cursor, limit: limit).map(withFaultyCreation)
    }

    private func withFaultyCreation(_ event: StoredEvent) -> StoredEvent {
        guard fault == .leavesCreatorOutOfCreation, event.kind == .conversationCreated,
            event.conversation?.kind != .direct
        else { return event }
        var event = event
        event.members = event.members?.filter { $0.role != .owner }
        return event
    }

    func conversations(of user: UserID) async throws -> [ConversationSummary] {
        try await base.conversations(of: user).map(withFaultyLastMessage)
    }

    func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws -> [ConversationSummary] {
        try await base.conversations(of: user, before: before, limit: limit).map(withFaultyLastMessage)
    }

    private func withFaultyLastMessage(_ summary: ConversationSummary) -> ConversationSummary {
        guard fault == .copiesLastMessage else { return summary }
        var summary = summary
        summary.lastMessage = appended.withLock { $0[summary.conversation.id] } ?? summary.lastMessage
        return summary
    }

    func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID) async throws
        -> [Member]
    {
        guard fault == .addsMembersOneByOne else {
            return try await base.addMembers(users, to: id, role: role, by: actor)
        }
        var added: [Member] = []
        for user in users { added += try await base.addMembers([user], to: id, role: role, by: actor) }
        return added
    }

    func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        _ = marked.withLock { $0.insert("\(id.rawValue) \(user.rawValue)") }
        return try await base.markDelivered(id, upTo: seq, by: user)
    }

    func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker {
        _ = marked.withLock { $0.insert("\(id.rawValue) \(user.rawValue)") }
        if fault == .marksDeliveryAndReadApart { _ = try await base.markDelivered(id, upTo: seq, by: user) }
        return try await base.markRead(id, upTo: seq, by: user)
    }

    func declineContact(_ user: UserID, from requester: UserID) async throws {
        guard fault == .declinesAcceptedContacts,
            try await base.contacts(of: user).contains(where: { $0.userID == requester && $0.state == .accepted })
        else { return try await base.declineContact(user, from: requester) }
        try await base.removeContact(user, requester)
    }

    func editMessage(_ id: MessageID, body: String, by user: UserID) async throws -> Message {
        if fault == .refusesEmptyEdits, body.isEmpty { throw ChatError(.invalidArgument, "A message needs a body.") }
        return try await base.editMessage(id, body: body, by: user)
    }

    func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws -> Member {
        guard fault == .revealsRoleChanges else { return try await base.setRole(role, of: user, in: id, by: actor) }
        return try await revealingAlways { try await base.setRole(role, of: user, in: id, by: actor) }
    }

    /// Says forbidden where the store says not found (``Fault/revealsRoleChanges``).
    private func revealingAlways<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ChatError where error.code == .notFound {
            throw ChatError(.forbidden, "Only owners change roles.")
        }
    }

    func markers(of id: ConversationID, as user: UserID) async throws -> [Marker] {
        let markers = try await base.markers(of: id, as: user)
        guard fault == .forgetsMarkersOfNewcomers else { return markers }
        let marked = self.marked.withLock { $0 }
        return markers.map { marker in
            guard !marked.contains("\(id.rawValue) \(marker.userID.rawValue)") else { return marker }
            var marker = marker
            (marker.deliveredSeq, marker.readSeq) = (0, 0)
            return marker
        }
    }

    func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
        -> [SearchHit]
    {
        let operators: Set<Substring> = ["OR", "NEAR", "NOT", "AND"]
        if fault == .takesQueryWordsAsOperators,
            query.split(separator: " ").contains(where: { operators.contains($0) || $0.contains("\"") })
        {
            throw ChatError(.storageFailure, "fts5: syntax error near \(query)")
        }
        if fault == .ranksNewest100 {
            return Array(try await base.search(query, as: user, in: conversation, limit: min(limit, 100)))
        }
        if fault == .limitsSearchPerConversation, conversation == nil {
            var hits: [SearchHit] = []
            for summary in try await base.conversations(of: user) {
                hits += try await base.search(query, as: user, in: summary.conversation.id, limit: limit)
            }
            return hits
        }
        return try await revealing {
            try await base.search(query, as: user, in: fault == .searchesEverywhere ? nil : conversation, limit: limit)
        }
    }
}
