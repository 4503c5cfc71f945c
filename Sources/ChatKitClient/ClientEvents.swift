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

/// What a ``ChatClient`` receives, queued in the client until taken: ``ChatClient/events``.
///
/// Iterate it with `for await`. Ending an iteration, by leaving the loop or by cancelling the task that runs it
/// (a view that goes away), takes nothing from the queue: events that arrive meanwhile wait in the client, and the
/// next iteration starts with them, so an app that stops and starts consuming loses no event. (An `AsyncStream`
/// ends for good when its consuming task is cancelled, and would drop every later event.) Each event is taken
/// once: iterations running at the same time share the events between them, so consume with one. The sequence
/// ends only when the client is released. At most ``ChatClient/Configuration/eventBufferLimit`` events, of about
/// ``ChatClient/Configuration/eventBufferBytes``, wait; past that the oldest stored events, presence and typing
/// updates are dropped and counted (``ChatClient/droppedEventCount``); the events that tell the app what to do
/// (``ClientEvent/rewound(_:)``, ``ClientEvent/synced(_:)``, ``ClientEvent/goodbye(_:)``) stay, unless nothing else
/// waits and more of them come.
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

    /// An iterator that takes the client's events one at a time (see ``ClientEvents`` for how several share them).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: queue)
    }
}

/// The queue behind ``ClientEvents``: events buffered until taken, and the iterations waiting for one.
///
/// An event always goes into the buffer; a waiting iteration is only woken, and takes from the buffer itself under
/// the lock. So an iteration cancelled as it is woken takes nothing (it passes the wake-up on to the next waiting
/// one), and events leave the buffer in order.
final class ClientEventQueue: Sendable {
    private struct State {
        /// Events not yet taken, from `head` on.
        var buffer: [ClientEvent] = []
        var head = 0
        /// Iterations waiting to be woken, oldest first.
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiterID: UInt64 = 0
        var isFinished = false
        /// Events dropped because `limit` waited untaken, or `byteLimit`.
        var dropped = 0
        /// About how many bytes the waiting events take (``ClientEvent/bufferedSize``).
        var bytes = 0

        /// Takes the oldest waiting event.
        mutating func pop() -> ClientEvent? {
            let event = removeFirst()
            if let event { bytes -= event.bufferedSize }
            return event
        }

        /// Removes the first waiting place, without counting its bytes.
        private mutating func removeFirst() -> ClientEvent? {
            guard head < buffer.count else { return nil }
            let event = buffer[head]
            head += 1
            if head == buffer.count {
                buffer.removeAll(keepingCapacity: buffer.count <= 1024)
                head = 0
            } else if head >= 1024, head * 2 >= buffer.count {
                // A consumer that stays behind: drop what it took rather than keep it until the buffer drains.
                buffer.removeFirst(head)
                head = 0
            }
            return event
        }

        /// Drops the oldest waiting event that only carries data (a stored event, presence, typing), or returns
        /// `false` when none waits: the events that tell the app what to do stay, or an app that fell behind would
        /// miss that the server rewound (and keep what it shows as if nothing happened).
        ///
        /// The signals before it (rarely more than one or two) move one place on, over it, and the first place is
        /// let go: the cost is theirs, not the buffer's length.
        ///
        /// - Parameter end: Where to stop looking (by default, at the last waiting event).
        mutating func dropOldestData(before end: Int? = nil) -> Bool {
            let end = end ?? buffer.count
            guard head < end, let index = buffer[head..<end].firstIndex(where: { !$0.isSignal }) else { return false }
            bytes -= buffer[index].bufferedSize
            var place = index
            while place > head {
                buffer[place] = buffer[place - 1]
                place -= 1
            }
            _ = removeFirst()
            return true
        }

        /// The oldest waiting iteration, removed, if an event waits for it.
        mutating func waiterToWake() -> CheckedContinuation<Void, Never>? {
            guard head < buffer.count || isFinished, !waiters.isEmpty else { return nil }
            return waiters.removeFirst().continuation
        }
    }

