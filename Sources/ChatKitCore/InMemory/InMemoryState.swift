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

import Foundation

/// The whole state of an ``InMemoryChatStore``, mutated only under its lock.
struct InMemoryState {
    /// One conversation with everything that hangs off it.
    ///
    /// A class, changed in place under the store's lock: as a struct in a dictionary, any copy of it alive while
    /// it changed (a `let record = ...` read before a write) made the change copy the conversation's whole
    /// history, so each append cost time in proportion to the messages before it.
    final class ConversationRecord {
        /// Its place in ``InMemoryState/records``: conversations are numbered 0, 1, 2, … as they are created.
        let number: Int
        var conversation: Conversation
        var members: [UserID: Member] = [:]
        /// Messages by seq: `messages[seq - 1]`.
        var messages = ChunkedArray<Message>()
        /// Folded words of each message's current body, parallel to `messages`: `nil` until a search needs them
        /// (most messages are never searched; splitting each body as it was appended was 2 % of the CPU of the pairs
        /// benchmark).
        var words: [[String]?] = []
        var markers: [UserID: Marker] = [:]
        /// Where this conversation's events are in the store's `log`, in position order. Indices, not copies: when
        /// a stored event was about 550 bytes inline, keeping each twice made every append write (and, as the
        /// arrays doubled, copy) twice as much fresh memory.
        var eventIndices: [Int] = []
        /// Where each message's `messageCreated` event is in the store's `log`, parallel to `messages`.
        var creationIndices: [Int] = []
        /// Where the events holding a copy of a changed message are in the store's `log` (its creation, once kept
        /// whole, and each edit and reaction), by the message's index in `messages`: a deletion replaces the text
        /// in each (``InMemoryState/replace(_:at:kind:actor:at:reaction:)``).
        var copyIndices: [Int: [Int]] = [:]
        /// Positions from which (inclusive) to which (inclusive, `nil` while still a member) each user was a member.
        var periods: [UserID: [(from: Int64, to: Int64?)]] = [:]
        /// Position of the newest message, or of the creation: orders conversation lists.
        var activityPosition: Int64

        init(number: Int, conversation: Conversation, activityPosition: Int64) {
            self.number = number
            self.conversation = conversation
            self.activityPosition = activityPosition
        }

        var ownerCount: Int { members.values.count { $0.role == .owner } }

        /// The folded words of the message at `index` of `messages`, split and kept on first use.
        func words(at index: Int) -> [String] {
            if let known = words[index] { return known }
            let split = SearchText.words(in: messages[index].body)
            words[index] = split
            return split
        }

        func role(of user: UserID) -> MemberRole? { members[user]?.role }

        func wasMember(_ user: UserID, at position: Int64) -> Bool {
            periods[user]?.contains { $0.from <= position && ($0.to ?? .max) >= position } ?? false
        }

        func marker(of user: UserID) -> Marker {
            markers[user] ?? Marker(conversationID: conversation.id, userID: user)
        }

        /// Others' messages, not deleted, after both the read marker and the user's own last message: newest
        /// first, up to the limit (see ``ConversationSummary/unreadCount``).
        func unreadCount(for user: UserID) -> Int {
            let readSeq = Int(marker(of: user).readSeq)
            guard readSeq < messages.count else { return 0 }
            var count = 0
            for message in messages[readSeq...].reversed() {
                if message.senderID == user { break }
                guard !message.isDeleted else { continue }
                count += 1
                if count == ConversationSummary.unreadCountLimit { break }
            }
            return count
        }
    }

    /// A sender's client message ID. The ID is compared and hashed byte for byte, as a database compares it:
    /// Swift's `String` equality would take "\u{C5}" and "A\u{30A}" for one ID, and the second message for a
    /// resend of the first.
    struct ClientKey: Hashable {
        var sender: UserID
        var clientMessageID: ClientMessageID

        static func == (lhs: ClientKey, rhs: ClientKey) -> Bool {
            lhs.sender == rhs.sender && Self.sameBytes(lhs.clientMessageID, rhs.clientMessageID)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(sender)
            var id = clientMessageID.rawValue
            id.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }

        /// Whether two client message IDs have the same UTF-8 bytes.
        static func sameBytes(_ a: ClientMessageID, _ b: ClientMessageID) -> Bool {
            a.rawValue.utf8.elementsEqual(b.rawValue.utf8)
        }
    }

    struct CreationKey: Hashable {
        let creator: UserID
        let key: [UInt8]
    }

    struct UserPair: Hashable {
        let low: UserID
        let high: UserID
        init(_ a: UserID, _ b: UserID) { (low, high) = a < b ? (a, b) : (b, a) }
    }

