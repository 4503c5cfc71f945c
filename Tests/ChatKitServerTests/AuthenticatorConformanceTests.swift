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
import ChatKitServer
import ChatKitTesting
import Foundation
import Testing

@Suite("Authenticator conformance")
struct AuthenticatorConformanceTests {
    @Test(arguments: AuthenticatorConformance.cases)
    func inMemoryAuthenticator(_ check: AuthenticatorConformance.Case) async throws {
        try await check.run {
            let authenticator = InMemoryAuthenticator()
            return AuthenticatorConformance.Subject(
                authenticator: authenticator,
                makeUser: { name in UserID(rawValue: name) },
                issueToken: { user in
                    let token = "token-\(user)-\(UUID().uuidString)"
                    authenticator.register(token: token, for: user)
                    return token
                },
                revokeToken: { token in authenticator.revoke(token: token) }
            )
        }
    }

    @Test(arguments: AuthenticatorConformance.cases)
    func jwtAuthenticator(_ check: AuthenticatorConformance.Case) async throws {
        try await check.run {
            let store = InMemoryChatStore()
            var configuration = AuthService.Configuration()
            configuration.bcryptCost = 4
            let auth = AuthService(
                store: store, secret: Array(repeating: UInt8(7), count: 32), configuration: configuration
            )
            let settings = configuration
            return AuthenticatorConformance.Subject(
                authenticator: auth.authenticator,
                makeUser: { name in try await auth.signUp(username: name, password: "correct horse").user.id },
                issueToken: { user in
                    let name = try await store.user(user)!.username
                    return try await auth.logIn(username: name, password: "correct horse").accessToken
                },
                revokeToken: { token in try await auth.logOut(accessToken: token) },
                issueExpiredToken: { user in
                    // The same keys and store, with a clock a day behind: its 15-minute tokens have expired.
                    let yesterday = AuthService(
                        store: store, secret: Array(repeating: UInt8(7), count: 32), configuration: settings,
                        now: { Date().addingTimeInterval(-86_400) }
                    )
                    let name = try await store.user(user)!.username
                    return try await yesterday.logIn(username: name, password: "correct horse").accessToken
                },
                // An opaque session token of another login system that the app runs beside ChatKit's.
                foreignToken: "sess_0123abcd"
            )
        }
    }
}
