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

/// A conversation a user belongs to, as little as the server needs to know who shares presence with the user: its
/// ID, kind and number of members (see ``ConversationStore/memberships(of:)``, which the default
/// ``ConversationStore/membersSharingPresence(with:maxGroupSize:)`` reads).
public struct ConversationMembership: Hashable, Sendable {
    /// The conversation.
    public var conversationID: ConversationID
    /// Its kind.
    public var kind: ConversationKind
    /// How many members it has.
    public var memberCount: Int

    /// Creates a membership.
    public init(conversationID: ConversationID, kind: ConversationKind, memberCount: Int) {
        self.conversationID = conversationID
        self.kind = kind
        self.memberCount = memberCount
    }
}
