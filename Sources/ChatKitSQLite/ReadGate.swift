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

/// Lets at most a fixed number of tasks through at once; the others wait, first come first served.
///
/// The store passes its long reads (searches, backups) through one, so that they never hold every reader
/// connection: the short reads that run on their caller's thread then find a connection free at once, or after
/// another short read, and never block that thread for the length of a search.
final class ReadGate: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    /// A gate that lets `width` tasks (at least one) through at once.
    init(width: Int) {
        state = Mutex(State(available: max(1, width)))
    }

    /// Runs `body` once fewer than `width` other bodies are running.
    func pass<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await enter()
        defer { leave() }
        return try await body()
    }

    private func enter() async {
        await withCheckedContinuation { continuation in
            let entered = state.withLock { state in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if entered { continuation.resume() }
        }
    }

    /// Hands the place to the oldest waiter, if any.
    private func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// How many tasks wait (observed by tests).
    var waitingCount: Int { state.withLock { $0.waiters.count } }
}
