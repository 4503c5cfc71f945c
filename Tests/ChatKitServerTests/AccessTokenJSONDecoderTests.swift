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

@testable import ChatKitServer
import Foundation
import JWTKit
import Synchronization
import Testing

@Suite("Reading access tokens' JSON")
struct AccessTokenJSONDecoderTests {
    static let reference: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()

    @Test("claims in ChatKit's form are read here, exactly as JSONDecoder reads them; others are left to it")
    func claims() throws {
        let decoder = AccessTokenJSONDecoder()
        let plain = #"{"exp":1764489600,"iat":1764488700,"sid":"s-1","sub":"u-\"1\"","ver":3}"#
        let taken = try #require(AccessTokenJSONDecoder.claims(from: Data(plain.utf8)))
        #expect(taken == (try Self.reference.decode(AccessTokenClaims.self, from: Data(plain.utf8))))
        for other in [
            #"{"exp":1764489600.5,"iat":1764488700,"sid":"s","sub":"u","ver":3}"#,  // a fraction
            #"{"exp":1764489600,"iat":1764488700,"sid":"s","sub":"u","ver":3,"aud":"x"}"#,  // another claim
            #"{"exp":1764489600,"iat":1764488700,"sid":"s","sub":"u"}"#,  // one missing
        ] {
            let data = Data(other.utf8)
            #expect(AccessTokenJSONDecoder.claims(from: data) == nil, "\(other)")
            let ours = try? decoder.decode(AccessTokenClaims.self, from: data)
            #expect(ours == (try? Self.reference.decode(AccessTokenClaims.self, from: data)), "\(other)")
        }
        // Invalid UTF-8 in a string (plain, and beside an escape): JSONDecoder refuses it, so the fast path must
        // not read it as U+FFFD.
        let start = Array(#"{"exp":1764489600,"iat":1764488700,"sid":"s","sub":""#.utf8)
        let end = Array(#"","ver":3}"#.utf8)
        for invalid in [start + Array("u".utf8) + [0xFF] + end, start + Array(#"\n"#.utf8) + [0xC3] + end] {
            let data = Data(invalid)
            #expect(AccessTokenJSONDecoder.claims(from: data) == nil)
            #expect((try? Self.reference.decode(AccessTokenClaims.self, from: data)) == nil)
        }
    }

    @Test("verifying an issued token reads its claims without JSONDecoder")
    func verificationUsesTheFastPath() async throws {
        let keys = AccessTokenKeys(secret: Data(repeating: 7, count: 32))
        let issued = AccessTokenClaims(
            sub: SubjectClaim(value: "u-1"), sid: "s-1", ver: 2,
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: 1_764_489_600)),
            iat: IssuedAtClaim(value: Date(timeIntervalSince1970: 1_764_488_700))
        )
        let token = try await keys.sign(issued)
        #expect(try await keys.verify(token) == issued)
        #expect(try await keys.verify(token) == issued)
        // JWTKit decodes the claims with the key's own parser: it must be ours, not JWTKit's plain one.
        let direct = keys.decoder.claimsReadDirectly.load(ordering: .relaxed)
        #expect(direct == 2)
    }

    @Test("headers decode as JSONDecoder decodes them, remembered or not")
    func headers() throws {
        let decoder = AccessTokenJSONDecoder()
        let first = Data(#"{"alg":"HS256","kid":"chatkit","typ":"JWT"}"#.utf8)
        let second = Data(#"{"alg":"HS512","kid":"other","typ":"JWT"}"#.utf8)
        for data in [first, first, second, first, second, second] {
            let ours = try decoder.decode(JWTHeader.self, from: data)
            let theirs = try Self.reference.decode(JWTHeader.self, from: data)
            #expect(ours.alg == theirs.alg)
            #expect(ours.kid == theirs.kid)
            #expect(ours.typ == theirs.typ)
        }
    }
}
