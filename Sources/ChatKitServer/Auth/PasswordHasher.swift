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
import HummingbirdBcrypt
import Synchronization

/// Bcrypt, run on a ``BlockingWorkQueue``: a hash or check blocks its thread for 100 ms or more, which must not
/// happen on the Swift concurrency cooperative pool (it has one thread per core), nor on too many threads at once
/// (the event loops would get a small share of the cores).
struct PasswordHasher: Sendable {
    private final class DummyHash: Sendable {
        let value = Mutex<String?>(nil)
    }

    let cost: UInt8
    /// Where the hashes and checks run.
    let queue: BlockingWorkQueue
    private let dummy = DummyHash()

    init(cost: Int, concurrency: Int, waitingLimit: Int) {
        precondition((4...31).contains(cost), "The bcrypt cost must be between 4 and 31")
        self.cost = UInt8(cost)
        queue = BlockingWorkQueue(label: "chatkit.auth.bcrypt", limit: concurrency, waitingLimit: waitingLimit)
    }

    /// The answer to a request that needs bcrypt while the queue is full.
    static let busy: ChatError = {
        var error = ChatError(
            .unavailable, "The server is busy checking other passwords; retry in a moment (nothing was changed)."
        )
        error.retryAfter = .seconds(1)
        return error
    }()

    /// The bcrypt hash of `password`, with a fresh salt.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func hash(_ password: String) async throws(ChatError) -> String {
        let cost = cost
        return try await run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func verify(_ password: String, hash: String) async throws(ChatError) -> Bool {
        try await run { Bcrypt.verify(password, hash: hash) }
    }

    /// The hash of `newPassword` when `password` matches `hash`, else `nil`: both in one turn of the queue, so that
    /// a password change is not refused as busy halfway, after its current password was checked.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func replace(_ password: String, hash: String, with newPassword: String) async throws(ChatError) -> String? {
        let cost = cost
        return try await run {
            Bcrypt.verify(password, hash: hash) ? Bcrypt.hash(newPassword, cost: cost) : nil
        }
    }

    /// Spends as long as a ``verify(_:hash:)`` would, for a login whose user does not exist, so the response time
    /// does not tell whether a username is taken. The first call hashes (which takes as long as a check) to make
    /// the dummy hash it compares against later. Busy alike, for the same reason.
    func verifyNothing(_ password: String) async throws(ChatError) {
        if let hash = dummy.value.withLock({ $0 }) {
            _ = try await verify(password, hash: hash)
        } else {
            let hash = try await self.hash("chatkit-dummy-password")
            dummy.value.withLock { $0 = hash }
        }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws(ChatError) -> T {
        do {
            return try await queue.run(work)
        } catch {
            throw Self.busy
        }
    }
}
