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

/// The membership and role rules of ``ConversationStore`` and ``MessageStore``, as pure functions.
///
/// Every store must apply the same rules; calling these keeps an adapter in step with ChatKit's own stores.
/// Each function throws the ``ChatError`` the protocols document, with a readable reason.
public enum MembershipRules {
    /// The most members a direct conversation has.
    public static let directMemberCount = 2

    /// Checks that `actorRole` (the caller's role, `nil` for a non-member) lets the caller see a conversation.
    ///
    /// - Throws: `.notFound` for a non-member of anything but a channel.
    public static func checkCanSee(_ kind: ConversationKind, actorRole: MemberRole?) throws {
        if actorRole == nil && kind != .channel { throw notFound() }
    }

    /// Checks that the caller is a member; reads and writes of a conversation's content need membership.
    ///
    /// - Throws: `.notFound`, so that a non-member cannot learn that the conversation exists.
    public static func checkIsMember(_ actorRole: MemberRole?) throws {
        if actorRole == nil { throw notFound() }
    }

    /// Whether the members of a conversation see each other's presence: in direct conversations and in groups of
    /// at most `maxGroupSize` members, never in channels
    /// (``ConversationStore/membersSharingPresence(with:maxGroupSize:)``).
    public static func sharesPresence(_ kind: ConversationKind, memberCount: Int, maxGroupSize: Int) -> Bool {
        switch kind {
        case .direct: true
        case .group: memberCount <= maxGroupSize
        default: false
        }
    }

    /// The largest group whose members see each other's marker moves (read receipts) as they happen (100).
    public static let maxMembersSharingMarkers = 100

    /// Who sees the ``EventKind/markerUpdated`` event of `user`'s marker move: `nil` for every member (a direct
    /// conversation, a group of up to ``maxMembersSharingMarkers`` members), or `[user]` alone (a channel, a larger
    /// group). In a conversation of N members each message read by all would otherwise make N events for N
    /// people each: N² frames, stored and replayed at every catch-up. Others still read the markers with
    /// ``MarkerStore/markers(of:as:)``.
    public static func markerAudience(
        _ kind: ConversationKind, memberCount: Int, user: UserID
    ) -> [UserID]? {
        kind == .channel || (kind != .direct && memberCount > maxMembersSharingMarkers) ? [user] : nil
    }

    /// Validates a new conversation before it is created.
    ///
    /// - Throws: `.invalidArgument` for an unknown kind, a direct conversation that does not name exactly one
    ///   other user, or a group or channel without a title.
    public static func validate(_ conversation: NewConversation) throws {
        guard conversation.kind.isKnown else {
            throw ChatError(.invalidArgument, "Unknown conversation kind '\(conversation.kind)'.")
        }
        if conversation.kind == .direct {
            let others = Set(conversation.memberIDs).subtracting([conversation.createdBy])
            guard others.count == 1, conversation.memberIDs.count == 1 else {
                throw ChatError(.invalidArgument, "A direct conversation names exactly one other user.")
            }
        } else if (conversation.title ?? "").trimmingWhitespace().isEmpty {
            throw ChatError(.invalidArgument, "A \(conversation.kind) needs a non-empty title.")
        }
        if let title = conversation.title { try TextRules.checkStorable(title, "A title") }
        if let key = conversation.creationKey {
            guard !key.isEmpty else {
                throw ChatError(.invalidArgument, "A creation key must not be empty; leave it out for none.")
            }
            guard key.utf8.count <= NewConversation.maxCreationKeyBytes else {
                throw ChatError(
                    .invalidArgument,
                    "A creation key has at most \(NewConversation.maxCreationKeyBytes) bytes (got \(key.utf8.count))."
                )
            }
            try TextRules.checkStorable(key, "A creation key")
        }
    }

    /// Checks that the conversation an earlier creation with `new`'s ``NewConversation/creationKey`` made, of `kind`,
    /// is of the kind `new` asks for: a key used again for another kind is a client's mistake, not a retry.
    ///
    /// - Throws: `.conflict` when the kinds differ.
    public static func checkSameKind(_ kind: ConversationKind, _ new: NewConversation) throws {
        guard kind == new.kind else {
            throw ChatError(
                .conflict,
                "Creation key '\(new.creationKey ?? "")' was already used to create a \(kind), not a \(new.kind)."
            )
        }
    }

