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

/// What a successful sign-up, login, refresh or password change hands the client: a short-lived access token
/// for `hello`, a long-lived refresh token to get the next pair, and the user.
///
/// Keep the refresh token secret (a keychain, never a log). Each refresh token works once: ``AuthService``
/// rotates it on every ``AuthService/refresh(_:)``, and presenting a used one again revokes the session (a refresh
/// retried within a few seconds, before the new token was used, gets the same new token again instead).
///
/// The ``description`` leaves both tokens out, so printing or logging the value does not leak them.
public struct AuthTokens: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A signed JWT to pass as the token of the `hello` frame (see ``JWTAuthenticator``).
    public var accessToken: String
    /// An opaque token for ``AuthService/refresh(_:)``: `<session ID>.<random>`.
    public var refreshToken: String
    /// When ``accessToken`` stops being accepted; refresh a little before.
    public var accessTokenExpiresAt: Date
    /// When ``refreshToken`` stops being accepted; after that the user logs in again.
    public var refreshTokenExpiresAt: Date
    /// The signed-in user.
    public var user: User

    /// Creates a token pair.
    ///
    /// - Parameters:
    ///   - accessToken: The signed access token.
    ///   - refreshToken: The opaque refresh token.
    ///   - accessTokenExpiresAt: When the access token expires.
    ///   - refreshTokenExpiresAt: When the refresh token expires.
    ///   - user: The signed-in user.
    public init(
        accessToken: String,
        refreshToken: String,
        accessTokenExpiresAt: Date,
        refreshTokenExpiresAt: Date,
        user: User
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessTokenExpiresAt = accessTokenExpiresAt
        self.refreshTokenExpiresAt = refreshTokenExpiresAt
        self.user = user
    }

    /// A description without the tokens themselves.
    public var description: String {
        "AuthTokens(user: \(user.id), accessTokenExpiresAt: \(accessTokenExpiresAt), "
            + "refreshTokenExpiresAt: \(refreshTokenExpiresAt))"
    }
}
