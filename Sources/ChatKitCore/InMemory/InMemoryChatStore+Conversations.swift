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

extension InMemoryChatStore {
    public func createConversation(_ new: NewConversation) async throws -> Conversation {
        try MembershipRules.validate(new)
        return try withState { state in
            let now = now()
            let memberIDs = ([new.createdBy] + new.memberIDs).uniqued()
            for user in memberIDs { try state.requireUser(user) }
            if new.kind == .direct {
                let pair = InMemoryState.UserPair(memberIDs[0], memberIDs[1])
                if let existing = state.directConversations[pair], let record = state.conversations[existing] {
                    return record.conversation
                }
            }
            let creationKey = new.kind == .direct
                ? nil : new.creationKey.map { InMemoryState.CreationKey(creator: new.createdBy, key: Array($0.utf8)) }
            if let creationKey, let existing = state.conversationsByCreationKey[creationKey],
                let record = state.conversations[existing]
            {
                try MembershipRules.checkCanSee(record.conversation.kind, actorRole: record.role(of: new.createdBy))
                try MembershipRules.checkSameKind(record.conversation.kind, new)
                return record.conversation
            }
            let position = state.nextPosition()
            let conversation = Conversation(
                id: .random(),
                kind: new.kind,
                title: new.kind == .direct ? nil : new.title,
                createdBy: new.createdBy,
                createdAt: now
            )
            let record = InMemoryState.ConversationRecord(
                number: state.records.count,
                conversation: conversation,
                activityPosition: position.rawValue
            )
            state.conversations[conversation.id] = record
            state.records.append(record)
            if new.kind == .direct {
                state.directConversations[InMemoryState.UserPair(memberIDs[0], memberIDs[1])] = conversation.id
            }
            if let creationKey { state.conversationsByCreationKey[creationKey] = conversation.id }
            let members = memberIDs.map { user in
                Member(
                    conversationID: conversation.id,
                    userID: user,
                    role: user == new.createdBy && new.kind != .direct ? .owner : .member,
                    joinedAt: now
                )
            }
            for member in members { state.startMembership(member, at: position) }
            state.recordEvent(
                StoredEvent(
                    position: position, kind: .conversationCreated, conversationID: conversation.id,
                    actorID: new.createdBy, createdAt: now, conversation: conversation,
                    members: members.sorted { $0.userID < $1.userID }
                ),
                in: conversation.id
            )
            return conversation
        }
    }

    public func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation {
        try withState { state in
            let record = try state.record(id)
            try MembershipRules.checkCanSee(record.conversation.kind, actorRole: record.role(of: user))
            return record.conversation
        }
    }

