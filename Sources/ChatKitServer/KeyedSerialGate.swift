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

import Synchronization

/// Runs the work of one key at a time, in arrival order; different keys run at once.
///
/// The server checks a conversation's size before adding members and the store then writes: two such changes at
/// once would both pass the check (a group grown past ``ChatServerConfiguration/Limits/maxMembers`` by concurrent
/// `addMembers` or `join` requests). Each conversation's membership changes go through the gate. (Within one
/// server: several nodes sharing a store would need the store to hold the limit.)
final class KeyedSerialGate<Key: Hashable & Sendable>: Sendable {
    /// The busy keys, each with the callers waiting for it.
    private let waiting = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` once no earlier work of `key` runs.
    func run<Result>(_ key: Key, _ body: () async throws -> Result) async throws -> Result {
        await enter(key)
        defer { leave(key) }
        return try await body()
    }

    /// How many callers wait for `key` behind the one that runs (for tests).
    func waitingCount(_ key: Key) -> Int {
        waiting.withLock { $0[key]?.count ?? 0 }
    }

    private func enter(_ key: Key) async {
        await withCheckedContinuation { continuation in
            let busy = waiting.withLock { waiting -> Bool in
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return false
                }
                waiting[key]?.append(continuation)
                return true
            }
            if !busy { continuation.resume() }
        }
    }

    private func leave(_ key: Key) {
        let next = waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard var queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            let next = queue.removeFirst()
            waiting[key] = queue
            return next
        }
        next?.resume()
    }
}