    /// Checks that a caller with `actorRole` may add users with `role` to a conversation of `kind`.
    ///
    /// - Throws: `.notFound` for a non-member; `.invalidArgument` for a direct conversation or the owner role;
    ///   `.forbidden` for a plain member, or an admin adding an admin.
    public static func checkCanAdd(role: MemberRole, to kind: ConversationKind, actorRole: MemberRole?) throws {
        try checkIsMember(actorRole)
        try checkNotDirect(kind, "add members to")
        guard role == .member || role == .admin else {
            throw ChatError(.invalidArgument, "Members are added as 'member' or 'admin'; owners are made with setRole.")
        }
        guard let actorRole, actorRole >= .admin else {
            throw ChatError(.forbidden, "Only owners and admins may add members.")
        }
        if role == .admin && actorRole < .owner {
            throw ChatError(.forbidden, "Only owners may add admins.")
        }
    }

    /// Checks that a caller may remove a member.
    ///
    /// - Parameters:
    ///   - targetRole: The role of the member to remove, `nil` if they are not a member.
    ///   - isSelf: Whether the caller removes themselves (leaves).
    ///   - ownerCount: How many owners the conversation has now.
    /// - Throws: `.notFound` if the caller or the target is not a member; `.invalidArgument` for a direct
    ///   conversation; `.forbidden` if the caller does not outrank the target (owners remove anyone, admins remove
    ///   members); `.conflict` if the target is the last owner.
    public static func checkCanRemove(
        targetRole: MemberRole?,
        from kind: ConversationKind,
        actorRole: MemberRole?,
        isSelf: Bool,
        ownerCount: Int
    ) throws {
        try checkIsMember(actorRole)
        try checkNotDirect(kind, "remove members from")
        guard let targetRole, let actorRole else {
            throw ChatError(.notFound, "That user is not a member of the conversation.")
        }
        if !isSelf && !(actorRole == .owner || (actorRole == .admin && targetRole == .member)) {
            throw ChatError(.forbidden, "Owners remove anyone; admins remove only members.")
        }
        if targetRole == .owner && ownerCount <= 1 {
            throw ChatError(.conflict, "The last owner cannot leave or be removed; make another member owner first.")
        }
    }

    /// Checks that a caller may give a member a new role.
    ///
    /// - Throws: `.notFound` if the caller or the target is not a member; `.invalidArgument` for a direct
    ///   conversation or an unknown role; `.forbidden` unless the caller is an owner; `.conflict` when demoting
    ///   the last owner.
    public static func checkCanSetRole(
        _ role: MemberRole,
        targetRole: MemberRole?,
        in kind: ConversationKind,
        actorRole: MemberRole?,
        ownerCount: Int
    ) throws {
        try checkIsMember(actorRole)
        try checkNotDirect(kind, "change roles in")
        guard role.isKnown else { throw ChatError(.invalidArgument, "Unknown role '\(role)'.") }
        guard targetRole != nil else {
            throw ChatError(.notFound, "That user is not a member of the conversation.")
        }
        guard actorRole == .owner else { throw ChatError(.forbidden, "Only owners change roles.") }
        if targetRole == .owner && role != .owner && ownerCount <= 1 {
            throw ChatError(.conflict, "The last owner cannot be demoted; make another member owner first.")
        }
    }

    /// Checks that a caller may rename a conversation to `title`.
    ///
    /// - Throws: `.notFound` for a non-member; `.invalidArgument` for a direct conversation or an empty title;
    ///   `.forbidden` for a plain member.
    public static func checkCanRename(_ kind: ConversationKind, to title: String, actorRole: MemberRole?) throws {
        try checkIsMember(actorRole)
        try checkNotDirect(kind, "rename")
        guard !title.trimmingWhitespace().isEmpty else {
            throw ChatError(.invalidArgument, "A title must not be empty.")
        }
        try TextRules.checkStorable(title, "A title")
        guard let actorRole, actorRole >= .admin else {
            throw ChatError(.forbidden, "Only owners and admins may rename a conversation.")
        }
    }

    /// Checks that a member may edit a message.
    ///
    /// - Throws: `.forbidden` unless the caller sent it; `.conflict` if it was deleted; `.invalidArgument` for an
    ///   empty body on a message without attachments, or a body that contains U+0000 (``TextRules``).
    public static func checkCanEdit(_ message: Message, body: String, actor: UserID) throws {
        guard message.senderID == actor else { throw ChatError(.forbidden, "Only the sender may edit a message.") }
        guard !message.isDeleted else { throw ChatError(.conflict, "A deleted message cannot be edited.") }
        if body.isEmpty && message.attachments.isEmpty {
            throw ChatError(.invalidArgument, "A message needs a body or an attachment.")
        }
        try TextRules.checkStorable(body, "A message body")
    }

