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

/// What a ``StoredEvent`` records.
public struct EventKind: NamedChoice {
    public let rawValue: String
    /// Creates a kind from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A message was posted; ``StoredEvent/message`` holds it.
    public static let messageCreated = EventKind(rawValue: "messageCreated")
    /// A message's body was edited; ``StoredEvent/message`` holds the edited message.
    public static let messageEdited = EventKind(rawValue: "messageEdited")
    /// A message was deleted; ``StoredEvent/message`` holds the tombstone.
    public static let messageDeleted = EventKind(rawValue: "messageDeleted")
    /// A reaction was added; ``StoredEvent/message`` holds the message with its reactions, ``StoredEvent/reaction``
    /// the new one.
    public static let reactionAdded = EventKind(rawValue: "reactionAdded")
    /// A reaction was removed; ``StoredEvent/message`` holds the message, ``StoredEvent/reaction`` the removed one.
    public static let reactionRemoved = EventKind(rawValue: "reactionRemoved")
    /// A member's delivered or read marker moved; ``StoredEvent/marker`` holds it.
    public static let markerUpdated = EventKind(rawValue: "markerUpdated")
    /// A conversation was created; ``StoredEvent/conversation`` holds it and ``StoredEvent/members`` its members.
    public static let conversationCreated = EventKind(rawValue: "conversationCreated")
    /// A conversation was renamed; ``StoredEvent/conversation`` holds it.
    public static let conversationUpdated = EventKind(rawValue: "conversationUpdated")
    /// Users joined or were added; ``StoredEvent/members`` holds them.
    public static let membersAdded = EventKind(rawValue: "membersAdded")
    /// A member left or was removed; ``StoredEvent/members`` holds the former membership. The removed user receives
    /// this event, and nothing of the conversation after it.
    public static let memberRemoved = EventKind(rawValue: "memberRemoved")
    /// A member's role changed; ``StoredEvent/members`` holds the updated membership.
    public static let memberRoleChanged = EventKind(rawValue: "memberRoleChanged")
    /// A contact relation changed; ``StoredEvent/contactPair`` names the two users (sent to both).
    public static let contactChanged = EventKind(rawValue: "contactChanged")
    /// A user's profile changed; ``StoredEvent/user`` holds it (sent to the user and their contacts).
    public static let profileUpdated = EventKind(rawValue: "profileUpdated")

    public static var allKnown: [EventKind] {
        [
            .messageCreated, .messageEdited, .messageDeleted, .reactionAdded, .reactionRemoved, .markerUpdated,
            .conversationCreated, .conversationUpdated, .membersAdded, .memberRemoved, .memberRoleChanged,
            .contactChanged, .profileUpdated,
        ]
    }
}

/// Something that happened and was stored, at a ``StreamPosition`` in the store-wide event stream.
///
/// Events of a conversation (``conversationID`` set) are visible to the users who were members when the event
/// happened; a removed member still sees their own ``EventKind/memberRemoved``. Events with an ``audience`` are
/// visible to the users in it alone: events without a conversation (contacts, profiles), and a marker move in a
/// channel or a large group (its user's). Exactly the fields the ``kind`` names are set.
public struct StoredEvent: Hashable, Sendable, Codable {
    /// The fields, in a box that copies share (copy on write; see ``ImmutableBox``).
    private var storage: ImmutableBox<StoredEventFields>

