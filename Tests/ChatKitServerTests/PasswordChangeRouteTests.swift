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

import ChatKitClient
import ChatKitCore
import Testing

@testable import ChatKitServer

/// `POST /v1/auth/password` over real sockets. The standalone server had no way to change a password, although
/// Operations.md tells operators to have users change theirs after a break-in.
@Suite("Changing a password over HTTP")
struct PasswordChangeRouteTests {
    private let password = "correct horse battery"
    private let newPassword = "a new good password"

    @Test func aPasswordChangeEndsEveryOtherSessionAndAnswersWithNewTokens() async throws {
        try await LiveServer.run { live in
            let phone = try await live.signUp("alice")
            let socket = try await live.connect(phone.accessToken)
            let laptop = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": password]
            ).decode(AuthTokens.self)

            let wrong = try await live.http(
                "POST", "/v1/auth/password", json: ["currentPassword": "not the password", "newPassword": newPassword],
                bearer: laptop.accessToken
            )
            #expect(wrong.status == 401)
            #expect(wrong.code == "unauthenticated")
            let anonymous = try await live.http(
                "POST", "/v1/auth/password", json: ["currentPassword": password, "newPassword": newPassword]
            )
            #expect(anonymous.status == 401)
            #expect(live.server.connectionCount == 1, "a refused change ends nothing")

            let changed = try await live.http(
                "POST", "/v1/auth/password", json: ["currentPassword": password, "newPassword": newPassword],
                bearer: laptop.accessToken
            )
            #expect(changed.status == 200)
            let tokens = try changed.decode(AuthTokens.self)
            #expect(tokens.user.username == "alice")
            // Every earlier session ends: the phone's socket closes, and neither refresh token works.
            try await live.waitUntilConnections(0)
            for old in [phone, laptop] {
                let refresh = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": old.refreshToken])
                #expect(refresh.status == 401)
            }
            let oldLogin = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": password]
            )
            #expect(oldLogin.status == 401)
            let newLogin = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": newPassword]
            )
            #expect(newLogin.status == 200)
            // The tokens of the answer open a session.
            let again = try await live.connect(tokens.accessToken)
            let short = try await live.http(
                "POST", "/v1/auth/password", json: ["currentPassword": newPassword, "newPassword": "short"],
                bearer: tokens.accessToken
            )
            #expect(short.status == 400)
            #expect(short.code == "invalidArgument")
            await again.disconnect()
            await socket.disconnect()
        }
    }
}
