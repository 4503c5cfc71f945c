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

import ChatKitCore
import Crypto
import Foundation

/// An opaque refresh token, `<session ID>.<16 bytes of nonce + 16 bytes of MAC, base64url>`. Stores keep only
/// ``hash``. A login's nonce is random; each refresh's is derived from the token it replaces (``successor(key:)``).
///
/// The MAC (HMAC-SHA256 under a key derived from the server secret, over the session ID and the nonce)
/// lets the server refuse a forged token before it reaches the store. Without it, anyone who knows a session ID
/// (it is readable in every access token) could present a made-up token, which the store cannot tell from a
/// reused one, and so revoke someone else's session.
struct RefreshToken {
    /// The session the token renews.
    var sessionID: SessionID
    /// The whole token string.
    var value: String

    /// The key refresh tokens are authenticated with, derived from the server secret.
    static func key(fromSecret secret: some DataProtocol) -> SymmetricKey {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("chatkit refresh token v1".utf8), using: SymmetricKey(data: Array(secret))
        )
        return SymmetricKey(data: Array(mac))
    }

    /// A new token for `sessionID`, from the system's cryptographically secure generator.
    static func generate(for sessionID: SessionID, key: SymmetricKey) -> RefreshToken {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<2 {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        bytes += mac(sessionID: sessionID, nonce: bytes, key: key)
        return RefreshToken(sessionID: sessionID, value: "\(sessionID.rawValue).\(base64URL(bytes))")
    }

    /// The token a refresh exchanges this one for, derived from it under `key`: a token presented again (a
    /// refresh retried after its answer was lost, two tabs refreshing at once) yields the same successor, which
    /// the store recognises as the rotation already made. Without the key nobody can compute it.
    func successor(key: SymmetricKey) -> RefreshToken {
        let label = Array("chatkit refresh token successor v1".utf8)
        let successorKey = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: label, using: key)))
        var bytes = Array(HMAC<SHA256>.authenticationCode(for: Array(value.utf8), using: successorKey).prefix(16))
        bytes += Self.mac(sessionID: sessionID, nonce: bytes, key: key)
        return RefreshToken(sessionID: sessionID, value: "\(sessionID.rawValue).\(Self.base64URL(bytes))")
    }

    /// Splits a token presented by a client; `nil` if it does not have the shape of one or was not issued with
    /// `key`.
    init?(parsing value: String, key: SymmetricKey) {
        guard value.utf8.count <= 256, let dot = value.firstIndex(of: ".") else { return nil }
        let id = SessionID(rawValue: String(value[..<dot]))
        let secret = value[value.index(after: dot)...]
        guard !id.rawValue.isEmpty, secret.utf8.count == 43,
            secret.utf8.allSatisfy({ byte in Self.base64URLAlphabet.contains(byte) }),
            let bytes = Self.bytes(fromBase64URL: String(secret)), bytes.count == 32,
            Self.constantTimeEqual(Array(bytes[16...]), Self.mac(sessionID: id, nonce: Array(bytes[..<16]), key: key))
        else { return nil }
        self.init(sessionID: id, value: value)
    }

    private static func mac(sessionID: SessionID, nonce: [UInt8], key: SymmetricKey) -> [UInt8] {
        let message = Array(sessionID.rawValue.utf8) + [0] + nonce
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key)).prefix(16).map { $0 }
    }

    private static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return zip(lhs, rhs).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func bytes(fromBase64URL text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64).map { Array($0) }
    }

    private init(sessionID: SessionID, value: String) {
        self.sessionID = sessionID
        self.value = value
    }

    /// The SHA-256 of the token, lowercase hex: what the store keeps.
    var hash: String {
        SHA256.hash(data: Array(value.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private static let base64URLAlphabet = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
