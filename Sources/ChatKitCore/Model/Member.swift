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

/// A member's role in a conversation. Owners outrank admins, admins outrank members.
public struct MemberRole: NamedChoice, Comparable {
    public let rawValue: String
    /// Creates a role from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// May do everything, including changing roles. Every group and channel keeps at least one owner.
    public static let owner = MemberRole(rawValue: "owner")
    /// May add and remove members, rename the conversation and delete others' messages.
    public static let admin = MemberRole(rawValue: "admin")
    /// May read and post.
    public static let member = MemberRole(rawValue: "member")

    public static var allKnown: [MemberRole] { [.member, .admin, .owner] }

    /// How much the role may do: member 0, admin 1, owner 2 (an unknown role ranks lowest).
    public var rank: Int { Self.allKnown.firstIndex(of: self) ?? -1 }

    /// Orders roles by ``rank``.
    public static func < (lhs: MemberRole, rhs: MemberRole) -> Bool { lhs.rank < rhs.rank }
}

/// A user's membership of a conversation.
public struct Member: Hashable, Sendable, Codable {
    /// The conversation.
    public var conversationID: ConversationID
    /// The member.
    public var userID: UserID
    /// What the member may do.
    public var role: MemberRole
    /// When the user (last) joined.
    public var joinedAt: Date

    /// Creates a membership value.
    public init(conversationID: ConversationID, userID: UserID, role: MemberRole, joinedAt: Date) {
        self.conversationID = conversationID
        self.userID = userID
        self.role = role
        self.joinedAt = joinedAt
    }
}
