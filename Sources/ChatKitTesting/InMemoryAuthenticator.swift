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
import Synchronization

/// An ``ChatKitCore/Authenticator`` that accepts the tokens it was told about: a test double, and a starting
/// point for apps whose tokens are checked elsewhere.
///
/// ```swift
/// let authenticator = InMemoryAuthenticator()
/// authenticator.register(token: "alice-token", for: alice)
/// ```
public final class InMemoryAuthenticator: Authenticator {
    private let tokens = Mutex<[String: UserID]>([:])

    /// Creates an authenticator that knows no tokens.
    public init() {}

    /// Accepts `token` as proof of `user` from now on.
    public func register(token: String, for user: UserID) {
        tokens.withLock { $0[token] = user }
    }

    /// Stops accepting `token`; a later ``authenticate(token:)`` with it is rejected.
    public func revoke(token: String) {
        tokens.withLock { $0[token] = nil }
    }

    /// The user of a registered token.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` for a token it does not know.
    public func authenticate(token: String) async throws -> AuthenticatedUser? {
        guard let user = tokens.withLock({ $0[token] }) else {
            throw ChatError(.unauthenticated, "The token is unknown or was revoked.")
        }
        return AuthenticatedUser(userID: user)
    }
}
