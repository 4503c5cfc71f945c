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
@testable import ChatKitServer
import Foundation
import NIOCore
import Testing

@Suite("HTTP routes beside the WebSocket")
struct WebSocketHTTPRoutesTests {
    @Test func signUpLogInRefreshAndLogOut() async throws {
        try await LiveServer.run { live in
            let signedUp = try await live.http(
                "POST", "/v1/auth/signup",
                json: ["username": "Alice", "password": "correct horse battery", "displayName": "Alice A."]
            )
            #expect(signedUp.status == 201)
            #expect(signedUp.cacheControl == "no-store", "tokens kept by a browser's or a proxy's cache")
            let first = try signedUp.decode(AuthTokens.self)
            #expect(first.user.username == "alice")

            let login = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "alice", "password": "correct horse battery"]
            )
            #expect(login.status == 200)
            let tokens = try login.decode(AuthTokens.self)

            let refreshed = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": tokens.refreshToken])
            #expect(refreshed.status == 200)
            #expect(refreshed.cacheControl == "no-store")
            let next = try refreshed.decode(AuthTokens.self)
            #expect(next.refreshToken != tokens.refreshToken)

            let logout = try await live.http("POST", "/v1/auth/logout", bearer: next.accessToken)
            #expect(logout.status == 204)
            let afterLogout = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": next.refreshToken])
            #expect(afterLogout.status == 401)
            #expect(afterLogout.code == "unauthenticated")
            // The other session still works.
            let other = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": first.refreshToken])
            #expect(other.status == 200)
            // A logout by refresh token (no access token needed) ends it too.
            let otherTokens = try other.decode(AuthTokens.self)
            let byRefresh = try await live.http(
                "POST", "/v1/auth/logout", json: ["refreshToken": otherTokens.refreshToken]
            )
            #expect(byRefresh.status == 204)
            let afterIt = try await live.http(
                "POST", "/v1/auth/refresh", json: ["refreshToken": otherTokens.refreshToken]
            )
            #expect(afterIt.status == 401)
            let nothing = try await live.http("POST", "/v1/auth/logout")
            #expect(nothing.status == 401)
        }
    }

    @Test("a refresh sent twice at once and retried later gets the same tokens; reuse after that revokes")
    func aRetriedRefreshOverHTTP() async throws {
        try await LiveServer.run { live in
            let signedUp = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "alice", "password": "correct horse battery"]
            )
            let first = try signedUp.decode(AuthTokens.self)
            async let one = live.http("POST", "/v1/auth/refresh", json: ["refreshToken": first.refreshToken])
            async let two = live.http("POST", "/v1/auth/refresh", json: ["refreshToken": first.refreshToken])
            let (a, b) = try await (one, two)
            #expect(a.status == 200 && b.status == 200)
            let next = try a.decode(AuthTokens.self)
            #expect(try b.decode(AuthTokens.self).refreshToken == next.refreshToken)
            let retried = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": first.refreshToken])
            #expect(retried.status == 200)
            #expect(try retried.decode(AuthTokens.self).refreshToken == next.refreshToken)

            let onward = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": next.refreshToken])
            #expect(onward.status == 200)
            let reused = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": first.refreshToken])
            #expect(reused.status == 401)
            let newest = try onward.decode(AuthTokens.self)
            let dead = try await live.http("POST", "/v1/auth/refresh", json: ["refreshToken": newest.refreshToken])
            #expect(dead.status == 401)
        }
    }

    @Test func failuresAreJSONWithAStatusPerCode() async throws {
        try await LiveServer.run(
            authConfiguration: .init(bcryptCost: 4, limits: .init(loginAttemptBurst: 2, loginAttemptInterval: .seconds(60)))
        ) { live in
            _ = try await live.signUp("bob")

            let notJSON = try await live.http("POST", "/v1/auth/signup", rawBody: "username=bob")
            #expect(notJSON.status == 400)
            #expect(notJSON.code == "invalidArgument")
            #expect((notJSON.json["message"] as? String)?.isEmpty == false)

            let missing = try await live.http("POST", "/v1/auth/login", json: ["username": "bob"])
            #expect(missing.status == 400)
            #expect(missing.code == "invalidArgument")
            #expect(missing.json["message"] as? String == "The body lacks the field 'password'.")
            // Each malformed body is named for what it is (a null field was "not a JSON object", an array "the field
            // 'body' has the wrong type").
            let malformed = [
                #"{"username": null, "password": "correct horse battery"}"#: "The field 'username' has no value.",
                #"{"username": 7, "password": "correct horse battery"}"#: "The field 'username' has the wrong type.",
                #"["bob", "correct horse battery"]"#: "The body is not a JSON object.",
            ]
            for (body, message) in malformed {
                let answer = try await live.http("POST", "/v1/auth/login", rawBody: body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.json["message"] as? String == message, "\(body)")
            }

            let weak = try await live.http("POST", "/v1/auth/signup", json: ["username": "carol", "password": "short"])
            #expect(weak.status == 400)

            let taken = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "bob", "password": "correct horse battery"]
            )
            #expect(taken.status == 409)
            #expect(taken.code == "conflict")

            let wrong = try await live.http("POST", "/v1/auth/login", json: ["username": "bob", "password": "wrong password"])
            #expect(wrong.status == 401)
            #expect(wrong.code == "unauthenticated")
            #expect(!String(decoding: wrong.data, as: UTF8.self).contains("wrong password"))

            // The burst of two is spent: the third attempt is limited, with a hint.
            _ = try await live.http("POST", "/v1/auth/login", json: ["username": "bob", "password": "wrong again"])
            let limited = try await live.http("POST", "/v1/auth/login", json: ["username": "bob", "password": "x"])
            #expect(limited.status == 429)
            #expect(limited.code == "limitExceeded")
            #expect(limited.retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
            #expect((limited.json["retryAfterMilliseconds"] as? Int).map { $0 > 0 } == true)

            let noToken = try await live.http("POST", "/v1/auth/logout")
            #expect(noToken.status == 401)

            let huge = try await live.http(
                "POST", "/v1/auth/login",
                json: ["username": "bob", "password": String(repeating: "p", count: 64 * 1024)]
            )
            #expect(huge.status == 413)
            #expect(huge.code == "limitExceeded")
        }
    }

    @Test func signUpsAreLimitedPerClientAddress() async throws {
        try await LiveServer.run(httpConfiguration: .init(signUpBurst: 2, signUpInterval: .seconds(60))) { live in
            _ = try await live.signUp("first")
            _ = try await live.signUp("second")
            let third = try await live.http(
                "POST", "/v1/auth/signup", json: ["username": "third", "password": "correct horse battery"]
            )
            #expect(third.status == 429)
            #expect(third.code == "limitExceeded")
            #expect(third.retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
            // Logins are not sign-ups.
            let login = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "first", "password": "correct horse battery"]
            )
            #expect(login.status == 200)
        }
    }

    /// Every login attempt costs a bcrypt hash, unknown usernames included: attempts are limited per client
    /// address, so trying new usernames cannot keep the server hashing.
    @Test func loginAttemptsAreLimitedPerClientAddress() async throws {
        let configuration = HTTPRoutes.Configuration(signUpBurst: 100, logInBurst: 3, logInInterval: .seconds(60))
        try await LiveServer.run(httpConfiguration: configuration) { live in
            for number in 0..<3 {
                let attempt = try await live.http(
                    "POST", "/v1/auth/login", json: ["username": "nobody\(number)", "password": "correct horse battery"]
                )
                #expect(attempt.status == 401)
            }
            let fourth = try await live.http(
                "POST", "/v1/auth/login", json: ["username": "nobody3", "password": "correct horse battery"]
            )
            #expect(fourth.status == 429)
            #expect(fourth.code == "limitExceeded")
            #expect(fourth.retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
        }
    }

    /// Logging out over HTTP closes the connections opened with that login session, with no wiring by the app:
    /// the routes ask the server they serve to.
    @Test func loggingOutOverHTTPClosesTheSessionsConnections() async throws {
        try await LiveServer.run { live in
            let tokens = try await live.signUp("alice")
            let alice = try await live.connect(tokens.accessToken)
            let logout = try await live.http("POST", "/v1/auth/logout", bearer: tokens.accessToken)
            #expect(logout.status == 204)
            // The connection closes (it would stay open, receiving events, until the peer left).
            // The client learns why (the close's reason): its run ends refused as unauthenticated, not as a drop.
            let ended = try await withTimeout("the logged-out session to close") { await alice.runResult() }
            guard case .failure(let error as ChatError) = ended else {
                Issue.record("run() ended with \(ended), not a refusal")
                return
            }
            #expect(error.code == .unauthenticated, "\(error)")
            try await waitUntil("the server to let the connection go") { live.server.connectionCount == 0 }
        }
    }

    /// Sign-ups and logins are limited per IPv4 address, and per /64 for IPv6 (a client usually holds a whole
    /// /64); IPv4 clients reaching an IPv6 socket keep their own addresses.
    @Test func requestsAreLimitedPerIPv4AddressAndPerIPv6Prefix() throws {
        func key(_ address: String) throws -> String? {
            HTTPRoutes.limitKey(for: try SocketAddress(ipAddress: address, port: 0))
        }
        #expect(try key("10.0.0.1") != key("10.0.0.2"))
        #expect(try key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff:abcd:1:2"))
        #expect(try key("2001:db8:1:2::1") != key("2001:db8:1:3::1"))
        #expect(try key("::ffff:10.0.0.1") == key("10.0.0.1"))
        #expect(try key("::ffff:10.0.0.1") != key("::ffff:10.0.0.2"))
    }

    @Test func healthAndReadiness() async throws {
        try await LiveServer.run { live in
            let health = try await live.http("GET", "/health")
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "ok")
            let ready = try await live.http("GET", "/ready")
            #expect(ready.status == 200)
            #expect(ready.json["status"] as? String == "ready")
            // Load balancers often probe with HEAD (it was 404): the same status, no body.
            for (path, get) in [("/health", health), ("/ready", ready)] {
                let probe = try await live.http("HEAD", path)
                #expect(probe.status == 200, "HEAD \(path)")
                #expect(probe.data.isEmpty, "HEAD \(path)")
                // The length the GET's body has, as RFC 9110 asks of HEAD (not 0).
                #expect(probe.header("Content-Length") == "\(get.data.count)", "HEAD \(path)")
            }
        }
    }
}
