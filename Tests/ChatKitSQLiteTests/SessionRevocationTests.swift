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
import Dispatch
import Foundation
import GRDB
import Synchronization
import Testing

@testable import ChatKitSQLite

/// A reused refresh token revokes its session, and that revocation must commit although the call fails.
@Suite("SQLite session revocation")
struct SessionRevocationTests {
    /// GRDB's async write rolls its transaction back (or never starts it) when its task is cancelled: a reuse
    /// whose request was given up on (a thief's client closing at once, a shutdown) left the session active.
    @Test func aReusedTokensRevocationCommitsThoughItsCallerIsCancelled() async throws {
        let store = try SQLiteChatStore(configuration: .inMemory)
        defer { try? store.close() }
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        let session = AuthSession(
            id: "session-1", userID: alice, refreshTokenHash: "hash-1", createdAt: created,
            expiresAt: created.addingTimeInterval(86_400)
        )
        try await store.createSession(session)
        let expiry = created.addingTimeInterval(2 * 86_400)
        _ = try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-2", expiresAt: expiry)

        // The writer is held, so that the reuse waits for it and its task is cancelled before it runs.
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Task {
            try await store.writer.write { _ in
                entered.signal()
                release.wait()
            }
        }
        try await waitOnThread { entered.wait() }
        let reuse = Task {
            try await store.rotateRefreshToken(of: session.id, from: "hash-1", to: "hash-3", expiresAt: expiry)
        }
        reuse.cancel()
        release.signal()
        try await holder.value
        let outcome = await reuse.result
        #expect(throws: ChatError.self) { try outcome.get() }
        #expect(try await store.session(session.id)?.revokedAt != nil, "the reused token's session is still active")
    }

    /// Waits on a thread of its own for `wait` (which blocks), so that the test's tasks go on meanwhile.
    private func waitOnThread(_ wait: @escaping @Sendable () -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                wait()
                continuation.resume()
            }
        }
    }
}
