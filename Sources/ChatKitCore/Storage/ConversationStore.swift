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

/// Stores conversations and their members, and enforces who may change them. Part of ``ChatStore``.
///
/// Rules every store applies (``MembershipRules`` implements them, so adapters share one copy):
/// - A user who is not a member of a group or direct conversation gets ``ChatError`` `.notFound` for it, never
///   `.forbidden`: they cannot learn that it exists. Channels may be looked up and joined by anyone.
/// - Owners and admins add and remove members and rename; only owners change roles; admins remove only members.
/// - A group or channel always keeps an owner: the last owner can neither leave nor be demoted (`.conflict`).
/// - A direct conversation has exactly two members, no title, and never changes membership.
/// - A member's markers start at the conversation's last message when they join (or join again): what was sent
///   before counts as neither unread nor waiting for delivery. No ``EventKind/markerUpdated`` is recorded for it.
/// Every change records a stored event in the conversation.
public protocol ConversationStore: Sendable {
    /// Creates a conversation; in a group or channel the creator becomes its owner and the other named users
    /// members. Both users of a direct conversation are plain members.
    ///
    /// Creating a direct conversation that already exists between the two users returns the existing one and
    /// records nothing. Duplicate member IDs are ignored.
    ///
    /// Idempotent with a ``NewConversation/creationKey``: if the creator already created a group or channel with
    /// that key, no second one is made and nothing is recorded; the first is returned as the creator may see it
    /// now (renamed, say), whatever the new request's title and members say. Concurrent creations with one key make
    /// exactly one.
    ///
    /// - Returns: The conversation.
    /// - Throws: ``ChatError`` `.notFound` if a named user does not exist, or the key's group is one the creator
    ///   has left since; `.conflict` if the key made a conversation of another kind (a group's key used for a
    ///   channel, or the reverse; the key of a direct conversation is ignored); `.invalidArgument` for an
    ///   unknown kind, a direct conversation that does not name exactly one other user, a group or channel without
    ///   a title (or with one of white space alone), or an empty or over-long creation key.
    func createConversation(_ conversation: NewConversation) async throws -> Conversation

    /// The conversation, as `user` may see it.
    ///
    /// - Throws: ``ChatError`` `.notFound` if it does not exist, or it is not a channel and `user` is not a member.
    func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation

    /// The current members, ordered by user ID.
    ///
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist or `user` is not a member.
    func members(of id: ConversationID, as user: UserID) async throws -> [Member]

