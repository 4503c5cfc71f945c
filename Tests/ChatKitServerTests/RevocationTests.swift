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
import ChatKitServer
import ChatKitTesting
import Testing

@Suite("Revoked logins close their connections")
struct RevocationTests {
    @Test func loggingOutClosesThatSessionsConnectionsOnly() async throws {
        let store = InMemoryChatStore()
        let transport = InProcessTransport()
        var configuration = AuthService.Configuration()
        configuration.bcryptCost = 4
        let auth = AuthService(store: store, secret: Array(repeating: UInt8(3), count: 32), configuration: configuration)
        let server = ChatServer(store: store, transports: [transport], authenticators: [auth.authenticator])
        auth.whenSessionsRevoked { revocation in
            server.closeSessions(of: revocation.userID, sessionID: revocation.sessionID?.rawValue)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            let phoneTokens = try await auth.signUp(username: "alice", password: "correct horse")
            let laptopTokens = try await auth.logIn(username: "alice", password: "correct horse")
            let phone = TestClient(ChatClient(transport: transport, token: phoneTokens.accessToken))
            let laptop = TestClient(ChatClient(transport: transport, token: laptopTokens.accessToken))
            try await phone.client.connected()
            try await laptop.client.connected()

            try await auth.logOut(accessToken: phoneTokens.accessToken)
            _ = await phone.runResult()
            do {
                try await phone.client.connected()
                Issue.record("the logged-out phone is still connected")
            } catch let error as ChatError {
                #expect(error.reason?.contains("unauthenticated") == true, "\(error)")
            }
            try await laptop.client.ping()

            _ = try await auth.changePassword(
                userID: phoneTokens.user.id, currentPassword: "correct horse", newPassword: "battery staple"
            )
            _ = await laptop.runResult()
            #expect(laptop.client.connectionState == .disconnected)
        }
    }
}
