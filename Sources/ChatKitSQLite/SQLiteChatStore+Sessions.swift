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
public import Foundation
import GRDB

extension SQLiteChatStore {
    // MARK: SessionStore

    public func createSession(_ session: AuthSession) async throws {
        // SQLite would store the ID only up to a U+0000, under another session's ID perhaps.
        _ = try SessionID(checking: session.id.rawValue)
        let columns = sessionColumns
        try await write { context in
            let db = context.db
            try Lookups.requireUser(db, session.userID)
            guard try Self.session(db, session.id, columns) == nil else {
                throw ChatError(.conflict, "A session with that ID exists.")
            }
            var names = "id, userID, refreshTokenHash, createdAt, expiresAt, revokedAt"
            var values: [(any DatabaseValueConvertible)?] = [
                session.id.rawValue, session.userID.rawValue, session.refreshTokenHash,
                session.createdAt.timeIntervalSince1970, session.expiresAt.timeIntervalSince1970,
                session.revokedAt?.timeIntervalSince1970,
            ]
            if columns.refreshTimes {
                names += ", refreshedAt"
                values.append(session.refreshedAt?.timeIntervalSince1970)
            }
            if columns.credentialsVersions {
                names += ", credentialsVersion"
                values.append(session.credentialsVersion)
            }
            let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
            try db.execute(
                sql: "INSERT INTO session (\(names)) VALUES (\(placeholders))",
                arguments: StatementArguments(values)
            )
        }
    }

    public func session(_ id: SessionID) async throws -> AuthSession? {
        guard Lookups.canName(id) else { return nil }
        let columns = sessionColumns
        return try await read { db in try Self.session(db, id, columns) }
    }

    public func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date)
        async throws -> AuthSession
    {
        // A reused token revokes the session, and that revocation must commit although the call fails: the
        // transaction returns the outcome and the error is thrown after the commit. It commits even if the caller
        // is cancelled meanwhile (a thief's request given up on must not undo the revocation it caused).
        guard Lookups.canName(id) else { throw ChatError(.notFound, "No active session with that ID.") }
        let columns = sessionColumns
        let rotated: AuthSession? = try await writeToTheEnd { context in
            let db = context.db
            guard var session = try Self.session(db, id, columns),
                session.revokedAt == nil
            else {
                throw ChatError(.notFound, "No active session with that ID.")
            }
            // The same rotation made before (a refresh retried): nothing to change.
            if session.refreshTokenHash == newHash { return session }
            guard session.refreshTokenHash == oldHash else {
                try db.execute(
                    sql: "UPDATE session SET revokedAt = ? WHERE id = ?",
                    arguments: [context.now.timeIntervalSince1970, id.rawValue]
                )
                return nil
            }
            session.refreshTokenHash = newHash
            session.expiresAt = expiresAt
            try db.execute(
                sql: "UPDATE session SET refreshTokenHash = ?, expiresAt = ? WHERE id = ?",
                arguments: [newHash, expiresAt.timeIntervalSince1970, id.rawValue]
            )
            if columns.refreshTimes {
                session.refreshedAt = context.now
                try db.execute(
                    sql: "UPDATE session SET refreshedAt = ? WHERE id = ?",
                    arguments: [context.now.timeIntervalSince1970, id.rawValue]
                )
            }
            return session
        }
        guard let rotated else {
            throw ChatError(.conflict, "The refresh token was already used; the session is revoked.")
        }
        return rotated
    }

    public func revokeSession(_ id: SessionID) async throws {
        guard Lookups.canName(id) else { return }
        try await write { context in
            try context.db.execute(
                sql: "UPDATE session SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL",
                arguments: [context.now.timeIntervalSince1970, id.rawValue]
            )
        }
    }

    public func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int {
        try MembershipRules.validateLimit(limit)
        // Found through the indexes of `Schema.v15`; a database migrated only before it scans the table.
        return try await write { context in
            try context.db.execute(
                sql: """
                    DELETE FROM session WHERE rowid IN (
                        SELECT rowid FROM session WHERE revokedAt < ?1 OR expiresAt < ?1 LIMIT ?2
                    )
                    """,
                arguments: [date.timeIntervalSince1970, limit]
            )
            return context.db.changesCount
        }
    }

    public func revokeSessions(of user: UserID) async throws {
        guard Lookups.canName(user) else { return }
        try await write { context in
            try context.db.execute(
                sql: "UPDATE session SET revokedAt = ? WHERE userID = ? AND revokedAt IS NULL",
                arguments: [context.now.timeIntervalSince1970, user.rawValue]
            )
        }
    }

    /// The optional columns of `session` that the schema has.
    struct SessionColumns: Sendable {
        /// `refreshedAt` (`Schema.v13`).
        var refreshTimes: Bool
        /// `credentialsVersion` (`Schema.v15`).
        var credentialsVersions: Bool
    }

    private var sessionColumns: SessionColumns {
        SessionColumns(refreshTimes: keepsRefreshTimes, credentialsVersions: keepsCredentialsVersions)
    }

    /// The session `id`, with the optional columns the schema has.
    private static func session(_ db: Database, _ id: SessionID, _ columns: SessionColumns) throws -> AuthSession? {
        let refreshedAt = columns.refreshTimes ? "refreshedAt" : "NULL"
        let credentialsVersion = columns.credentialsVersions ? "credentialsVersion" : "NULL"
        return try Row.fetchOne(
            db,
            sql: """
                SELECT userID, refreshTokenHash, createdAt, expiresAt, revokedAt, \(refreshedAt), \(credentialsVersion)
                FROM session WHERE id = ?
                """,
            arguments: [id.rawValue]
        ).map { row in
            AuthSession(
                id: id,
                userID: UserID(rawValue: try row.decode(atIndex: 0)),
                refreshTokenHash: try row.decode(atIndex: 1),
                createdAt: Date(timeIntervalSince1970: try row.decode(atIndex: 2)),
                expiresAt: Date(timeIntervalSince1970: try row.decode(atIndex: 3)),
                refreshedAt: (try row.decode(Double?.self, atIndex: 5)).map(Date.init(timeIntervalSince1970:)),
                revokedAt: (try row.decode(Double?.self, atIndex: 4)).map(Date.init(timeIntervalSince1970:)),
                credentialsVersion: try row.decode(Int64?.self, atIndex: 6)
            )
        }
    }
}
