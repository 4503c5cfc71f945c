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

/// Identifies a login session (one device's sign-in).
public struct SessionID: ChatIdentifier {
    public let rawValue: String
    /// Creates a session ID from its raw string.
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A login session: what a refresh token renews and what logging out revokes.
///
/// The store keeps only a hash of the current refresh token; the token itself is never stored.
public struct AuthSession: Hashable, Sendable, Codable {
    /// The session's identifier (carried in its tokens).
    public var id: SessionID
    /// Who signed in.
    public var userID: UserID
    /// The hash of the session's current refresh token.
    public var refreshTokenHash: String
    /// When the user signed in.
    public var createdAt: Date
    /// When the current refresh token expires.
    public var expiresAt: Date
    /// When the current refresh token replaced the one before it
    /// (``SessionStore/rotateRefreshToken(of:from:to:expiresAt:)``); `nil` before the first refresh, or from a
    /// store that does not keep it. `AuthService` answers a refresh retried soon after this moment again.
    public var refreshedAt: Date?
    /// When the session was revoked (logout, password change, refresh-token reuse), if it was.
    public var revokedAt: Date?
    /// The version of the user's credentials (``Credentials/version``) the session was opened with; `nil` from a
    /// store that does not keep it. `AuthService` refuses to refresh a session opened before the password changed,
    /// even one that a failed change left unrevoked.
    public var credentialsVersion: Int64?

    /// Whether the session can still be used at `date`.
    public func isActive(at date: Date) -> Bool { revokedAt == nil && date < expiresAt }

    /// Creates a session value.
    public init(
        id: SessionID,
        userID: UserID,
        refreshTokenHash: String,
        createdAt: Date,
        expiresAt: Date,
        refreshedAt: Date? = nil,
        revokedAt: Date? = nil,
        credentialsVersion: Int64? = nil
    ) {
        self.id = id
        self.userID = userID
        self.refreshTokenHash = refreshTokenHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.refreshedAt = refreshedAt
        self.revokedAt = revokedAt
        self.credentialsVersion = credentialsVersion
    }
}