    var users: [UserID: User] = [:]
    /// Usernames are compared byte for byte (Swift's `String` equality would merge canonically equal names).
    var userIDsByName: [[UInt8]: UserID] = [:]
    var credentials: [UserID: Credentials] = [:]
    var sessions: [SessionID: AuthSession] = [:]
    /// `contacts[a][b]`: the relation from `a`'s side.
    var contacts: [UserID: [UserID: Contact]] = [:]
    var conversations: [ConversationID: ConversationRecord] = [:]
    /// The same records by number (``ConversationRecord/number``), for ``MessageIndex``'s locations.
    var records: [ConversationRecord] = []
    var directConversations: [UserPair: ConversationID] = [:]
    /// Groups and channels by their creator and ``NewConversation/creationKey`` (its UTF-8 bytes, compared as
    /// SQLite compares text).
    var conversationsByCreationKey: [CreationKey: ConversationID] = [:]
    /// Where each message lives, by its ID.
    var messageLocations = MessageIndex<MessageID>()
    /// Where each message lives, by its sender and client message ID (idempotent resends).
    var messagesByClientKey = MessageIndex<ClientKey>()
    /// Conversations each user was ever a member of (sync must still deliver their removal).
    var conversationsEverJoined: [UserID: Set<ConversationID>] = [:]
    /// Conversation-less events (contacts, profiles) by user of their audience.
    var userEvents: [UserID: [StoredEvent]] = [:]
    /// Every stored event in position order, for ``InMemoryChatStore/allEvents(after:limit:)``.
    var log = ChunkedArray<InMemoryLogEntry>()
    var lastPosition: Int64 = 0

    mutating func nextPosition() -> StreamPosition {
        lastPosition += 1
        return StreamPosition(lastPosition)
    }

    /// Records an event in a conversation and returns it. An event with an audience (a marker move its user alone
    /// sees) is its audience's, not the members': sync reads it there, once.
    @discardableResult
    mutating func recordEvent(_ event: StoredEvent, in id: ConversationID) -> StoredEvent {
        guard event.audience == nil else {
            recordUserEvent(event)
            return event
        }
        conversations[id]?.eventIndices.append(log.count)
        log.append(.stored(event))
        return event
    }

    /// The events of `record` after `cursor`, in position order. The sequence is lazy and reads the records (classes)
    /// as it goes: iterate it under the store's lock only.
    func events(of record: ConversationRecord, after cursor: StreamPosition) -> some Sequence<StoredEvent> {
        let log = log
        let first = record.eventIndices.firstIndex(after: cursor) { log[$0].position }
        return record.eventIndices[first...].lazy.map { log[$0].event }
    }

    /// Records an event for its audience (events outside conversations, and those ``recordEvent(_:in:)`` passes on).
    mutating func recordUserEvent(_ event: StoredEvent) {
        log.append(.stored(event))
        for user in event.audience ?? [] {
            userEvents[user, default: []].append(event)
        }
    }

    func record(_ id: ConversationID) throws -> ConversationRecord {
        guard let record = conversations[id] else {
            throw ChatError(.notFound, "No such conversation, or you are not a member of it.")
        }
        return record
    }

    /// The record of a conversation `user` is a member of.
    func memberRecord(_ id: ConversationID, _ user: UserID) throws -> ConversationRecord {
        let record = try record(id)
        try MembershipRules.checkIsMember(record.role(of: user))
        return record
    }

    /// A message of a conversation `user` is a member of, its index in the conversation's messages, and the
    /// user's role there.
    func visibleMessage(_ id: MessageID, _ user: UserID) throws -> (message: Message, index: Int, role: MemberRole) {
        guard let location = location(of: id), case let record = records[location.conversation],
            let role = record.role(of: user)
        else {
            throw ChatError(.notFound, "No such message, or you are not a member of its conversation.")
        }
        let index = Int(location.seq) - 1
        return (record.messages[index], index, role)
    }

    /// Where the message with this ID is, if there is one.
    func location(of id: MessageID) -> MessageLocation? {
        messageLocations.location(of: id) { message(at: $0).id == id }
    }

    /// The message at a location of ``messageLocations`` or ``messagesByClientKey``.
    func message(at location: MessageLocation) -> Message {
        records[location.conversation].messages[Int(location.seq) - 1]
    }

    func requireUser(_ id: UserID) throws {
        guard users[id] != nil else { throw ChatError(.notFound, "No user with ID '\(id)'.") }
    }

    func contact(_ user: UserID, _ other: UserID) -> Contact? { contacts[user]?[other] }

    mutating func setContact(_ user: UserID, _ other: UserID, _ contact: Contact?) {
        contacts[user, default: [:]][other] = contact
    }

    /// Adds a membership period starting at `position` for a user who just joined.
    mutating func startMembership(_ member: Member, at position: StreamPosition) {
        conversations[member.conversationID]?.members[member.userID] = member
        // What was sent before they joined is neither unread nor waiting for delivery (ConversationStore).
        if let record = conversations[member.conversationID], !record.messages.isEmpty {
            var marker = record.marker(of: member.userID)
            marker.readSeq = max(marker.readSeq, Int64(record.messages.count))
            marker.deliveredSeq = max(marker.deliveredSeq, marker.readSeq)
            record.markers[member.userID] = marker
        }
        conversations[member.conversationID]?.periods[member.userID, default: []].append((position.rawValue, nil))
        conversationsEverJoined[member.userID, default: []].insert(member.conversationID)
    }

    /// Closes the open membership period of a user who just left.
    mutating func endMembership(of user: UserID, in id: ConversationID, at position: StreamPosition) {
        conversations[id]?.members[user] = nil
        guard var periods = conversations[id]?.periods[user], let last = periods.indices.last else { return }
        periods[last].to = position.rawValue
        conversations[id]?.periods[user] = periods
    }
}
