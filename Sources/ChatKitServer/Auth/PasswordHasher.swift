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

import Dispatch
import HummingbirdBcrypt
import Synchronization

/// Bcrypt, run on a dispatch queue: a hash or check blocks its thread for 100 ms or more, which must not happen on
/// the Swift concurrency cooperative pool (it has one thread per core).
struct PasswordHasher: Sendable {
    private final class DummyHash: Sendable {
        let value = Mutex<String?>(nil)
    }

    private static let queue = DispatchQueue(label: "chatkit.auth.bcrypt", qos: .userInitiated, attributes: .concurrent)

    let cost: UInt8
    private let dummy = DummyHash()

    init(cost: Int) {
        precondition((4...31).contains(cost), "The bcrypt cost must be between 4 and 31")
        self.cost = UInt8(cost)
    }

    /// The bcrypt hash of `password`, with a fresh salt.
    func hash(_ password: String) async -> String {
        let cost = cost
        return await Self.offPool { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`.
    func verify(_ password: String, hash: String) async -> Bool {
        await Self.offPool { Bcrypt.verify(password, hash: hash) }
    }

    /// Spends as long as a ``verify(_:hash:)`` would, for a login whose user does not exist, so the response time
    /// does not tell whether a username is taken. The first call hashes (which takes as long as a check) to make
    /// the dummy hash it compares against later.
    func verifyNothing(_ password: String) async {
        if let hash = dummy.value.withLock({ $0 }) {
            _ = await verify(password, hash: hash)
        } else {
            let hash = await self.hash("chatkit-dummy-password")
            dummy.value.withLock { $0 = hash }
        }
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
