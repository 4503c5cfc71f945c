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
import Foundation
import JWTKit
import Synchronization

/// The JSON decoder JWTKit verifies ChatKit's access tokens with: JWTKit's own (`JSONDecoder`, dates as seconds
/// since 1970), but a token's claims are read without it when they are ChatKit's five in plain form, and the
/// last header decoded is remembered (every token ChatKit issues has the same one; another header replaces it,
/// so forged ones cannot crowd it out for good).
///
/// Both were `JSONDecoder` on every connect, about 4 % of the server's CPU in chatkit-bench's idle scenario.
/// Claims in any other form (other keys, fractional times, escapes the flat reader refuses) and every other
/// type go to `JSONDecoder`, so the result is always what `JSONDecoder` would give (a test compares them).
final class AccessTokenJSONDecoder: JWTJSONDecoder {
    private let fallback: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
    /// The last header decoded, with its bytes.
    private let lastHeader = Mutex<(bytes: Data, header: JWTHeader)?>(nil)
    /// How many claims were read without `JSONDecoder` (observed by tests).
    let claimsReadDirectly = Atomic<Int>(0)

    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if T.self == AccessTokenClaims.self, let claims = Self.claims(from: data) {
            claimsReadDirectly.add(1, ordering: .relaxed)
            return claims as! T  // T is AccessTokenClaims
        }
        if T.self == JWTHeader.self {
            if let header = lastHeader.withLock({ $0?.bytes == data ? $0?.header : nil }) {
                return header as! T  // T is JWTHeader
            }
            let header = try fallback.decode(JWTHeader.self, from: data)
            lastHeader.withLock { $0 = (data, header) }
            return header as! T  // T is JWTHeader
        }
        return try fallback.decode(T.self, from: data)
    }

    /// The claims, if `data` is a flat object with exactly `sub`, `sid`, `ver`, `exp` and `iat`, the last three
    /// integers (ChatKit issues whole seconds).
    static func claims(from data: Data) -> AccessTokenClaims? {
        guard let object = FlatJSONReader.object(in: Array(data)), object.fields.count == 5,
            case .string(let subject)? = object["sub"], case .string(let session)? = object["sid"],
            case .integer(let version)? = object["ver"], case .integer(let expiry)? = object["exp"],
            case .integer(let issued)? = object["iat"]
        else { return nil }
        return AccessTokenClaims(
            sub: SubjectClaim(value: subject),
            sid: session,
            ver: version,
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: Double(expiry))),
            iat: IssuedAtClaim(value: Date(timeIntervalSince1970: Double(issued)))
        )
    }
}
