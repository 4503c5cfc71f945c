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
        let keepsRefreshTimes = self.keepsRefreshTimes
        try await write { context in
            let db = context.db
            try Lookups.requireUser(db, session.userID)
            guard try Self.session(db, session.id, keepsRefreshTimes: keepsRefreshTimes) == nil else {
                throw ChatError(.conflict, "A session with that ID exists.")
            }
            var columns = "id, userID, refreshTokenHash, createdAt, expiresAt, revokedAt"
            var values: [(any DatabaseValueConvertible)?] = [
                session.id.rawValue, session.userID.rawValue, session.refreshTokenHash,
                session.createdAt.timeIntervalSince1970, session.expiresAt.timeIntervalSince1970,
                session.revokedAt?.timeIntervalSince1970,
            ]
            if keepsRefreshTimes {
                columns += ", refreshedAt"
                values.append(session.refreshedAt?.timeIntervalSince1970)
            }
            let placeholders = Array(repeating: "?", count: values.count).joined(separator: ", ")
            try db.execute(
                sql: "INSERT INTO session (\(columns)) VALUES (\(placeholders))",
                arguments: StatementArguments(values)
            )
        }
    }

    public func session(_ id: SessionID) async throws -> AuthSession? {
        let keepsRefreshTimes = self.keepsRefreshTimes
        return try await read { db in try Self.session(db, id, keepsRefreshTimes: keepsRefreshTimes) }
    }

    public func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date)
        async throws -> AuthSession
    {
        // A reused token revokes the session, and that revocation must commit although the call fails: the
        // transaction returns the outcome and the error is thrown after the commit.
        let keepsRefreshTimes = self.keepsRefreshTimes
        let rotated: AuthSession? = try await write { context in
            let db = context.db
            guard var session = try Self.session(db, id, keepsRefreshTimes: keepsRefreshTimes),
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
            if keepsRefreshTimes {
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
        try await write { context in
            try context.db.execute(
                sql: "UPDATE session SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL",
                arguments: [context.now.timeIntervalSince1970, id.rawValue]
            )
        }
    }

    public func revokeSessions(of user: UserID) async throws {
        try await write { context in
            try context.db.execute(
                sql: "UPDATE session SET revokedAt = ? WHERE userID = ? AND revokedAt IS NULL",
                arguments: [context.now.timeIntervalSince1970, user.rawValue]
            )
        }
    }

    /// The session `id`; its `refreshedAt` if the schema keeps it (`Schema.v13`).
    private static func session(_ db: Database, _ id: SessionID, keepsRefreshTimes: Bool) throws -> AuthSession? {
        let refreshedAt = keepsRefreshTimes ? "refreshedAt" : "NULL"
        return try Row.fetchOne(
            db,
            sql: """
                SELECT userID, refreshTokenHash, createdAt, expiresAt, revokedAt, \(refreshedAt) FROM session
                WHERE id = ?
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
                revokedAt: (try row.decode(Double?.self, atIndex: 4)).map(Date.init(timeIntervalSince1970:))
            )
        }
    }
}