    /// Where the event stands in the store-wide stream.
    public var position: StreamPosition {
        _read { yield storage.value.position }
        set { update { $0.position = newValue } }
    }
    /// What happened.
    public var kind: EventKind {
        _read { yield storage.value.kind }
        set { update { $0.kind = newValue } }
    }
    /// The conversation it happened in, for conversation events.
    public var conversationID: ConversationID? {
        _read { yield storage.value.conversationID }
        set { update { $0.conversationID = newValue } }
    }
    /// The user who caused it.
    public var actorID: UserID {
        _read { yield storage.value.actorID }
        set { update { $0.actorID = newValue } }
    }
    /// When it was stored.
    public var createdAt: Date {
        _read { yield storage.value.createdAt }
        set { update { $0.createdAt = newValue } }
    }
    /// The message, for message and reaction events.
    public var message: Message? {
        _read { yield storage.value.message }
        set { update { $0.message = newValue } }
    }
    /// The reaction added or removed.
    public var reaction: Reaction? {
        _read { yield storage.value.reaction }
        set { update { $0.reaction = newValue } }
    }
    /// The marker, for ``EventKind/markerUpdated``.
    public var marker: Marker? {
        _read { yield storage.value.marker }
        set { update { $0.marker = newValue } }
    }
    /// The conversation, for ``EventKind/conversationCreated`` and ``EventKind/conversationUpdated``.
    public var conversation: Conversation? {
        _read { yield storage.value.conversation }
        set { update { $0.conversation = newValue } }
    }
    /// The memberships added, removed or changed.
    public var members: [Member]? {
        _read { yield storage.value.members }
        set { update { $0.members = newValue } }
    }
    /// The two users of a ``EventKind/contactChanged``: `[actor, other user]`, in that order.
    public var contactPair: [UserID]? {
        _read { yield storage.value.contactPair }
        set { update { $0.contactPair = newValue } }
    }
    /// The profile, for ``EventKind/profileUpdated``.
    public var user: User? {
        _read { yield storage.value.user }
        set { update { $0.user = newValue } }
    }
    /// The users who may see the event, when not the conversation's members: for events outside conversations,
    /// and for a marker move seen by its user alone (``MembershipRules/markerAudience(_:memberCount:user:)``).
    public var audience: [UserID]? {
        _read { yield storage.value.audience }
        set { update { $0.audience = newValue } }
    }

    /// Creates an event value. Stores create events; other code reads them.
    public init(
        position: StreamPosition,
        kind: EventKind,
        conversationID: ConversationID? = nil,
        actorID: UserID,
        createdAt: Date,
        message: Message? = nil,
        reaction: Reaction? = nil,
        marker: Marker? = nil,
        conversation: Conversation? = nil,
        members: [Member]? = nil,
        contactPair: [UserID]? = nil,
        user: User? = nil,
        audience: [UserID]? = nil
    ) {
        storage = ImmutableBox(
            StoredEventFields(
                position: position, kind: kind, conversationID: conversationID, actorID: actorID,
                createdAt: createdAt, message: message, reaction: reaction, marker: marker,
                conversation: conversation, members: members, contactPair: contactPair, user: user,
                audience: audience
            )
        )
    }

    private mutating func update(_ change: (inout StoredEventFields) -> Void) {
        var fields = storage.value
        change(&fields)
        storage = ImmutableBox(fields)
    }

    /// Decodes the fields under their names.
    public init(from decoder: any Decoder) throws {
        storage = ImmutableBox(try StoredEventFields(from: decoder))
    }

    /// Encodes the fields under their names.
    public func encode(to encoder: any Encoder) throws {
        try storage.value.encode(to: encoder)
    }

    /// Whether every field is equal.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.value == rhs.storage.value
    }

    /// Hashes every field.
    public func hash(into hasher: inout Hasher) {
        storage.value.hash(into: &hasher)
    }
}

/// ``StoredEvent``'s stored fields; their names are its coding keys.
private struct StoredEventFields: Hashable, Sendable, Codable {
    var position: StreamPosition
    var kind: EventKind
    var conversationID: ConversationID?
    var actorID: UserID
    var createdAt: Date
    var message: Message?
    var reaction: Reaction?
    var marker: Marker?
    var conversation: Conversation?
    var members: [Member]?
    var contactPair: [UserID]?
    var user: User?
    var audience: [UserID]?
}

/// One page of a user's event stream (see ``SyncStore/events(for:after:limit:)``).
public struct SyncPage: Hashable, Sendable, Codable {
    /// The events, in ascending position order, all after the requested cursor.
    public var events: [StoredEvent]
    /// The cursor to pass next time: the position of the last event returned, or the requested cursor when the
    /// page is empty.
    public var cursor: StreamPosition
    /// Whether more events are available after ``cursor`` right now.
    public var hasMore: Bool

    /// Creates a page value.
    public init(events: [StoredEvent], cursor: StreamPosition, hasMore: Bool) {
        self.events = events
        self.cursor = cursor
        self.hasMore = hasMore
    }
}

/// A message found by a search, with a highlighted excerpt.
public struct SearchHit: Hashable, Sendable, Codable {
    /// The message found.
    public var message: Message
    /// An excerpt of the body with the matching words marked, if the store produces one. Stores mark matches
    /// with `[` and `]` unless documented otherwise.
    public var snippet: String?

    /// Creates a hit value.
    public init(message: Message, snippet: String? = nil) {
        self.message = message
        self.snippet = snippet
    }
}
