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
    // MARK: UserStore

    public func createUser(_ user: NewUser, passwordHash: String?) async throws -> User {
        try TextRules.validate(user)
        return try await write { context in
            let db = context.db
            let taken = try Bool.fetchOne(db, sql: "SELECT 1 FROM user WHERE username = ?", arguments: [user.username])
            guard taken != true else { throw ChatError(.conflict, "The username is already taken.") }
            let created = User(
                id: .random(),
                username: user.username,
                displayName: user.displayName.isEmpty ? user.username : user.displayName,
                statusText: user.statusText,
                createdAt: context.now
            )
            try db.execute(
                sql: "INSERT INTO user (id, username, displayName, statusText, createdAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    created.id.rawValue, created.username, created.displayName, created.statusText,
                    context.nowMilliseconds,
                ]
            )
            if let passwordHash {
                try db.execute(
                    sql: "INSERT INTO credentials (userID, passwordHash, version, updatedAt) VALUES (?, ?, 1, ?)",
                    arguments: [created.id.rawValue, passwordHash, context.nowMilliseconds]
                )
            }
            return created
        }
    }

    public func user(_ id: UserID) async throws -> User? {
        try await read { db in try Lookups.user(db, id) }
    }

    public func user(username: String) async throws -> User? {
        // No stored name holds U+0000, and SQLite would read the name only up to it ("alice\0x" would find alice).
        guard !username.utf8.contains(0) else { return nil }
        return try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT \(Codec.userColumns) FROM user WHERE username = ?",
                arguments: [username]
            ).map(Codec.user)
        }
    }

    public func users(_ ids: [UserID]) async throws -> [User] {
        let ids = Array(Set(ids))
        return try await readInBackground { db in
            try ids.compactMap { try Lookups.user(db, $0) }
        }
    }

    public func updateProfile(of user: UserID, _ update: ProfileUpdate) async throws -> User {
        try TextRules.validate(update)
        return try await write { context in
            let db = context.db
            guard var profile = try Lookups.user(db, user) else {
                throw ChatError(.notFound, "No user with ID '\(user)'.")
            }
            if let displayName = update.displayName { profile.displayName = displayName }
            if update.clearsStatusText {
                profile.statusText = nil
            } else if let statusText = update.statusText {
                profile.statusText = statusText
            }
            try db.execute(
                sql: "UPDATE user SET displayName = ?, statusText = ? WHERE id = ?",
                arguments: [profile.displayName, profile.statusText, user.rawValue]
            )
            let contacts = try String.fetchAll(
                db,
                sql: "SELECT otherID FROM contact WHERE userID = ? AND state = ? ORDER BY otherID",
                arguments: [user.rawValue, ContactState.accepted.rawValue]
            ).map(UserID.init(rawValue:))
            try context.record(
                StoredEvent(
                    position: try context.nextPosition(), kind: .profileUpdated, actorID: user, createdAt: context.now,
                    user: profile, audience: [user] + contacts
                )
            )
            return profile
        }
    }

    public func credentials(of user: UserID) async throws -> Credentials? {
        guard Lookups.canName(user) else { return nil }
        return try await read { db in
            try Row.fetchOne(
                db,
                sql: "SELECT passwordHash, version, updatedAt FROM credentials WHERE userID = ?",
                arguments: [user.rawValue]
            ).map { row in
                Credentials(
                    userID: user, passwordHash: try row.decode(atIndex: 0), version: try row.decode(atIndex: 1),
                    updatedAt: Codec.date(try row.decode(Int64.self, atIndex: 2))
                )
            }
        }
    }

    public func setPasswordHash(_ passwordHash: String, of user: UserID) async throws -> Credentials {
        try await write { context in
            let db = context.db
            try Lookups.requireUser(db, user)
            let version =
                (try Int64.fetchOne(db, sql: "SELECT version FROM credentials WHERE userID = ?", arguments: [user.rawValue])
                    ?? 0) + 1
            try db.execute(
                sql: """
                    INSERT INTO credentials (userID, passwordHash, version, updatedAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (userID) DO UPDATE SET
                        passwordHash = excluded.passwordHash, version = excluded.version, updatedAt = excluded.updatedAt
                    """,
                arguments: [user.rawValue, passwordHash, version, context.nowMilliseconds]
            )
            return Credentials(userID: user, passwordHash: passwordHash, version: version, updatedAt: context.now)
        }
    }
}