    /// Checks that a member with `actorRole` may delete a message.
    ///
    /// - Throws: `.forbidden` unless the caller sent it or is an owner or admin of the conversation.
    public static func checkCanDelete(_ message: Message, actor: UserID, actorRole: MemberRole) throws {
        guard message.senderID == actor || actorRole >= .admin else {
            throw ChatError(.forbidden, "Only the sender, owners and admins may delete a message.")
        }
    }

    /// Validates a message before it is appended (membership is checked separately).
    ///
    /// - Throws: `.invalidArgument` for an empty client message ID, an empty body without attachments, or text or an
    ///   ID that contains U+0000 (``TextRules``; a store that binds IDs as C strings would read "C\0x" as "C").
    public static func validate(_ message: NewMessage) throws {
        guard !message.clientMessageID.rawValue.isEmpty else {
            throw ChatError(.invalidArgument, "A message needs a non-empty client message ID.")
        }
        if message.body.isEmpty && message.attachments.isEmpty {
            throw ChatError(.invalidArgument, "A message needs a body or an attachment.")
        }
        try TextRules.checkStorable(message.clientMessageID.rawValue, "A client message ID")
        try TextRules.checkStorable(message.body, "A message body")
        try TextRules.checkStorable(message.conversationID.rawValue, "A conversation ID")
        if let replyTo = message.replyTo { try TextRules.checkStorable(replyTo.rawValue, "A replied-to message ID") }
        for mention in message.mentions { try TextRules.checkStorable(mention.rawValue, "A mentioned user ID") }
        for attachment in message.attachments {
            try TextRules.checkStorable(attachment.id.rawValue, "An attachment ID")
        }
    }

    /// The longest reaction, in UTF-8 bytes: room for any emoji (the longest, family and flag sequences, take
    /// 25–35 bytes) or a short word.
    public static let maxReactionBytes = 64
    /// The most different reactions (emoji) one message holds.
    public static let maxDistinctReactions = 50
    /// The most reactions one message holds, all users and emoji together. Every reaction event carries the
    /// whole message to every member, so this bounds what each one costs.
    public static let maxReactions = 500

    /// Validates a reaction.
    ///
    /// - Throws: `.invalidArgument` for an empty emoji, one longer than ``maxReactionBytes``, or one that contains
    ///   U+0000.
    public static func validateReaction(_ emoji: String) throws {
        guard !emoji.trimmingWhitespace().isEmpty else {
            throw ChatError(.invalidArgument, "A reaction must not be empty.")
        }
        guard emoji.utf8.count <= maxReactionBytes else {
            throw ChatError(
                .invalidArgument, "A reaction has at most \(maxReactionBytes) bytes (got \(emoji.utf8.count))."
            )
        }
        try TextRules.checkStorable(emoji, "A reaction")
    }

    /// Checks that `message` can take one more reaction, `emoji` (a reaction it does not hold yet).
    ///
    /// - Throws: `.limitExceeded` if the message holds ``maxReactions`` reactions, or ``maxDistinctReactions``
    ///   different ones and not `emoji`.
    public static func checkRoom(forReaction emoji: String, on message: Message) throws {
        guard message.reactions.count < maxReactions else {
            throw ChatError(.limitExceeded, "A message holds at most \(maxReactions) reactions.")
        }
        guard !message.reactions.contains(where: { $0.emoji == emoji }) else { return }
        var kinds = Set<String>()
        for reaction in message.reactions { kinds.insert(reaction.emoji) }
        guard kinds.count < maxDistinctReactions else {
            throw ChatError(.limitExceeded, "A message holds at most \(maxDistinctReactions) different reactions.")
        }
    }

    /// Validates a page size.
    ///
    /// - Throws: `.invalidArgument` for a negative limit.
    public static func validateLimit(_ limit: Int) throws {
        guard limit >= 0 else { throw ChatError(.invalidArgument, "A limit must not be negative (got \(limit)).") }
    }

    private static func checkNotDirect(_ kind: ConversationKind, _ verb: String) throws {
        if kind == .direct {
            throw ChatError(.invalidArgument, "You cannot \(verb) a direct conversation.")
        }
    }

    private static func notFound() -> ChatError {
        ChatError(.notFound, "No such conversation, or you are not a member of it.")
    }
}

extension String {
    /// The string without leading and trailing white space.
    func trimmingWhitespace() -> Substring {
        let start = firstIndex { !$0.isWhitespace } ?? endIndex
        let end = lastIndex { !$0.isWhitespace }.map(index(after:)) ?? start
        return self[start..<end]
    }
}
