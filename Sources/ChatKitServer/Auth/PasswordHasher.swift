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
import Foundation
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

    /// The password as it is hashed: in Unicode's composed form (NFC). The same password typed on two systems (an
    /// "ö" as one character, or as "o" and a combining diaeresis, as macOS file names and some keyboards give it)
    /// is then the same bytes.
    static func normalized(_ password: String) -> String {
        password.precomposedStringWithCanonicalMapping
    }

    /// The forms of a typed password to check against a stored hash: the composed one, then the bytes as typed when
    /// they differ (a hash made before passwords were composed, from what its owner's system typed: matched from
    /// that system), at most two bcrypt checks. A form past bcrypt's 72 bytes (composing lengthens a few
    /// characters) or with NUL is left out: it could match by its prefix alone.
    private static func candidates(_ password: String) -> [String] {
        let composed = normalized(password)
        let forms = composed.utf8.elementsEqual(password.utf8) ? [password] : [composed, password]
        return forms.filter(CredentialRules.isAcceptablePassword)
    }

    /// Whether a typed password has a form that a stored hash could match
    /// (``CredentialRules/isAcceptablePassword(_:)`` of its composed form, or of the bytes as typed).
    static func isAcceptable(_ password: String) -> Bool {
        !candidates(password).isEmpty
    }

    /// The bcrypt hash of `password` (composed, ``normalized(_:)``), with a fresh salt.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func hash(_ password: String) async throws(ChatError) -> String {
        let cost = cost
        let composed = Self.normalized(password)
        return try await run { Bcrypt.hash(composed, cost: cost) }
    }

    /// Whether `password` (composed, or as typed) matches `hash`.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func verify(_ password: String, hash: String) async throws(ChatError) -> Bool {
        let candidates = Self.candidates(password)
        return try await run { candidates.contains { Bcrypt.verify($0, hash: hash) } }
    }

    /// The hash of `newPassword` (composed) when `password` matches `hash`, else `nil`: both in one turn of the
    /// queue, so that a password change is not refused as busy halfway, after its current password was checked.
    ///
    /// - Throws: ``busy`` when too many hashes and checks are running and waiting.
    func replace(_ password: String, hash: String, with newPassword: String) async throws(ChatError) -> String? {
        let cost = cost
        let candidates = Self.candidates(password)
        let composed = Self.normalized(newPassword)
        return try await run {
            candidates.contains { Bcrypt.verify($0, hash: hash) } ? Bcrypt.hash(composed, cost: cost) : nil
        }
    }

    /// Spends as long as a ``verify(_:hash:)`` of a wrong password would (a check per form of the password), for a
    /// login whose user does not exist, so the response time does not tell whether a username is
    /// taken. The first call hashes (which takes as long as a check) to make the dummy hash it compares against
    /// later. Busy alike, for the same reason.
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