    /// The IDs of the members, ordered; empty for a conversation that does not exist.
    ///
    /// With `position`, the users who may see the event stored at that position: those who were members then,
    /// the user removed by a ``EventKind/memberRemoved`` at that position included (the rule of
    /// ``SyncStore/events(for:after:limit:)``). Without it, the current members.
    ///
    /// For trusted server code only (routing events, presence): there is no access check.
    func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID]

    /// How many members the conversation has now; 0 for a conversation that does not exist. For trusted server
    /// code only: there is no access check. The server asks before a user joins a channel, to hold its limit on
    /// members, so a store should answer without reading every member of a large channel.
    ///
    /// A default implementation counts ``memberIDs(of:at:)``; implement it to answer more cheaply.
    func memberCount(of id: ConversationID) async throws -> Int

    /// Whether `user` is a member of the conversation now; `false` for a conversation that does not exist. For
    /// trusted server code only: there is no access check. The server asks it of every typing stop and of typing in
    /// channels (whose member lists may be long), and of a join to a full channel.
    ///
    /// A default implementation looks in ``memberIDs(of:at:)``; implement it to answer without reading them all.
    func isMember(_ user: UserID, of id: ConversationID) async throws -> Bool

    /// Adds users to a group or channel with the given role (``MemberRole/member`` or ``MemberRole/admin``).
    ///
    /// Users who are already members are left as they are. Records one ``EventKind/membersAdded`` event for the
    /// users actually added (none if there were none).
    ///
    /// - Returns: The memberships of every named user.
    /// - Throws: ``ChatError`` `.notFound` if the conversation or a user does not exist, or `actor` is not a
    ///   member; `.forbidden` if `actor` is neither owner nor admin, or only an admin adding an admin;
    ///   `.invalidArgument` for a direct conversation or the owner role.
    func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID) async throws
        -> [Member]

    /// Lets `user` join a channel as a member. Joining a channel one already belongs to changes nothing.
    ///
    /// - Returns: The membership.
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist, or it is not a channel and `user`
    ///   is not a member (a private group cannot be joined, nor detected, this way), or `user` does not exist.
    func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member

    /// Removes `user` from a group or channel; `actor == user` means leaving.
    ///
    /// From the removal on, `user` reads, posts and receives nothing of the conversation; they do receive the
    /// ``EventKind/memberRemoved`` event itself. A channel is open to anyone: a user removed from one may join it
    /// again (``joinChannel(_:user:)``), and then reads its whole history as every member does; there are no bans.
    ///
    /// - Throws: ``ChatError`` `.notFound` if the conversation does not exist, or `actor` or `user` is not a
    ///   member; `.forbidden` if `actor` may not remove `user`; `.conflict` if `user` is the last owner;
    ///   `.invalidArgument` for a direct conversation.
    func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws

    /// Changes a member's role. Only owners change roles.
    ///
    /// - Returns: The updated membership (unchanged, and no event, if the role was already `role`).
    /// - Throws: ``ChatError`` `.notFound` as for ``removeMember(_:from:by:)``; `.forbidden` if `actor` is not an
    ///   owner; `.conflict` when demoting the last owner; `.invalidArgument` for a direct conversation or an
    ///   unknown role.
    func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws -> Member

    /// Renames a group or channel. Owners and admins may rename.
    ///
    /// - Returns: The renamed conversation (unchanged, and no event, if it already had this title, byte for byte:
    ///   a retried rename).
    /// - Throws: ``ChatError`` `.notFound` if it does not exist or `actor` is not a member; `.forbidden` for a
    ///   plain member; `.invalidArgument` for a direct conversation or a title empty or of white space alone.
    func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws -> Conversation

    /// The conversations `user` is a member of, most recently active first, each with its last message, the
    /// user's marker and unread count, and the other member of a direct conversation. Activity is commit order: the
    /// stream position of the newest message, or of the conversation's creation while it has none.
    func conversations(of user: UserID) async throws -> [ConversationSummary]

    /// A page of ``conversations(of:)``: the most recently active of `user`'s conversations whose
    /// ``ConversationSummary/activity`` is below `before` (all when `nil`), at most `limit` of them, newest first.
    /// The server lists conversations in such pages.
    ///
    /// A default implementation takes the page from ``conversations(of:)``; implement it to read only the page.
    ///
    /// - Throws: ``ChatError`` `.invalidArgument` when `limit` is negative.
    func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws -> [ConversationSummary]

    /// The conversations `user` is a member of, in no particular order, each with its kind and member count:
    /// what ``conversations(of:)`` says of them without their last messages, markers and unread counts, which
    /// cost a store far more. The default ``membersSharingPresence(with:maxGroupSize:)`` reads it (the server asks
    /// that at the start of every session).
    ///
    /// A default implementation derives it from ``conversations(of:)``; implement it to answer more cheaply.
    func memberships(of user: UserID) async throws -> [ConversationMembership]

    /// Every member of the direct conversations `user` belongs to and of their groups of at most `maxGroupSize`
    /// members (not channels), `user` included when there is any: who shares presence with `user`. No access
    /// check. The server asks at the start of every session and at every presence change.
    ///
    /// A default implementation reads ``memberships(of:)``, then the members of each conversation that qualifies:
    /// one read per conversation, which for a user in thousands of groups is thousands of reads per connect.
    /// Implement it to answer with one read.
    func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID>
}

extension ConversationStore {
    /// Taken from ``conversations(of:)``: correct, as costly as the whole list.
    public func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
        -> [ConversationSummary]
    {
        try MembershipRules.validateLimit(limit)
        let all = try await conversations(of: user)
        guard let before else { return Array(all.prefix(limit)) }
        return Array(all.lazy.filter { $0.activity < before }.prefix(limit))
    }

    /// Derived from ``conversations(of:)``: correct, as costly as that.
    public func memberships(of user: UserID) async throws -> [ConversationMembership] {
        try await conversations(of: user).map { summary in
            ConversationMembership(
                conversationID: summary.conversation.id, kind: summary.conversation.kind,
                memberCount: summary.memberCount
            )
        }
    }

    /// Derived from ``memberships(of:)`` and ``memberIDs(of:at:)``: correct, one read per conversation.
    public func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
        var members = Set<UserID>()
        for membership in try await memberships(of: user)
        where MembershipRules.sharesPresence(
            membership.kind, memberCount: membership.memberCount, maxGroupSize: maxGroupSize
        ) {
            members.formUnion(try await memberIDs(of: membership.conversationID, at: nil))
        }
        return members
    }

    /// The IDs of the current members, ordered; empty for a conversation that does not exist. No access check.
    public func memberIDs(of id: ConversationID) async throws -> [UserID] {
        try await memberIDs(of: id, at: nil)
    }

    /// Counted from ``memberIDs(of:at:)``: correct, as costly as reading every member.
    public func memberCount(of id: ConversationID) async throws -> Int {
        try await memberIDs(of: id, at: nil).count
    }

    /// Looked up in ``memberIDs(of:at:)``: correct, as costly as reading every member.
    public func isMember(_ user: UserID, of id: ConversationID) async throws -> Bool {
        try await memberIDs(of: id, at: nil).contains(user)
    }
}
