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

/// Turns a bearer token into the user it was issued to.
///
/// The server asks each configured authenticator in turn: `nil` means "not my kind of token, ask the next",
/// a thrown ``ChatError`` `.unauthenticated` rejects the token outright. ChatKitServer ships a JWT
/// authenticator; an embedding app can plug in its own session system instead.
public protocol Authenticator: Sendable {
    /// The user the token proves, `nil` if this authenticator does not recognise the token.
    ///
    /// - Throws: ``ChatError`` `.unauthenticated` for a token it recognises but rejects (expired, revoked).
    func authenticate(token: String) async throws -> AuthenticatedUser?
}

/// Who a token belongs to.
public struct AuthenticatedUser: Sendable, Hashable {
    /// The user.
    public var userID: UserID
    /// The login session the token belongs to, if the authenticator tracks sessions (for revocation).
    public var sessionID: String?

    /// Creates an authenticated user.
    public init(userID: UserID, sessionID: String? = nil) {
        self.userID = userID
        self.sessionID = sessionID
    }
}
