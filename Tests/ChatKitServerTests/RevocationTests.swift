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
import Synchronization
import Testing

@Suite("Revoked logins close their connections")
struct RevocationTests {
    @Test func loggingOutClosesThatSessionsConnectionsOnly() async throws {
        let store = InMemoryChatStore()
        let transport = InProcessTransport()
        var configuration = AuthService.Configuration()
        configuration.bcryptCost = 4
        let auth = AuthService(store: store, secret: Array(repeating: UInt8(3), count: 32), configuration: configuration)
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [auth.authenticator], configuration: .loadTolerant
        )
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

    /// The store, failing `revokeSessions(of:)` once armed (a full disk, a busy database).
    final class FailingRevocationsStore: ChatStoreDecorator {
        let base: any ChatStore
        let fails = Atomic<Bool>(false)

        init(_ base: any ChatStore) { self.base = base }

        func revokeSessions(of user: UserID) async throws {
            if fails.load(ordering: .relaxed) { throw ChatError(.storageFailure, "The disk is full.") }
            try await base.revokeSessions(of: user)
        }
    }

    /// A password change that stored the new password and then failed to revoke the sessions answered an error and
    /// left the other devices' connections open (their tokens refused from then on, but nothing closed them).
    @Test func aPasswordChangeThatFailsAfterStoringThePasswordStillClosesTheOtherConnections() async throws {
        let store = FailingRevocationsStore(InMemoryChatStore())
        try await Self.withServer(on: store) { auth, transport in
            let phoneTokens = try await auth.signUp(username: "alice", password: "correct horse")
            let laptopTokens = try await auth.logIn(username: "alice", password: "correct horse")
            let laptop = TestClient(ChatClient(transport: transport, token: laptopTokens.accessToken))
            try await laptop.client.connected()

            store.fails.store(true, ordering: .relaxed)
            let error = await #expect(throws: ChatError.self) {
                try await auth.changePassword(
                    userID: phoneTokens.user.id, currentPassword: "correct horse", newPassword: "battery staple"
                )
            }
            #expect(error?.code == .storageFailure)
            try await waitUntil("the laptop's connection to close", timeout: .seconds(60)) {
                laptop.client.connectionState == .disconnected
            }
        }
    }

    /// A refresh that finds the password changed since its session began (set through the store, or by a change
    /// that failed halfway) revokes the session; its connections stayed open.
    @Test func aRefreshThatFindsThePasswordChangedClosesThatSessionsConnections() async throws {
        let store = InMemoryChatStore()
        try await Self.withServer(on: store) { auth, transport in
            let tokens = try await auth.signUp(username: "alice", password: "correct horse")
            let laptop = TestClient(ChatClient(transport: transport, token: tokens.accessToken))
            try await laptop.client.connected()

            // An operator's tool sets the password through the store, leaving the sessions as they are.
            _ = try await store.setPasswordHash("a hash of another password", of: tokens.user.id)
            let error = await #expect(throws: ChatError.self) { try await auth.refresh(tokens.refreshToken) }
            #expect(error?.code == .unauthenticated)
            try await waitUntil("the laptop's connection to close", timeout: .seconds(60)) {
                laptop.client.connectionState == .disconnected
            }
        }
    }

    /// The store, holding one call of `latestPosition()` once armed: a session opening then waits in its handshake
    /// with its token already accepted.
    final class HandshakeHoldingStore: ChatStoreDecorator {
        let base: any ChatStore
        let isArmed = Atomic<Bool>(false)
        let entered = AsyncStream<Void>.makeStream()
        let gate = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func latestPosition() async throws -> StreamPosition {
            if isArmed.exchange(false, ordering: .relaxed) {
                entered.continuation.yield()
                await gate.waitUntilOpen()
            }
            return try await base.latestPosition()
        }
    }

    /// A login revoked while a session opened with it is in its handshake (its token accepted, the connection not
    /// registered yet) still ends that session: it is refused with `unauthenticated`, not opened.
    @Test func aSessionStillOpeningWhenItsLoginIsRevokedIsRefused() async throws {
        let store = InMemoryChatStore()
        let holding = HandshakeHoldingStore(store)
        let transport = InProcessTransport()
        let auth = Self.auth(store)
        let server = ChatServer(
            store: holding, transports: [transport], authenticators: [auth.authenticator], configuration: .loadTolerant
        )
        Self.closeRevokedSessions(auth, server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer {
                holding.gate.open()
                group.cancelAll()
            }
            let bobTokens = try await auth.signUp(username: "bob", password: "correct horse")
            let bob = TestClient(ChatClient(transport: transport, token: bobTokens.accessToken))
            try await bob.client.connected()
            let aliceTokens = try await auth.signUp(username: "alice", password: "correct horse")

            holding.isArmed.store(true, ordering: .relaxed)
            let alice = TestClient(ChatClient(transport: transport, token: aliceTokens.accessToken))
            try await withTimeout("alice's handshake to reach the store") {
                var entered = holding.entered.stream.makeAsyncIterator()
                _ = await entered.next()
            }
            try await auth.logOut(accessToken: aliceTokens.accessToken)
            holding.gate.open()

            _ = try await withTimeout("alice's session to end") { await alice.runResult() }
            do {
                try await alice.client.connected()
                Issue.record("the session opened after its login was revoked")
            } catch let error as ChatError {
                #expect(error.reason?.contains("unauthenticated") == true, "\(error)")
            }
            #expect(!alice.events.contains { if case .synced = $0 { true } else { false } })
            try await bob.client.ping()
        }
    }

    /// An authenticator that, once armed, holds one accepted token before answering.
    final class HoldingAuthenticator: Authenticator {
        let inner: any Authenticator
        let isArmed = Atomic<Bool>(false)
        let entered = AsyncStream<Void>.makeStream()
        let gate = TestGate()

        init(_ inner: any Authenticator) { self.inner = inner }

        func authenticate(token: String) async throws -> AuthenticatedUser? {
            let user = try await inner.authenticate(token: token)
            if isArmed.exchange(false, ordering: .relaxed) {
                entered.continuation.yield()
                await gate.waitUntilOpen()
            }
            return user
        }
    }

    /// A long poll whose token was accepted just before its login was revoked is refused with `unauthenticated`
    /// instead of waiting for events.
    @Test func aLongPollStillStartingWhenItsLoginIsRevokedIsRefused() async throws {
        let store = InMemoryChatStore()
        let auth = Self.auth(store)
        let holding = HoldingAuthenticator(auth.authenticator)
        let server = ChatServer(
            store: store, transports: [], authenticators: [holding], configuration: .loadTolerant
        )
        Self.closeRevokedSessions(auth, server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer {
                holding.gate.open()
                group.cancelAll()
            }
            let tokens = try await auth.signUp(username: "alice", password: "correct horse")
            holding.isArmed.store(true, ordering: .relaxed)
            let poll = Task {
                try await server.events(token: tokens.accessToken, after: .start, limit: nil, waitingUpTo: .seconds(25))
            }
            try await withTimeout("the poll's token check") {
                var entered = holding.entered.stream.makeAsyncIterator()
                _ = await entered.next()
            }
            try await auth.logOut(accessToken: tokens.accessToken)
            holding.gate.open()
            let result = try await withTimeout("the poll's answer") { await poll.result }
            #expect(throws: ChatError.self, "the poll waited for events after its login was revoked") {
                try result.get()
            }
            if case .failure(let error as ChatError) = result { #expect(error.code == .unauthenticated) }
        }
    }

    /// Accounts on `store`, bcrypt at its lowest cost.
    static func auth(_ store: any ChatStore) -> AuthService {
        var configuration = AuthService.Configuration()
        configuration.bcryptCost = 4
        return AuthService(store: store, secret: Array(repeating: UInt8(3), count: 32), configuration: configuration)
    }

    /// Runs a server on `store` with accounts (bcrypt at its lowest cost) whose revocations close connections, while
    /// `body` runs with them and the in-process transport to reach the server.
    static func withServer(
        on store: any ChatStore, _ body: (AuthService, InProcessTransport) async throws -> Void
    ) async throws {
        let transport = InProcessTransport()
        let auth = Self.auth(store)
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [auth.authenticator], configuration: .loadTolerant
        )
        Self.closeRevokedSessions(auth, server)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            try await body(auth, transport)
        }
    }

    /// Closes the server's connections of every login session `auth` revokes.
    static func closeRevokedSessions(_ auth: AuthService, _ server: ChatServer) {
        auth.whenSessionsRevoked { revocation in
            server.closeSessions(of: revocation.userID, sessionID: revocation.sessionID?.rawValue)
        }
    }
}

