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
import Synchronization

/// The `send` requests a session has read and not yet answered, appended in batches, in order.
///
/// A session used to serve one request at a time, so a connection had one append in flight however many sends
/// its client pipelined, and a group commit carried at most one message per connection. Now the session queues
/// each `send` here and reads on; a worker takes everything queued and appends it with one
/// ``ChatKitCore/MessageStore/append(contentsOf:)`` call, which keeps the order. Any other request waits until
/// the queue is empty and the worker is done, so requests still take effect in the order they were sent.
///
/// Two ways to work it: a session whose frames a task reads (``Session/run(inbound:)``) queues with ``push(_:)``,
/// which waits for room when ``capacity`` sends wait (so the reader stops reading the socket), and starts a worker
/// task that calls ``next()`` until it returns `nil`; other requests wait for ``waitUntilIdle()``. A session whose
/// socket pushes frames (``PushedSession``) queues with ``pushUnlessFull(_:)`` and appends the queue itself, with
/// no task of its own: once no frame is left to read, before any other request, and when the queue is full.
final class SendPipeline: Sendable {
    /// A `send` read from the connection.
    struct PendingSend: Sendable {
        /// The request's ID, for its answer.
        let id: String
        let request: ClientRequest.Send
        /// When it was read, for the acknowledgement-time metric.
        let received: ContinuousClock.Instant
    }

    /// How many sends may wait (not counting the batch being appended).
    let capacity: Int

    private enum Push {
        case queued(startWorker: Bool)
        case full
    }

    private struct State {
        var queue: [PendingSend] = []
        /// Whether sends are queued or being appended: set by the push that must start a worker (or by any
        /// ``pushUnlessFull(_:)``, whose caller appends the queue itself), cleared by ``next()`` once the queue is
        /// empty. ``waitUntilIdle()`` waits for it to clear, so a caller that appends the queue itself must not
        /// wait for it while sends are queued.
        var isWorking = false
        /// Readers waiting for room.
        var roomWaiters: [CheckedContinuation<Void, Never>] = []
        /// Callers of ``waitUntilIdle()``.
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// - Parameter capacity: How many sends may wait; at least one.
    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    /// Queues a send, waiting for room if the queue is full. Returns `true` when the caller must start a worker
    /// (a task that calls ``next()`` until it returns `nil`).
    func push(_ send: PendingSend) async -> Bool {
        while true {
            let push = state.withLock { state -> Push in
                guard state.queue.count < capacity else { return .full }
                state.queue.append(send)
                if state.isWorking { return .queued(startWorker: false) }
                state.isWorking = true
                return .queued(startWorker: true)
            }
            switch push {
            case .queued(let startWorker):
                return startWorker
            case .full:
                await withCheckedContinuation { continuation in
                    let hasRoom = state.withLock { state in
                        if state.queue.count < capacity { return true }
                        state.roomWaiters.append(continuation)
                        return false
                    }
                    if hasRoom { continuation.resume() }
                }
            }
        }
    }

    /// Queues a send unless the queue is full; never waits. For a caller that appends the queue itself (calling
    /// ``next()`` until it returns `nil`) when this returns `false`, and once it has read what there is to read.
    func pushUnlessFull(_ send: PendingSend) -> Bool {
        state.withLock { state in
            guard state.queue.count < capacity else { return false }
            state.queue.append(send)
            state.isWorking = true
            return true
        }
    }

    /// The worker's next batch: everything queued, in order; `nil` when the queue is empty, which ends the worker.
    func next() -> [PendingSend]? {
        let (batch, waiters) = state.withLock { state -> ([PendingSend]?, [CheckedContinuation<Void, Never>]) in
            guard !state.queue.isEmpty else {
                state.isWorking = false
                defer { state.idleWaiters = [] }
                return (nil, state.idleWaiters)
            }
            let batch = state.queue
            state.queue = []
            defer { state.roomWaiters = [] }
            return (batch, state.roomWaiters)
        }
        for waiter in waiters { waiter.resume() }
        return batch
    }

    /// Returns once no send waits and no worker is appending.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let isIdle = state.withLock { state in
                if state.queue.isEmpty && !state.isWorking { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if isIdle { continuation.resume() }
        }
    }
}