    private let state = Mutex(State())
    /// The most events that wait untaken; the oldest are dropped past it.
    let limit: Int
    /// About the most bytes the events that wait untaken take (``ClientEvent/bufferedSize``); the oldest data
    /// events are dropped past it, but never the newest.
    let byteLimit: Int

    /// Creates a queue that keeps at most `limit` events, of about `byteLimit` bytes, untaken.
    init(limit: Int = 10_000, byteLimit: Int = ChatClient.Configuration.defaultEventBufferBytes) {
        precondition(limit >= 1, "The event buffer keeps at least one event")
        self.limit = limit
        self.byteLimit = byteLimit
    }

    /// How many iterations wait for an event (observed by tests).
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// How many events were dropped because `limit` events, or `byteLimit` bytes, waited untaken.
    var droppedCount: Int { state.withLock { $0.dropped } }

    /// Queues `event` (dropping the oldest if `limit` wait already, or past `byteLimit`) and wakes the oldest waiting
    /// iteration.
    func yield(_ event: ClientEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.isFinished else { return nil }
            if state.buffer.count - state.head >= limit {
                state.dropped += 1
                if !state.dropOldestData() {
                    // Only signals wait: a data event is dropped rather than one of them, and a signal takes the
                    // oldest one's place.
                    guard event.isSignal else { return nil }
                    _ = state.pop()
                }
            }
            state.buffer.append(event)
            state.bytes += event.bufferedSize
            // Large events (messages of 64 KiB) reach the byte bound long before the count: the oldest data go first,
            // never the event just queued.
            while state.bytes > byteLimit, state.dropOldestData(before: state.buffer.count - 1) {
                state.dropped += 1
            }
            return state.waiterToWake()
        }
        waiter?.resume()
    }

    /// Ends the sequence: waiting iterations get `nil`; events already queued can still be taken.
    func finish() {
        let waiters = state.withLock { state in
            state.isFinished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    /// The next event, waiting for one; `nil` if the calling task is cancelled (taking nothing) or the queue is
    /// finished and empty.
    func take() async -> ClientEvent? {
        while true {
            let id = state.withLock { state in
                defer { state.nextWaiterID &+= 1 }
                return state.nextWaiterID
            }
            enum Outcome {
                case event(ClientEvent)
                case end
                case wait
            }
            var outcome = Outcome.wait
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let (decided, passOn) = state.withLock { state -> (Outcome, CheckedContinuation<Void, Never>?) in
                        // Checked under the lock: a cancellation after it finds the waiter below and removes it.
                        if Task.isCancelled {
                            // A wake-up meant for this iteration goes to the next one, with the event it was for.
                            return (.end, state.waiterToWake())
                        }
                        if let event = state.pop() { return (.event(event), nil) }
                        if state.isFinished { return (.end, nil) }
                        state.waiters.append((id, continuation))
                        return (.wait, nil)
                    }
                    outcome = decided
                    passOn?.resume()
                    if case .wait = decided { return }
                    continuation.resume()
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index).continuation
                }
                waiter?.resume()
            }
            switch outcome {
            case .event(let event): return event
            case .end: return nil
            case .wait: continue  // woken (or cancelled): look again
            }
        }
    }
}

extension ClientEvent {
    /// Whether the event tells the app what to do (reload, the catch-up is over, the server is closing) rather
    /// than carrying data: such events are not dropped when the app falls behind (``ClientEvents``).
    var isSignal: Bool {
        switch self {
        case .rewound, .synced, .goodbye: true
        case .stored, .presence, .typing: false
        }
    }
}

extension ClientEvent {
    /// About how many bytes the event takes while it waits for the app: a message's body, and a fixed part for
    /// the rest.
    var bufferedSize: Int {
        if case .stored(let event) = self, let message = event.message { return 256 + message.body.utf8.count }
        return 256
    }
}
