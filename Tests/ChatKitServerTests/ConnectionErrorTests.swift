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
import Synchronization
import Testing

/// A client that reconnects shows only `waitingToReconnect` between attempts; `lastConnectionError` says why they
/// fail, so that an app can tell a passing outage from a setting that will never work.
@Suite("Why a client cannot connect")
struct ConnectionErrorTests {
    @Test func aWrongURLIsToldAndAnOpenSessionClearsIt() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let wrongPath = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: "ws://127.0.0.1:\(live.port)/v1/nowhere"),
                token: alice.accessToken,
                configuration: .init(reconnection: .exponentialBackoff(initialDelay: .milliseconds(50)))
            )
            #expect(wrongPath.lastConnectionError == nil)
            let failing = TestClient(wrongPath)
            try await waitUntil("the wrong URL's failure to be told") { wrongPath.lastConnectionError != nil }
            let error = try #require(wrongPath.lastConnectionError)
            #expect(error.code == .unavailable)
            #expect(error.reason == "Could not connect to the server.")
            #expect(error.underlying != nil, "the transport's error, which names the upgrade's answer")
            await failing.disconnect()

            // A token provider that fails once, then waits to be let go: its failure is told meanwhile; then the
            // session opens and clears it.
            struct KeychainLocked: Error {}
            let calls = Mutex(0)
            let (releases, releaseProvider) = AsyncStream.makeStream(of: Void.self)
            let provided = ChatClient(
                transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL),
                configuration: .init(reconnection: .exponentialBackoff(initialDelay: .milliseconds(50)))
            ) { _ in
                let call = calls.withLock { calls in
                    calls += 1
                    return calls
                }
                if call == 1 { throw KeychainLocked() }
                for await _ in releases { break }
                return alice.accessToken
            }
            let client = TestClient(provided)
            try await waitUntil("the provider's second call") { calls.withLock { $0 } == 2 }
            let providerError = try #require(provided.lastConnectionError)
            #expect(providerError.reason == "The token provider failed.")
            #expect(providerError.underlying is KeychainLocked)
            releaseProvider.yield()
            _ = try await withTimeout("the session to open") { try await provided.connected() }
            #expect(provided.lastConnectionError == nil, "an open session has no connection error")
            await client.disconnect()

            // A provider that says the login is over ends the run with its error, which stays readable.
            let loggedOut = ChatClient(transport: WebSocketClientTransport.loadTolerant(url: live.webSocketURL)) { _ in
                throw ChatError(.unauthenticated, "Log in again.")
            }
            let ended = TestClient(loggedOut)
            guard case .failure(let failure) = await ended.runResult() else {
                Issue.record("run() returned without the provider's error")
                return
            }
            #expect((failure as? ChatError)?.code == .unauthenticated)
            #expect(loggedOut.lastConnectionError?.reason == "Log in again.")
        }
    }
}