/// A client with a token provider whose open session is closed because its login was revoked asks for a fresh
/// token each time, however often that happens over its life.
@Suite struct RepeatedRevocationTests {
    @Test func aClientWhoseLoginIsRevokedTwiceRefreshesEachTime() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            for version in 2...3 { harness.authenticator.register(token: "token-alice-\(version)", for: alice) }
            let asks = Mutex<[Bool]>([])
            let client = TestClient(
                ChatClient(transport: harness.transport) { refresh in
                    let refreshes = asks.withLock { asks in
                        asks.append(refresh)
                        return asks.count { $0 }
                    }
                    return refreshes == 0 ? "token-alice" : "token-alice-\(refreshes + 1)"
                }
            )
            try await client.client.connected()
            // The welcome comes before the catch-up: a close between the two would leave the first session unsynced.
            try await client.waitFor("session 1 synced") { events in
                events.contains { if case .synced = $0 { true } else { false } }
            }
            for round in 1...2 {
                harness.server.closeSessions(of: alice)
                try await client.waitFor("session \(round + 1) synced") { events in
                    events.count { if case .synced = $0 { true } else { false } } == round + 1
                }
            }
            #expect(asks.withLock { $0 } == [false, true, true])
        }
    }

    /// The fresh token after a revocation comes after the reconnection backoff: a provider whose tokens are revoked
    /// as soon as they are used must not make the client reconnect in a tight loop.
    @Test func aRevokedSessionReconnectsAfterTheBackoff() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            harness.authenticator.register(token: "token-alice-2", for: alice)
            let clientClock = ManualClock()
            let asks = Mutex<[Bool]>([])
            let client = TestClient(
                ChatClient(transport: harness.transport, configuration: .init(clock: clientClock)) { refresh in
                    asks.withLock { $0.append(refresh) }
                    return refresh ? "token-alice-2" : "token-alice"
                }
            )
            try await client.client.connected()
            // The welcome comes before the catch-up: a close between the two would leave the first session unsynced.
            try await client.waitFor("the first session synced") { events in
                events.contains { if case .synced = $0 { true } else { false } }
            }
            harness.server.closeSessions(of: alice)
            try await waitUntil("the client to wait before reconnecting") {
                client.client.connectionState.isWaitingToReconnect
            }
            // The state is set just before the sleep starts: advanced in between, the clock would leave the sleep's
            // deadline (taken from its time then) in the future for good.
            try await withTimeout("the backoff's sleep") { await clientClock.waitForSleepers(1) }
            #expect(asks.withLock { $0 } == [false])
            clientClock.advance(by: .seconds(60))
            try await client.waitFor("the second session synced") { events in
                events.count { if case .synced = $0 { true } else { false } } == 2
            }
            #expect(asks.withLock { $0 } == [false, true])
        }
    }

    /// Without reconnection, a session closed because its login was revoked ends `run()` with `unauthenticated`,
    /// token provider or not: no second session.
    @Test func withoutReconnectionARevokedSessionEndsTheRun() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let asks = Mutex(0)
            let client = TestClient(
                ChatClient(transport: harness.transport, configuration: .singleSession) { _ in
                    asks.withLock { $0 += 1 }
                    return "token-alice"
                }
            )
            try await client.client.connected()
            harness.server.closeSessions(of: alice)
            let ended = try await withTimeout("the run to end") { await client.runResult() }
            guard case .failure(let error as ChatError) = ended else {
                Issue.record("run() ended with \(ended), not a refusal")
                return
            }
            #expect(error.code == .unauthenticated)
            #expect(asks.withLock { $0 } == 1)
        }
    }
}
