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

extension InMemoryChatStore {
    public func createSession(_ session: AuthSession) async throws {
        _ = try SessionID(checking: session.id.rawValue)
        try withState { state in
            try state.requireUser(session.userID)
            guard state.sessions[session.id] == nil else {
                throw ChatError(.conflict, "A session with that ID exists.")
            }
            state.sessions[session.id] = session
        }
    }

    public func session(_ id: SessionID) async throws -> AuthSession? {
        try withState { $0.sessions[id] }
    }

    public func rotateRefreshToken(of id: SessionID, from oldHash: String, to newHash: String, expiresAt: Date)
        async throws -> AuthSession
    {
        return try withState { state in
            let now = now()
            guard var session = state.sessions[id], session.revokedAt == nil else {
                throw ChatError(.notFound, "No active session with that ID.")
            }
            // The same rotation made before (a refresh retried): nothing to change.
            if session.refreshTokenHash == newHash { return session }
            guard session.refreshTokenHash == oldHash else {
                session.revokedAt = now
                state.sessions[id] = session
                throw ChatError(.conflict, "The refresh token was already used; the session is revoked.")
            }
            session.refreshTokenHash = newHash
            session.expiresAt = expiresAt
            session.refreshedAt = now
            state.sessions[id] = session
            return session
        }
    }

    public func revokeSession(_ id: SessionID) async throws {
        try withState { state in
            let now = now()
            if state.sessions[id]?.revokedAt == nil { state.sessions[id]?.revokedAt = now }
        }
    }

    public func deleteSessions(endedBefore date: Date, limit: Int) async throws -> Int {
        try MembershipRules.validateLimit(limit)
        return try withState { state in
            let ended = state.sessions.lazy.filter { _, session in
                (session.revokedAt.map { $0 < date } ?? false) || session.expiresAt < date
            }
            let deleting = Array(ended.prefix(limit).map(\.key))
            for id in deleting { state.sessions[id] = nil }
            return deleting.count
        }
    }

    public func revokeSessions(of user: UserID) async throws {
        try withState { state in
            let now = now()
            for (id, session) in state.sessions where session.userID == user && session.revokedAt == nil {
                state.sessions[id]?.revokedAt = now
            }
        }
    }
}