    public func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        try withState { state in
            try state.memberRecord(id, user).members.values.sorted { $0.userID < $1.userID }
        }
    }

    public func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
        try withState { state in
            guard let record = state.conversations[id] else { return [] }
            guard let position else { return record.members.keys.sorted() }
            return record.periods.keys.filter { record.wasMember($0, at: position.rawValue) }.sorted()
        }
    }

    public func memberCount(of id: ConversationID) async throws -> Int {
        try withState { state in state.conversations[id]?.members.count ?? 0 }
    }

    public func isMember(_ user: UserID, of id: ConversationID) async throws -> Bool {
        try withState { state in state.conversations[id]?.members[user] != nil }
    }

    public func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID)
        async throws -> [Member]
    {
        return try withState { state in
            let now = now()
            let record = try state.record(id)
            try MembershipRules.checkCanAdd(role: role, to: record.conversation.kind, actorRole: record.role(of: actor))
            let users = users.uniqued()
            for user in users { try state.requireUser(user) }
            let added = users.filter { record.members[$0] == nil }.map {
                Member(conversationID: id, userID: $0, role: role, joinedAt: now)
            }
            if !added.isEmpty {
                let position = state.nextPosition()
                for member in added { state.startMembership(member, at: position) }
                state.recordEvent(
                    StoredEvent(
                        position: position, kind: .membersAdded, conversationID: id, actorID: actor, createdAt: now,
                        members: added.sorted { $0.userID < $1.userID }
                    ),
                    in: id
                )
            }
            let members = state.conversations[id]?.members ?? [:]
            return users.compactMap { members[$0] }
        }
    }

    public func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member {
        return try withState { state in
            let now = now()
            let record = try state.record(id)
            if let member = record.members[user] { return member }
            guard record.conversation.kind == .channel else {
                throw ChatError(.notFound, "No such conversation, or you are not a member of it.")
            }
            try state.requireUser(user)
            let member = Member(conversationID: id, userID: user, role: .member, joinedAt: now)
            let position = state.nextPosition()
            state.startMembership(member, at: position)
            state.recordEvent(
                StoredEvent(
                    position: position, kind: .membersAdded, conversationID: id, actorID: user, createdAt: now,
                    members: [member]
                ),
                in: id
            )
            return member
        }
    }

    public func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws {
        try withState { state in
            let now = now()
            let record = try state.record(id)
            try MembershipRules.checkCanRemove(
                targetRole: record.role(of: user),
                from: record.conversation.kind,
                actorRole: record.role(of: actor),
                isSelf: user == actor,
                ownerCount: record.ownerCount
            )
            guard let member = record.members[user] else { return }
            let position = state.nextPosition()
            state.recordEvent(
                StoredEvent(
                    position: position, kind: .memberRemoved, conversationID: id, actorID: actor, createdAt: now,
                    members: [member]
                ),
                in: id
            )
            state.endMembership(of: user, in: id, at: position)
        }
    }

    public func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws
        -> Member
    {
        return try withState { state in
            let now = now()
            let record = try state.record(id)
            try MembershipRules.checkCanSetRole(
                role,
                targetRole: record.role(of: user),
                in: record.conversation.kind,
                actorRole: record.role(of: actor),
                ownerCount: record.ownerCount
            )
            guard var member = record.members[user] else {
                throw ChatError(.notFound, "That user is not a member of the conversation.")
            }
            guard member.role != role else { return member }
            member.role = role
            state.conversations[id]?.members[user] = member
            state.recordEvent(
                StoredEvent(
                    position: state.nextPosition(), kind: .memberRoleChanged, conversationID: id, actorID: actor,
                    createdAt: now, members: [member]
                ),
                in: id
            )
            return member
        }
    }

    public func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws
        -> Conversation
    {
        return try withState { state in
            let now = now()
            let record = try state.record(id)
            try MembershipRules.checkCanRename(record.conversation.kind, to: title, actorRole: record.role(of: actor))
            // The title it has (the same bytes: a retry) changes nothing and records no event.
            if title.utf8.elementsEqual((record.conversation.title ?? "").utf8) { return record.conversation }
            state.conversations[id]?.conversation.title = title
            let conversation = state.conversations[id]!.conversation
            state.recordEvent(
                StoredEvent(
                    position: state.nextPosition(), kind: .conversationUpdated, conversationID: id, actorID: actor,
                    createdAt: now, conversation: conversation
                ),
                in: id
            )
            return conversation
        }
    }

    public func conversations(of user: UserID) async throws -> [ConversationSummary] {
        try await conversations(of: user, before: nil, limit: .max)
    }

    public func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
        -> [ConversationSummary]
    {
        try MembershipRules.validateLimit(limit)
        return try withState { state in
            let joined = state.conversationsEverJoined[user] ?? []
            let records = joined.compactMap { id -> InMemoryState.ConversationRecord? in
                guard let record = state.conversations[id], record.members[user] != nil else { return nil }
                if let before, record.activityPosition >= before.rawValue { return nil }
                return record
            }
            return
                records
                .sorted {
                    ($0.activityPosition, $0.conversation.id.rawValue) > ($1.activityPosition, $1.conversation.id.rawValue)
                }
                .prefix(limit)
                .map { record in
                    ConversationSummary(
                        conversation: record.conversation,
                        role: record.members[user]!.role,
                        lastMessage: record.messages.last,
                        marker: record.marker(of: user),
                        unreadCount: record.unreadCount(for: user),
                        memberCount: record.members.count,
                        activity: StreamPosition(rawValue: record.activityPosition),
                        otherMemberID: record.conversation.kind == .direct
                            ? record.members.keys.first { $0 != user } : nil
                    )
                }
        }
    }
}

extension InMemoryChatStore {
    public func memberships(of user: UserID) async throws -> [ConversationMembership] {
        try withState { state in
            (state.conversationsEverJoined[user] ?? []).compactMap { id in
                guard let record = state.conversations[id], record.members[user] != nil else { return nil }
                return ConversationMembership(
                    conversationID: id, kind: record.conversation.kind, memberCount: record.members.count
                )
            }
        }
    }

    public func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
        try withState { state in
            var members = Set<UserID>()
            for id in state.conversationsEverJoined[user] ?? [] {
                guard let record = state.conversations[id], record.members[user] != nil else { continue }
                let kind = record.conversation.kind
                let count = record.members.count
                guard MembershipRules.sharesPresence(kind, memberCount: count, maxGroupSize: maxGroupSize) else {
                    continue
                }
                members.formUnion(record.members.keys)
            }
            return members
        }
    }
}

extension Array where Element: Hashable {
    /// The elements in their order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
