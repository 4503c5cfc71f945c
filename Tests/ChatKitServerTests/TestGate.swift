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

/// A one-way gate: tasks wait at it until it is opened, and pass at once after.
final class TestGate: Sendable {
    private struct State {
        var isOpen = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Waits until the gate is open, or the waiting task is cancelled (as a write on a socket does): a test waiting
    /// for a request to reach a store fails at its timeout instead of hanging when the request never comes.
    func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let goOn = state.withLock { state in
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if goOn { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Waits until the gate is open, whatever happens to the waiting task: for a store call held at a gate (a
    /// server cancelling the call would otherwise let it through before the test means to). Open the gate when
    /// the test ends (in a `defer`).
    func waitUntilOpen() async {
        await withCheckedContinuation { continuation in
            let goOn = state.withLock { state in
                if state.isOpen { return true }
                state.nextID += 1
                state.waiters[state.nextID] = continuation
                return false
            }
            if goOn { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }
}
