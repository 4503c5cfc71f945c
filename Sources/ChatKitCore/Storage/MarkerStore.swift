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

/// Stores delivered and read markers. Part of ``ChatStore``.
///
/// Markers only move forward: a lower seq than the current one changes nothing. A seq past the conversation's
/// last message is clamped to it. Reading implies delivery. Each move records one ``EventKind/markerUpdated``
/// event, visible to all members (read receipts) in direct conversations and groups of up to
/// ``MembershipRules/maxMembersSharingMarkers`` members, and to its user alone (their other devices) in channels
/// and larger groups: its ``StoredEvent/audience`` is then `[user]`
/// (``MembershipRules/markerAudience(_:memberCount:user:)``).
/// A call that moves nothing records nothing. A member's markers start at the last message when they join
/// (``ConversationStore``), so receipts count a newcomer as having read what came before.
public protocol MarkerStore: Sendable {
    /// Records that every message up to `seq` reached one of `user`'s devices.
    ///
    /// - Returns: The marker after the call.
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or `user` is not a member.
    func markDelivered(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker

    /// Records that `user` read every message up to `seq` (and so received them).
    ///
    /// - Returns: The marker after the call.
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or `user` is not a member.
    func markRead(_ id: ConversationID, upTo seq: Int64, by user: UserID) async throws -> Marker

    /// The markers of every current member, ordered by user ID.
    ///
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or `user` is not a member.
    func markers(of id: ConversationID, as user: UserID) async throws -> [Marker]
}
