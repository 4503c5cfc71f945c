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

import Foundation
import JWTKit
import Synchronization

/// The claims of a ChatKit access token.
struct AccessTokenClaims: JWTPayload, Equatable {
    /// The user ID.
    var sub: SubjectClaim
    /// The session ID (what logout revokes).
    var sid: String
    /// The credentials version the token was issued for; a password change makes it stale.
    var ver: Int64
    /// Expiry.
    var exp: ExpirationClaim
    /// Issue time.
    var iat: IssuedAtClaim

    /// Called by JWTKit after the signature checked out. Expiry is checked by ``JWTAuthenticator`` against its
    /// injected time instead (JWTKit's own check would read the system clock).
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The key ID of ChatKit's access-token signing key.
let accessTokenKeyID: JWKIdentifier = "chatkit"

/// The HS256 key collection, built once and shared by ``AuthService`` and its ``JWTAuthenticator``.
///
/// `JWTKeyCollection` is an actor whose `add` must be awaited, so the key is added on first use; the flag is set
/// only after the key is in, so a concurrent first use at worst adds the same key twice.
final class AccessTokenKeys: Sendable {
    /// Reads the tokens' headers and claims; observed by tests.
    let decoder = AccessTokenJSONDecoder()
    private let keys: JWTKeyCollection
    private let parser: DefaultJWTParser
    private let key: HMACKey
    private let ready = Mutex(false)

    /// Creates the collection for an HMAC secret.
    init(secret: some DataProtocol) {
        precondition(secret.count >= 32, "The access-token secret must be at least 32 bytes")
        key = HMACKey(from: secret)
        parser = DefaultJWTParser(jsonDecoder: decoder)
        keys = JWTKeyCollection(defaultJWTParser: parser)
    }

    private func collection() async -> JWTKeyCollection {
        if ready.withLock({ $0 }) { return keys }
        // The collection's parser reads the header; the key's parser (JWTKit's plain one unless given) the claims.
        await keys.add(hmac: key, digestAlgorithm: .sha256, kid: accessTokenKeyID, parser: parser)
        ready.withLock { $0 = true }
        return keys
    }

    /// Signs `claims` with the ChatKit key.
    func sign(_ claims: AccessTokenClaims) async throws -> String {
        try await collection().sign(claims, kid: accessTokenKeyID)
    }

    /// Verifies the signature of `token` and decodes its claims.
    func verify(_ token: String) async throws -> AccessTokenClaims {
        try await collection().verify(token, as: AccessTokenClaims.self)
    }
}
