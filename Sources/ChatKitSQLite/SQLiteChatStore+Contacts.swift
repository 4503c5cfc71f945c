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
    // MARK: ContactStore

    public func requestContact(from user: UserID, to other: UserID) async throws -> Contact {
        guard user != other else { throw ChatError(.invalidArgument, "A user cannot be their own contact.") }
        return try await write { context in
            let db = context.db
            try Lookups.requireUser(db, user)
            try Lookups.requireUser(db, other)
            let existing = try Self.contact(db, user, other)
            if let existing, existing.state != .incoming { return existing }
            // A request in the other direction is accepted by asking back.
            let accepting = existing?.state == .incoming
            let mine = Contact(userID: other, state: accepting ? .accepted : .outgoing, since: context.now)
            let theirs = Contact(userID: user, state: accepting ? .accepted : .incoming, since: context.now)
            try Self.setContact(db, user, mine)
            try Self.setContact(db, other, theirs)
            try Self.recordContactEvent(context, actor: user, other: other)
            return mine
        }
    }

    public func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact {
        try await write { context in
            let db = context.db
            guard let existing = try Self.contact(db, user, requester), existing.state != .outgoing else {
                throw ChatError(.notFound, "There is no contact request from that user.")
            }
            if existing.state == .accepted { return existing }
            let mine = Contact(userID: requester, state: .accepted, since: context.now)
            try Self.setContact(db, user, mine)
            try Self.setContact(db, requester, Contact(userID: user, state: .accepted, since: context.now))
            try Self.recordContactEvent(context, actor: user, other: requester)
            return mine
        }
    }

    public func declineContact(_ user: UserID, from requester: UserID) async throws {
        try await write { context in
            guard try Self.contact(context.db, user, requester)?.state == .incoming else {
                throw ChatError(.notFound, "There is no pending contact request from that user.")
            }
            try Self.deleteContact(context.db, user, requester)
            try Self.recordContactEvent(context, actor: user, other: requester)
        }
    }

    public func removeContact(_ user: UserID, _ other: UserID) async throws {
        try await write { context in
            guard try Self.contact(context.db, user, other) != nil else {
                throw ChatError(.notFound, "That user is not in the contact list.")
            }
            try Self.deleteContact(context.db, user, other)
            try Self.recordContactEvent(context, actor: user, other: other)
        }
    }

    public func contacts(of user: UserID) async throws -> [Contact] {
        guard Lookups.canName(user) else { return [] }
        return try await readInBackground { db in
            try Row.fetchAll(
                db,
                sql: "SELECT otherID, state, since FROM contact WHERE userID = ? ORDER BY otherID",
                arguments: [user.rawValue]
            ).map(Self.contact(from:))
        }
    }

    private static func contact(from row: Row) throws -> Contact {
        Contact(
            userID: UserID(rawValue: try row.decode(atIndex: 0)),
            state: ContactState(rawValue: try row.decode(atIndex: 1)),
            since: Codec.date(try row.decode(Int64.self, atIndex: 2))
        )
    }

    /// The relation from `user`'s side.
    private static func contact(_ db: Database, _ user: UserID, _ other: UserID) throws -> Contact? {
        // An ID holding U+0000 names nothing (SQLite would compare it up to the NUL: "bob\0x" accepting as bob).
        guard Lookups.canName(user), Lookups.canName(other) else { return nil }
        return try Row.fetchOne(
            db,
            sql: "SELECT otherID, state, since FROM contact WHERE userID = ? AND otherID = ?",
            arguments: [user.rawValue, other.rawValue]
        ).map(contact(from:))
    }

    private static func setContact(_ db: Database, _ user: UserID, _ contact: Contact) throws {
        try db.execute(
            sql: """
                INSERT INTO contact (userID, otherID, state, since) VALUES (?, ?, ?, ?)
                ON CONFLICT (userID, otherID) DO UPDATE SET state = excluded.state, since = excluded.since
                """,
            arguments: [user.rawValue, contact.userID.rawValue, contact.state.rawValue, Codec.milliseconds(contact.since)]
        )
    }

    private static func deleteContact(_ db: Database, _ user: UserID, _ other: UserID) throws {
        try db.execute(
            sql: "DELETE FROM contact WHERE (userID = ? AND otherID = ?) OR (userID = ? AND otherID = ?)",
            arguments: [user.rawValue, other.rawValue, other.rawValue, user.rawValue]
        )
    }

    private static func recordContactEvent(_ context: WriteContext, actor: UserID, other: UserID) throws {
        try context.record(
            StoredEvent(
                position: try context.nextPosition(), kind: .contactChanged, actorID: actor, createdAt: context.now,
                contactPair: [actor, other], audience: [actor, other]
            )
        )
    }
}
