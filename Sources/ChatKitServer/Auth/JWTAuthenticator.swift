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
import JWTKit
import Synchronization

/// Accepts the access tokens of an ``AuthService``: checks the signature and expiry, then that the session is
/// still active and the password has not changed since the token was issued.
///
/// Get one from ``AuthService/authenticator`` and pass it to ``ChatServer``; a server that only checks tokens
/// (another process with the same store and secret) can create one with ``init(store:secret:now:)``. Such a
/// process refuses a revoked session's tokens from then on, but the connections it already holds stay open: a
/// logout or password change closes connections only in the process of the ``AuthService`` that made it. Tell the
/// other processes (your own messaging between them) and have each call ``ChatServer/closeSessions(of:sessionID:)``.
///
/// Tokens that are not JWTs, and JWTs signed under another key ID than `chatkit`, are not this authenticator's:
/// it answers `nil` so the next authenticator can try them. A ChatKit JWT that fails a check is rejected with
/// `.unauthenticated`. Reasons and logs never contain the token.
public struct JWTAuthenticator: Authenticator {
    private let store: any UserStore & SessionStore
    private let keys: AccessTokenKeys
    private let now: @Sendable () -> Date

    /// Creates an authenticator for tokens signed with `secret`.
    ///
    /// - Parameters:
    ///   - store: Where sessions and credentials are looked up.
    ///   - secret: The HS256 secret the tokens are signed with (at least 32 bytes), as given to ``AuthService``.
    ///   - now: The time expiry is checked at.
    public init(
        store: any UserStore & SessionStore,
        secret: some DataProtocol,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(store: store, keys: AccessTokenKeys(secret: secret), now: now)
    }

    init(store: any UserStore & SessionStore, keys: AccessTokenKeys, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.keys = keys
        self.now = now
    }

    /// The user and session of a valid access token.
    ///
    /// - Parameter token: The token of a `hello` frame.
    /// - Returns: The token's user and session ID, or `nil` if the token is not a JWT signed under the `chatkit`
    ///   key ID.
    /// - Throws: ``ChatKitCore/ChatError`` `.unauthenticated` for a bad signature, an expired token, a revoked or
    ///   expired session, or a password changed since the token was issued.
    public func authenticate(token: String) async throws -> AuthenticatedUser? {
        guard Self.isChatKitJWT(token) else { return nil }
        let claims = try await verifiedClaims(token)
        Self.noteVerified(token)
        let userID = UserID(rawValue: claims.sub.value)
        guard let session = try await store.session(SessionID(rawValue: claims.sid)), session.userID == userID,
            session.revokedAt == nil
        else {
            throw ChatError(.unauthenticated, "The access token's session was logged out or revoked; log in again.")
        }
        guard session.isActive(at: now()) else {
            throw ChatError(.unauthenticated, "The access token's session has expired; log in again.")
        }
        guard let credentials = try await store.credentials(of: userID), credentials.version == claims.ver else {
            throw ChatError(.unauthenticated, "The password changed after the access token was issued; log in again.")
        }
        return AuthenticatedUser(userID: userID, sessionID: claims.sid)
    }

    /// The claims of a token whose signature and expiry check out; the session is not looked at.
    func verifiedClaims(_ token: String) async throws -> AccessTokenClaims {
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(token)
        } catch {
            // JWTKit's errors may quote parts of the token: leave them out.
            throw ChatError(.unauthenticated, "The access token is malformed or its signature is invalid.")
        }
        do {
            try claims.exp.verifyNotExpired(currentDate: now())
        } catch {
            throw ChatError(.unauthenticated, "The access token has expired; refresh it.")
        }
        return claims
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    /// Whether `token` has a JWT's shape (three base64url segments) and a header naming the ChatKit key ID.
    static func isChatKitJWT(_ token: String) -> Bool {
        let segments = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, token.utf8.count <= 8192,
            segments.allSatisfy({ $0.allSatisfy(isBase64URLByte) })
        else { return false }
        // Every token ChatKit issues has the same header: once a token with it has verified, the same bytes need
        // not be decoded again (base64 and JSONDecoder: a few microseconds per connect).
        let header = segments[0]
        if lastVerifiedHeader.withLock({ known in known.map { header.elementsEqual($0.utf8) } ?? false }) {
            return true
        }
        guard let headerData = base64URLDecode(header),
            let decoded = try? JSONDecoder().decode(Header.self, from: headerData)
        else { return false }
        return decoded.kid == accessTokenKeyID.string
    }

    /// The header segment of the last token that verified. Only verified tokens set it, so forged headers cannot
    /// crowd it out for good; one place is enough, since ChatKit writes one header.
    private static let lastVerifiedHeader = Mutex<String?>(nil)

    /// Notes that `token`, a ChatKit JWT, verified.
    private static func noteVerified(_ token: String) {
        guard let end = token.utf8.firstIndex(of: UInt8(ascii: ".")) else { return }
        let header = String(token[..<end])
        lastVerifiedHeader.withLock { if $0 != header { $0 = header } }
    }

    private static func isBase64URLByte(_ byte: UInt8) -> Bool {
        (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte) || byte == 45 || byte == 95
    }

    private static func base64URLDecode(_ segment: Substring.UTF8View.SubSequence) -> Data? {
        var text = String(decoding: segment, as: UTF8.self)
            .replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        return Data(base64Encoded: text)
    }
}
