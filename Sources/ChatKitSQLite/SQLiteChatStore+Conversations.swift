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

public import ChatKitCore
import GRDB

extension SQLiteChatStore {
    // MARK: ConversationStore

    public func createConversation(_ new: NewConversation) async throws -> Conversation {
        try MembershipRules.validate(new)
        let creationKey = keepsCreationKeys && new.kind != .direct ? new.creationKey : nil
        return try await write { context in
            let db = context.db
            // In the order given, each once (a set, not a search of the list per member: a group of thousands).
            var memberIDs: [UserID] = []
            var seen: Set<UserID> = []
            for user in [new.createdBy] + new.memberIDs where seen.insert(user).inserted { memberIDs.append(user) }
            for user in memberIDs { try Lookups.requireUser(db, user) }
            var directKey: String?
            if new.kind == .direct {
                let pair = memberIDs.sorted()
                let key = "\(pair[0].rawValue)\n\(pair[1].rawValue)"
                if let row = try Row.fetchOne(
                    db,
                    sql: "SELECT \(Codec.conversationColumns) FROM conversation WHERE directKey = ?",
                    arguments: [key]
                ) {
                    return try Codec.conversation(row)
                }
                directKey = key
            }
            if let creationKey, let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT \(Codec.conversationColumns) FROM conversation
                        WHERE createdBy = ? AND creationKey = ?
                        """
                ),
                arguments: [new.createdBy.rawValue, creationKey]
            ) {
                let conversation = try Codec.conversation(row)
                let role = try Lookups.role(db, conversation.id, new.createdBy)
                try MembershipRules.checkCanSee(conversation.kind, actorRole: role)
                try MembershipRules.checkSameKind(conversation.kind, new)
                return conversation
            }
            let position = try context.nextPosition()
            let conversation = Conversation(
                id: .random(),
                kind: new.kind,
                title: new.kind == .direct ? nil : new.title,
                createdBy: new.createdBy,
                createdAt: context.now
            )
            try db.execute(
                sql: """
                    INSERT INTO conversation (id, kind, title, createdBy, createdAt, lastSeq, activityPosition, directKey)
                    VALUES (?, ?, ?, ?, ?, 0, ?, ?)
                    """,
                arguments: [
                    conversation.id.rawValue, conversation.kind.rawValue, conversation.title,
                    conversation.createdBy.rawValue, context.nowMilliseconds, position.rawValue, directKey,
                ]
            )
            if let creationKey {
                try db.cachedStatement(sql: "UPDATE conversation SET creationKey = ? WHERE id = ?")
                    .execute(arguments: [creationKey, conversation.id.rawValue])
            }
            let members = memberIDs.map { user in
                Member(
                    conversationID: conversation.id,
                    userID: user,
                    role: user == new.createdBy && new.kind != .direct ? .owner : .member,
                    joinedAt: context.now
                )
            }
            for member in members { try Self.startMembership(member, at: position, context) }
            try context.record(
                StoredEvent(
                    position: position, kind: .conversationCreated, conversationID: conversation.id,
                    actorID: new.createdBy, createdAt: context.now, conversation: conversation,
                    members: members.sorted { $0.userID < $1.userID }
                )
            )
            return conversation
        }
    }

    public func conversation(_ id: ConversationID, as user: UserID) async throws -> Conversation {
        try await read { db in
            let conversation = try Lookups.conversation(db, id)
            try MembershipRules.checkCanSee(conversation.kind, actorRole: try Lookups.role(db, id, user))
            return conversation
        }
    }

    public func members(of id: ConversationID, as user: UserID) async throws -> [Member] {
        try await readInBackground { db in
            _ = try Lookups.memberConversation(db, id, user)
            return try Self.members(db, id)
        }
    }

    /// The count the conversation row keeps (`Schema.v9`): no member is read.
    public func memberCount(of id: ConversationID) async throws -> Int {
        guard Lookups.canName(id) else { return 0 }
        let memberCount = memberCountOfC
        return try await read { db in
            try Int.fetchOne(
                db.cachedStatement(sql: "SELECT \(memberCount) FROM conversation c WHERE c.id = ?"),
                arguments: [id.rawValue]
            ) ?? 0
        }
    }

    /// One look-up in the member table's primary key: no member list is read.
    public func isMember(_ user: UserID, of id: ConversationID) async throws -> Bool {
        try await read { db in try Lookups.role(db, id, user) != nil }
    }

    public func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
        guard Lookups.canName(id) else { return [] }
        return try await readInBackground { db in
            guard let position else {
                return try String.fetchAll(
                    db,
                    sql: "SELECT userID FROM member WHERE conversationID = ? ORDER BY userID",
                    arguments: [id.rawValue]
                ).map(UserID.init(rawValue:))
            }
            return try String.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT userID FROM membershipPeriod
                    WHERE conversationID = ? AND fromPosition <= ? AND (toPosition IS NULL OR toPosition >= ?)
                    ORDER BY userID
                    """,
                arguments: [id.rawValue, position.rawValue, position.rawValue]
            ).map(UserID.init(rawValue:))
        }
    }

    public func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID)
        async throws -> [Member]
    {
        try await write { context in
            let db = context.db
            let conversation = try Lookups.conversation(db, id)
            try MembershipRules.checkCanAdd(role: role, to: conversation.kind, actorRole: try Lookups.role(db, id, actor))
            // Each once, in the order given: a set, not a search of the list (which, in the one writer, a list of
            // many repeated IDs made quadratic).
            var seen: Set<UserID> = []
            let unique = users.filter { seen.insert($0).inserted }
            for user in unique { try Lookups.requireUser(db, user) }
            var added: [Member] = []
            for user in unique where try Lookups.role(db, id, user) == nil {
                added.append(Member(conversationID: id, userID: user, role: role, joinedAt: context.now))
            }
            if !added.isEmpty {
                let position = try context.nextPosition()
                for member in added { try Self.startMembership(member, at: position, context) }
                try context.record(
                    StoredEvent(
                        position: position, kind: .membersAdded, conversationID: id, actorID: actor,
                        createdAt: context.now, members: added.sorted { $0.userID < $1.userID }
                    )
                )
            }
            return try unique.compactMap { try Lookups.member(db, id, $0) }
        }
    }

    public func joinChannel(_ id: ConversationID, user: UserID) async throws -> Member {
        try await write { context in
            let db = context.db
            let conversation = try Lookups.conversation(db, id)
            if let member = try Lookups.member(db, id, user) { return member }
            guard conversation.kind == .channel else { throw Lookups.notFound() }
            try Lookups.requireUser(db, user)
            let member = Member(conversationID: id, userID: user, role: .member, joinedAt: context.now)
            let position = try context.nextPosition()
            try Self.startMembership(member, at: position, context)
            try context.record(
                StoredEvent(
                    position: position, kind: .membersAdded, conversationID: id, actorID: user, createdAt: context.now,
                    members: [member]
                )
            )
            return member
        }
    }

    public func removeMember(_ user: UserID, from id: ConversationID, by actor: UserID) async throws {
        try await write { context in
            let db = context.db
            let conversation = try Lookups.conversation(db, id)
            let member = try Lookups.member(db, id, user)
            try MembershipRules.checkCanRemove(
                targetRole: member?.role,
                from: conversation.kind,
                actorRole: try Lookups.role(db, id, actor),
                isSelf: user == actor,
                ownerCount: try Lookups.ownerCount(db, id)
            )
            guard let member else { return }
            let position = try context.nextPosition()
            try context.record(
                StoredEvent(
                    position: position, kind: .memberRemoved, conversationID: id, actorID: actor,
                    createdAt: context.now, members: [member]
                )
            )
            try db.execute(
                sql: "DELETE FROM member WHERE conversationID = ? AND userID = ?",
                arguments: [id.rawValue, user.rawValue]
            )
            try db.execute(
                sql: """
                    UPDATE membershipPeriod SET toPosition = ?
                    WHERE userID = ? AND conversationID = ? AND toPosition IS NULL
                    """,
                arguments: [position.rawValue, user.rawValue, id.rawValue]
            )
        }
    }

    public func setRole(_ role: MemberRole, of user: UserID, in id: ConversationID, by actor: UserID) async throws
        -> Member
    {
        try await write { context in
            let db = context.db
            let conversation = try Lookups.conversation(db, id)
            let current = try Lookups.member(db, id, user)
            try MembershipRules.checkCanSetRole(
                role,
                targetRole: current?.role,
                in: conversation.kind,
                actorRole: try Lookups.role(db, id, actor),
                ownerCount: try Lookups.ownerCount(db, id)
            )
            guard var member = current else {
                throw ChatError(.notFound, "That user is not a member of the conversation.")
            }
            guard member.role != role else { return member }
            member.role = role
            try db.execute(
                sql: "UPDATE member SET role = ? WHERE conversationID = ? AND userID = ?",
                arguments: [role.rawValue, id.rawValue, user.rawValue]
            )
            try context.record(
                StoredEvent(
                    position: try context.nextPosition(), kind: .memberRoleChanged, conversationID: id, actorID: actor,
                    createdAt: context.now, members: [member]
                )
            )
            return member
        }
    }

    public func renameConversation(_ id: ConversationID, to title: String, by actor: UserID) async throws
        -> Conversation
    {
        try await write { context in
            let db = context.db
            var conversation = try Lookups.conversation(db, id)
            try MembershipRules.checkCanRename(conversation.kind, to: title, actorRole: try Lookups.role(db, id, actor))
            // The title it has (the same bytes: a retry) changes nothing and records no event.
            if title.utf8.elementsEqual((conversation.title ?? "").utf8) { return conversation }
            conversation.title = title
            try db.execute(sql: "UPDATE conversation SET title = ? WHERE id = ?", arguments: [title, id.rawValue])
            try context.record(
                StoredEvent(
                    position: try context.nextPosition(), kind: .conversationUpdated, conversationID: id,
                    actorID: actor, createdAt: context.now, conversation: conversation
                )
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
        guard Lookups.canName(user) else { return [] }
        let memberCount = memberCountOfC
        return try await readInBackground { db in
            let decoder = Codec.makeDecoder()
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.kind, c.title, c.createdBy, c.createdAt, c.lastSeq, m.role, c.activityPosition,
                        \(memberCount),
                        CASE WHEN c.kind = 'direct' THEN
                            (SELECT o.userID FROM member o WHERE o.conversationID = c.id AND o.userID <> ?1 LIMIT 1)
                        END
                    FROM member m JOIN conversation c ON c.id = m.conversationID
                    WHERE m.userID = ?1 AND c.activityPosition < ?2
                    ORDER BY c.activityPosition DESC, c.id DESC
                    LIMIT ?3
                    """,
                arguments: [user.rawValue, before?.rawValue ?? Int64.max, Int64(clamping: limit)]
            )
            return try rows.map { row in
                let conversation = try Codec.conversation(row)
                let marker = try Self.marker(db, conversation.id, user)
                return ConversationSummary(
                    conversation: conversation,
                    role: MemberRole(rawValue: try row.decode(atIndex: 6)),
                    lastMessage: conversation.lastSeq == 0
                        ? nil : try Lookups.message(db, conversation.id, seq: conversation.lastSeq, decoder),
                    marker: marker,
                    unreadCount: try Self.unreadCount(db, conversation.id, user, after: marker.readSeq),
                    memberCount: try row.decode(atIndex: 8),
                    activity: StreamPosition(rawValue: try row.decode(atIndex: 7)),
                    otherMemberID: try row.decode(String?.self, atIndex: 9).map(UserID.init(rawValue:))
                )
            }
        }
    }

    public func memberships(of user: UserID) async throws -> [ConversationMembership] {
        guard Lookups.canName(user) else { return [] }
        // In the background, as lists that grow with a user are.
        let memberCount = memberCountOfC
        return try await readInBackground { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT c.id, c.kind, \(memberCount)
                        FROM member m JOIN conversation c ON c.id = m.conversationID
                        WHERE m.userID = ?
                        """
                ),
                arguments: [user.rawValue]
            ).map { row in
                ConversationMembership(
                    conversationID: ConversationID(rawValue: try row.decode(atIndex: 0)),
                    kind: ConversationKind(rawValue: try row.decode(atIndex: 1)),
                    memberCount: try row.decode(atIndex: 2)
                )
            }
        }
    }

    /// One read: the members of the user's direct conversations and small groups, through the member index by
    /// user and the conversations' primary keys.
    public func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
        guard Lookups.canName(user) else { return [] }
        let memberCount = memberCountOfC
        return try await readInBackground { db in
            let ids = try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT DISTINCT other.userID
                        FROM member m
                        JOIN conversation c ON c.id = m.conversationID
                        JOIN member other ON other.conversationID = m.conversationID
                        WHERE m.userID = ?1 AND (c.kind = 'direct' OR (c.kind = 'group' AND \(memberCount) <= ?2))
                        """
                ),
                arguments: [user.rawValue, maxGroupSize]
            )
            return Set(ids.map(UserID.init(rawValue:)))
        }
    }

    static func members(_ db: Database, _ id: ConversationID) throws -> [Member] {
        try Row.fetchAll(
            db,
            sql: "SELECT \(Codec.memberColumns) FROM member WHERE conversationID = ? ORDER BY userID",
            arguments: [id.rawValue]
        ).map(Codec.member)
    }

    /// Others' messages, not deleted, after both `readSeq` and the user's own last message, up to the limit (see
    /// ``ChatKitCore/ConversationSummary/unreadCount``): read newest first, so the rows read are the ones counted
    /// (and deleted ones among them), never the whole tail of a conversation its member writes to.
    static func unreadCount(_ db: Database, _ id: ConversationID, _ user: UserID, after readSeq: Int64) throws -> Int {
        let rows = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT senderID = ?3, deletedAt IS NOT NULL FROM message
                    WHERE conversationID = ?1 AND seq > ?2 ORDER BY seq DESC
                    """
            ),
            arguments: [id.rawValue, readSeq, user.rawValue]
        )
        var count = 0
        while let row = try rows.next() {
            if try row.decode(Bool.self, atIndex: 0) { break }
            if try row.decode(Bool.self, atIndex: 1) { continue }
            count += 1
            if count == ConversationSummary.unreadCountLimit { break }
        }
        return count
    }

    /// Adds a member and opens their membership period at `position` (sync shows them events from there on).
    /// Cached statements: a channel made for thousands of users runs these once per member, inside the writer.
    static func startMembership(_ member: Member, at position: StreamPosition, _ context: WriteContext) throws {
        let db = context.db
        try db.cachedStatement(sql: "INSERT INTO member (conversationID, userID, role, joinedAt) VALUES (?, ?, ?, ?)")
            .execute(arguments: [
                member.conversationID.rawValue, member.userID.rawValue, member.role.rawValue,
                Codec.milliseconds(member.joinedAt),
            ])
        try db.cachedStatement(
            sql: "INSERT INTO membershipPeriod (userID, conversationID, fromPosition) VALUES (?, ?, ?)"
        ).execute(arguments: [member.userID.rawValue, member.conversationID.rawValue, position.rawValue])
        // What was sent before they joined is neither unread nor waiting for delivery (ConversationStore).
        try db.cachedStatement(
            sql: """
                INSERT INTO marker (conversationID, userID, deliveredSeq, readSeq)
                SELECT id, ?2, lastSeq, lastSeq FROM conversation WHERE id = ?1 AND lastSeq > 0
                ON CONFLICT (conversationID, userID) DO UPDATE SET
                    deliveredSeq = max(deliveredSeq, excluded.deliveredSeq), readSeq = max(readSeq, excluded.readSeq)
                """
        ).execute(arguments: [member.conversationID.rawValue, member.userID.rawValue])
    }
}
