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

/// What a ``ChatClient`` receives, queued in the client until taken: ``ChatClient/events``.
///
/// Iterate it with `for await`. Ending an iteration, by leaving the loop or by cancelling the task that runs it
/// (a view that goes away), takes nothing from the queue: events that arrive meanwhile wait in the client, and the
/// next iteration starts with them, so an app that stops and starts consuming loses no event. (An `AsyncStream`
/// ends for good when its consuming task is cancelled, and would drop every later event.) Each event is taken
/// once: iterations running at the same time share the events between them, so consume with one. The sequence
/// ends only when the client is released.
public struct ClientEvents: AsyncSequence, Sendable {
    public typealias Element = ClientEvent
    public typealias Failure = Never

    let queue: ClientEventQueue

    /// Takes the client's events one at a time.
    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = ClientEvent
        public typealias Failure = Never

        let queue: ClientEventQueue

        /// The next event, waiting for one; `nil` once the task is cancelled (the event stays queued) or the
        /// client is released and every event was taken.
        public mutating func next() async -> ClientEvent? {
            await queue.take()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: queue)
    }
}

/// The queue behind ``ClientEvents``: events buffered until taken, and the iterations waiting for one.
final class ClientEventQueue: Sendable {
    private struct State {
        /// Events not yet taken, from `head` on.
        var buffer: [ClientEvent] = []
        var head = 0
        /// Iterations waiting for an event, oldest first.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<ClientEvent?, Never>)] = []
        var nextWaiterID: UInt64 = 0
        var isFinished = false

        mutating func pop() -> ClientEvent? {
            guard head < buffer.count else { return nil }
            let event = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.count <= 1024)
                head = 0
            }
            return event
        }
    }

    private let state = Mutex(State())

    /// How many iterations wait for an event (observed by tests).
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Hands `event` to the oldest waiting iteration, or queues it.
    func yield(_ event: ClientEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<ClientEvent?, Never>? in
            guard !state.isFinished else { return nil }
            guard !state.waiters.isEmpty else {
                state.buffer.append(event)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: event)
    }

    /// Ends the sequence: waiting iterations get `nil`; events already queued can still be taken.
    func finish() {
        let waiters = state.withLock { state in
            state.isFinished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: nil) }
    }

    /// The next event, waiting for one; `nil` if the calling task is cancelled (taking nothing) or the queue is
    /// finished and empty.
    func take() async -> ClientEvent? {
        let id = state.withLock { state in
            defer { state.nextWaiterID &+= 1 }
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> ClientEvent?? in
                    // Checked under the lock: a cancellation after it finds the waiter below and removes it.
                    if Task.isCancelled { return .some(nil) }
                    if let event = state.pop() { return .some(event) }
                    if state.isFinished { return .some(nil) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<ClientEvent?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: nil)
        }
    }
}
