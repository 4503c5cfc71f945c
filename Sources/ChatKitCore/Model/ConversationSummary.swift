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

/// A row of a user's conversation list: the conversation, the user's place in it, and what is new.
public struct ConversationSummary: Hashable, Sendable, Codable {
    /// The conversation.
    public var conversation: Conversation
    /// The user's role in it.
    public var role: MemberRole
    /// The newest message (possibly a tombstone), or `nil` while there is none.
    public var lastMessage: Message?
    /// The user's delivered and read markers.
    public var marker: Marker
    /// Messages others sent, not deleted, after both the user's read marker and the user's own last message
    /// (deleted or not: a reply reads what it answers, from any of the user's devices), counted up to
    /// ``unreadCountLimit``: that value means "that many or more".
    public var unreadCount: Int
    /// How many members the conversation has.
    public var memberCount: Int
    /// The other member of a direct conversation, who names it in a list (no request for its members needed);
    /// `nil` for groups and channels, and from a server older than the field.
    public var otherMemberID: UserID?
    /// When the conversation was last active, in commit order: the stream position of its newest message, or of its
    /// creation while it has none. Lists are ordered by it, newest first, and a page of a list ends where the next
    /// one starts: pass the last summary's activity as `before`.
    public var activity: StreamPosition

    /// Where unread counts stop (1,000). Counting every unread message of a busy channel nobody reads would cost a
    /// store a read per message at every listing; apps show such counts as "999+" or "1k+" anyway.
    public static let unreadCountLimit = 1_000

    /// Creates a summary value.
    public init(
        conversation: Conversation,
        role: MemberRole,
        lastMessage: Message?,
        marker: Marker,
        unreadCount: Int,
        memberCount: Int,
        activity: StreamPosition,
        otherMemberID: UserID? = nil
    ) {
        self.conversation = conversation
        self.role = role
        self.lastMessage = lastMessage
        self.marker = marker
        self.unreadCount = unreadCount
        self.memberCount = memberCount
        self.activity = activity
        self.otherMemberID = otherMemberID
    }
}

extension ConversationSummary {
    /// Decodes a summary; one from a server older than ``activity`` (without the field) decodes with
    /// ``StreamPosition/start``, which pages nothing before it, and one older than ``otherMemberID`` without it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            conversation: try container.decode(Conversation.self, forKey: .conversation),
            role: try container.decode(MemberRole.self, forKey: .role),
            lastMessage: try container.decodeIfPresent(Message.self, forKey: .lastMessage),
            marker: try container.decode(Marker.self, forKey: .marker),
            unreadCount: try container.decode(Int.self, forKey: .unreadCount),
            memberCount: try container.decode(Int.self, forKey: .memberCount),
            activity: try container.decodeIfPresent(StreamPosition.self, forKey: .activity) ?? .start,
            otherMemberID: try container.decodeIfPresent(UserID.self, forKey: .otherMemberID)
        )
    }
}
