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

public import Foundation

/// Stores login sessions for the built-in authentication: refresh-token rotation and revocation.
/// Part of ``ChatStore``.
public protocol SessionStore: Sendable {
    /// Stores a new session, with its ``AuthSession/credentialsVersion`` (a store that cannot keep it reads it back
    /// as `nil`, and a session a failed password change left unrevoked then stays refreshable).
    ///
    /// - Throws: ``ChatError`` `.notFound` if the user does not exist, `.conflict` if the ID is taken,
    ///   `.invalidArgument` if the ID holds U+0000.
    func createSession(_ session: AuthSession) async throws

    /// The session with the given ID, revoked or not, or `nil`.
    func session(_ id: SessionID) async throws -> AuthSession?

    /// Replaces the session's refresh token, atomically: succeeds only if `oldHash` is the current hash.
    ///
    /// Presenting a refresh token that was already rotated away means it was copied: the store then revokes the
    /// session (so both the thief's and the owner's tokens stop working) and throws `.conflict`. One exception: if
    /// the current hash is already `newHash`, this very rotation was made before (the same refresh, retried or
    /// sent twice at once): the session is returned unchanged, with that rotation's `expiresAt` and
    /// `refreshedAt`, and is not revoked. This relies on the caller: `newHash` must be one that only a holder of
    /// the token hashed as `oldHash` can name (`AuthService` derives each new token from the old one under a
    /// secret key); a caller that let clients choose the next token would lose the reuse detection.
    ///
    /// A successful rotation sets the session's `refreshedAt` to the store's time (a store that cannot keep it
    /// leaves it `nil`).
    ///
    /// - Returns: The updated session, or the unchanged one if the rotation was made before.
    /// - Throws: ``ChatError`` `.notFound` if there is no such session or it is revoked; `.conflict` on reuse of
    ///   an old token (the session is revoked by then, also when the calling task was cancelled meanwhile: a
    ///   request given up on must not undo the revocation its reuse caused).
    func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date) async throws
        -> AuthSession

    /// Revokes a session (logout). Revoking a revoked or unknown session does nothing.
    func revokeSession(_ id: SessionID) async throws

    /// Revokes every session of a user (password change, "log out everywhere").
    func revokeSessions(of user: UserID) async throws

    /// Deletes up to `limit` of the sessions that ended before `date`: revoked before it, or whose refresh token
    /// expired before it. A session still active at `date` is never deleted. `AuthService` calls this now and then,
    /// so that sessions do not pile up with every login, and again soon while a call deletes `limit` (the backlog
    /// of a store that kept every session is cleared a batch at a time); a deleted session's tokens are refused as
    /// a revoked one's are.
    ///
    /// - Returns: How many sessions were deleted. The default implementation deletes none and returns 0.
    func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int
}

extension SessionStore {
    /// Deletes nothing: ended sessions stay (a store that can should delete them; see the requirement). A negative
    /// `limit` is `.invalidArgument`, as everywhere.
    public func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int {
        try MembershipRules.validateLimit(limit)
        return 0
    }
}
