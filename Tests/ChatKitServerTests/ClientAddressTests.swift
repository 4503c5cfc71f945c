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
@testable import ChatKitServer
import ChatKitTesting
import Foundation
import NIOCore
import Synchronization
import Testing

/// Limits per client address behind a reverse proxy, and the token routes' own limits.
@Suite("Client addresses and token limits")
struct ClientAddressTests {
    private static func address(_ text: String) throws -> SocketAddress {
        try SocketAddress(ipAddress: text, port: 4711)
    }

    private static func client(
        _ resolver: ClientAddressResolver, peer: String, _ forwardedFor: [String]
    ) throws -> String? {
        resolver.clientAddress(peer: try address(peer), forwardedFor: forwardedFor)
            .map(ClientAddressResolver.canonicalText)
    }

    @Test func theClientIsTheRightmostAddressThatIsNotATrustedProxy() throws {
        let resolver = try ClientAddressResolver(trustedProxies: ["127.0.0.1", "10.0.0.2", "::1"])
        // A trusted proxy's request: the address it appended.
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["203.0.113.7"]) == "203.0.113.7")
        // A client's own entries on the left are not believed.
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["198.51.100.1, 203.0.113.7"]) == "203.0.113.7")
        // Two proxies: the outer one (trusted) appended the client, the inner one appended the outer one.
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["203.0.113.7, 10.0.0.2"]) == "203.0.113.7")
        // Several header fields read as one list; spaces, tabs, ports and brackets as proxies write them.
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["198.51.100.1", "\t203.0.113.7:5555 "]) == "203.0.113.7")
        #expect(try Self.client(resolver, peer: "::1", ["[2001:db8::7]:443"]) == "2001:db8::7")
        #expect(try Self.client(resolver, peer: "::ffff:127.0.0.1", ["2001:DB8:0:0::7"]) == "2001:db8::7")
        // Nothing usable: the proxy's own address.
        #expect(try Self.client(resolver, peer: "127.0.0.1", []) == "127.0.0.1")
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["10.0.0.2"]) == "127.0.0.1")
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["203.0.113.7, unknown"]) == "127.0.0.1")
        // Empty list elements are ignored, as HTTP lists have them (RFC 9110, 5.6.1).
        #expect(try Self.client(resolver, peer: "127.0.0.1", ["203.0.113.7,, "]) == "203.0.113.7")
        // A peer that is no trusted proxy is the client, whatever it writes.
        #expect(try Self.client(resolver, peer: "198.51.100.9", ["203.0.113.7"]) == "198.51.100.9")
        let trustingNobody = try ClientAddressResolver(trustedProxies: [])
        #expect(try Self.client(trustingNobody, peer: "127.0.0.1", ["203.0.113.7"]) == "127.0.0.1")
    }

    @Test func aTrustedProxyMustBeAnAddress() {
        for text in ["127.0.0.1", "::1", "2001:db8::1", "[::1]:80", "192.0.2.1:80"] {
            #expect(HTTPRoutes.Configuration.isProxyAddress(text), "\(text)")
        }
        for text in ["localhost", "", "10.0.0.0/8", "300.1.1.1", "proxy.example"] {
            #expect(!HTTPRoutes.Configuration.isProxyAddress(text), "\(text)")
        }
    }

    /// Behind a proxy every client had the proxy's address: one client could use up everyone's sign-ups and
    /// logins (and, at the address of a user's own logins, lock that user out).
    @Test func behindATrustedProxyEachClientHasItsOwnLimits() async throws {
        let http = HTTPRoutes.Configuration(
            signUpBurst: 2, signUpInterval: .seconds(3600), trustedProxies: ["127.0.0.1"]
        )
        try await LiveServer.run(httpConfiguration: http) { live in
            func signUp(_ name: String, from client: String) async throws -> Int {
                try await live.http(
                    "POST", "/v1/auth/signup", json: ["username": name, "password": "correct horse battery"],
                    headers: ["X-Forwarded-For": client]
                ).status
            }
            #expect(try await signUp("user-a1", from: "203.0.113.1") == 201)
            #expect(try await signUp("user-a2", from: "203.0.113.1") == 201)
            let refused = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "user-a3", "password": "correct horse battery"],
                headers: ["X-Forwarded-For": "203.0.113.1"]
            )
            #expect(refused.status == 429)
            #expect(refused.retryAfter != nil)
            // Another client behind the same proxy has its own bucket; writing another address to the left of
            // what the proxy appended does not escape one's own.
            #expect(try await signUp("user-b1", from: "203.0.113.2") == 201)
            #expect(try await signUp("user-a4", from: "198.51.100.1, 203.0.113.1") == 429)
        }
    }

    @Test func withoutATrustedProxyTheHeaderIsIgnored() async throws {
        let http = HTTPRoutes.Configuration(signUpBurst: 2, signUpInterval: .seconds(3600))
        try await LiveServer.run(httpConfiguration: http) { live in
            for (index, client) in ["203.0.113.1", "203.0.113.2", "203.0.113.3"].enumerated() {
                let answer = try await live.http(
                    "POST", "/v1/auth/signup", json: ["username": "user-\(index)", "password": "correct horse battery"],
                    headers: ["X-Forwarded-For": client]
                )
                #expect(answer.status == (index < 2 ? 201 : 429), "sign-up \(index)")
            }
        }
    }

    /// Refreshes were not limited: each writes to the store and gives the token for the next, so a loop of them
    /// wrote at will. They are limited per login session (not per address: users behind one NAT share it).
    @Test func refreshesAndLogoutsAreLimitedPerLoginSession() async throws {
        let http = HTTPRoutes.Configuration(logInBurst: 3, logInInterval: .seconds(3600))
        try await LiveServer.run(httpConfiguration: http) { live in
            let tokens = try await live.signUp("alice")
            var statuses: [Int] = []
            for _ in 0..<4 {
                statuses.append(
                    try await live.http("POST", "/v1/auth/logout", json: ["refreshToken": tokens.refreshToken]).status
                )
            }
            #expect(statuses == [204, 204, 204, 429])
            let refresh = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": tokens.refreshToken])
            #expect(refresh.status == 429, "refreshes share the bucket of logouts")
            #expect(refresh.retryAfter != nil)
            // Logouts with the access token count against the same login session.
            let bearer = try await live.http("POST", "/v1/auth/logout", bearer: tokens.accessToken)
            #expect(bearer.status == 429)
            // Another login from the same address has its own.
            let other = try await live.signUp("bob")
            for _ in 0..<3 {
                let answer = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": other.refreshToken])
                #expect(answer.status != 429)
            }
        }
    }

    /// The in-memory store, counting session revocations.
    final class RevocationCountingStore: ChatStoreDecorator {
        let base: any ChatStore
        let revocations = Atomic<Int>(0)

        init(_ base: any ChatStore) { self.base = base }

        func revokeSession(_ id: SessionID) async throws {
            revocations.add(1, ordering: .relaxed)
            try await base.revokeSession(id)
        }
    }

    @Test func loggingOutOfARevokedSessionWritesNothing() async throws {
        let store = RevocationCountingStore(InMemoryChatStore())
        let auth = AuthService(store: store, secret: LiveServer.secret, configuration: .init(bcryptCost: 4))
        let tokens = try await auth.signUp(username: "alice", password: "correct horse battery")
        let refreshed = try await auth.refresh(tokens.refreshToken)
        try await auth.logOut(refreshToken: refreshed.refreshToken)
        #expect(store.revocations.load(ordering: .relaxed) == 1)
        for token in [tokens.refreshToken, refreshed.refreshToken] { try await auth.logOut(refreshToken: token) }
        // The access token stays valid for a logout until it expires: it writes nothing either.
        for _ in 0..<2 { try await auth.logOut(accessToken: refreshed.accessToken) }
        #expect(store.revocations.load(ordering: .relaxed) == 1)
    }

    @Test func aRefusedTokenIsAnsweredWithItsScheme() async throws {
        try await LiveServer.run { live in
            let answer = try await live.http("GET", "/v1/conversations")
            #expect(answer.status == 401)
            #expect(answer.wwwAuthenticate == "Bearer")
            let bad = try await live.http("GET", "/v1/conversations", bearer: "not a token")
            #expect(bad.status == 401)
            #expect(bad.wwwAuthenticate == "Bearer")
        }
    }

    /// A long poll over the user's connection limit was answered 400, which clients take for good.
    @Test func aLongPollOverTheConnectionLimitIsToldWhenToTryAgain() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxConnectionsPerUser = 1
        try await LiveServer.run(configuration: configuration) { live in
            let tokens = try await live.signUp("alice")
            let client = try await live.connect(tokens.accessToken)
            let answer = try await live.http("GET", "/v1/sync?wait=0", bearer: tokens.accessToken)
            #expect(answer.status == 429)
            #expect(answer.retryAfter == "5")
            #expect(answer.code == "limitExceeded")
            withExtendedLifetime(client) {}
        }
    }
}
