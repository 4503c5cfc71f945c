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

/// The bounded queue of frames waiting to be written to one connection.
///
/// Everything bound for a connection (request results, routed events, presence, typing) goes through its outbox, and
/// one writer drains it, so frames keep their order and a slow peer never blocks whoever enqueues. The writer is either
/// a task awaiting ``next(upToBytes:)`` or, for sockets served from NIO handlers, the socket's event loop, called back
/// through ``whenReady(_:)`` and taking frames with ``take(upToBytes:)`` while the peer keeps up. When more than
/// `capacity` frames, or more than one frame of more than `byteCapacity` bytes together, wait, the outbox overflows: it
/// ends, drops what waits, and tells its owner (`onEnded`), who closes the connection as a slow consumer (the client
/// then resyncs from its cursor). Frames vary in size (an event with a 64 KiB message, a page of history of half a
/// megabyte), so a count alone would let a peer that reads nothing hold gigabytes; one frame alone waits whatever its
/// size (an answer the server chose to send). It also ends when the session's login is revoked (``revoke()``) or its
/// peer sends unreadable frames past its rate limit (``endForUnreadableFrames()``).
///
/// Event frames carry their stream position. While the session catches up after `hello`, live events are
/// held back; ``release(after:)`` then passes on those newer than the catch-up, so catch-up and live events
/// never interleave out of order and none is sent twice. If more than `capacity` live events pile up during a
/// long catch-up, the held ones are dropped and ``release(after:)`` asks the session to catch up again from
/// the store, so a busy server never strands a resuming client.
final class Outbox: Sendable {
    /// Why ``next(upToBytes:)`` returned `nil`.
    enum Ending: Sendable {
        case closed
        case overflowed
        /// The login session was revoked (logout, password change): the connection must close.
        case revoked
        /// The peer sent unreadable frames past its rate limit: the connection must close.
        case unreadableFrames
        /// Routing gave up on events it could not route (``EventRouter``): the connection must close, and its
        /// client catch up from its cursor.
        case mustCatchUp
    }

    private struct State {
        var queue: [String] = []
        /// The UTF-8 bytes of `queue`'s frames.
        var queuedBytes = 0
        var held: [(position: StreamPosition, frame: String)] = []
        /// The UTF-8 bytes of `held`'s frames.
        var heldBytes = 0
        var isHolding = true
        /// Held events were dropped: the session must read them from the store again.
        var heldOverflowed = false
        /// Events at or before this position were already sent (or predate the session).
        var floor: StreamPosition
        var ending: Ending?
        var waiter: CheckedContinuation<[String]?, Never>?
        /// How much the waiting writer takes (``next(upToBytes:)``).
        var waiterMaxBytes = Int.max
        /// Called once frames are queued or the outbox ends (see ``whenReady(_:)``).
        var ready: (@Sendable () -> Void)?

        /// Queues (or holds, while catching up) an event frame the session does not have yet.
        mutating func add(_ frame: String, at position: StreamPosition) {
            guard position > floor else { return }
            if isHolding {
                held.append((position, frame))
                heldBytes += frame.utf8.count
            } else {
                floor = position
                append(frame)
            }
        }

        /// Queues a frame.
        mutating func append(_ frame: String) {
            queue.append(frame)
            queuedBytes += frame.utf8.count
        }

        /// Takes every queued frame.
        mutating func takeQueue() -> [String] {
            defer {
                queue = []
                queuedBytes = 0
            }
            return queue
        }

        /// Takes queued frames from the front while they add up to at most `maxBytes` (always at least one).
        mutating func takeQueue(upToBytes maxBytes: Int) -> [String] {
            guard queuedBytes > maxBytes else { return takeQueue() }
            var count = 0
            var bytes = 0
            for frame in queue {
                let size = frame.utf8.count
                if count > 0, bytes + size > maxBytes { break }
                bytes += size
                count += 1
            }
            defer {
                queue.removeFirst(count)
                queuedBytes -= bytes
            }
            return Array(queue.prefix(count))
        }

        /// Drops everything queued and held.
        mutating func dropAll() {
            queue = []
            queuedBytes = 0
            held = []
            heldBytes = 0
        }
    }

    private let capacity: Int
    private let byteCapacity: Int
    private let state: Mutex<State>
    /// Frames the connection sent in a row that could not be read (see ``noteUnreadableFrame()``).
    private let unreadableFramesInARow = Atomic<Int>(0)
    private let onEnded: (@Sendable (Ending) -> Void)?

    /// Creates an outbox that holds events until ``release(after:)`` and drops events at or before `floor`.
    ///
    /// `onEnded` is called once if the outbox overflows or is revoked (not when it is closed), outside its lock,
    /// from whoever caused it: it must not wait.
    init(
        capacity: Int, byteCapacity: Int = .max, floor: StreamPosition, onEnded: (@Sendable (Ending) -> Void)? = nil
    ) {
        self.capacity = capacity
        self.byteCapacity = byteCapacity
        self.state = Mutex(State(floor: floor))
        self.onEnded = onEnded
    }

    /// Why the outbox ended, once it has.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Queues frames that are not events (the answers to a batch of sends) in one hand-over.
    func enqueue(contentsOf frames: [String]) {
        guard !frames.isEmpty else { return }
        push { state in
            for frame in frames { state.append(frame) }
        }
    }

    /// Queues a frame that is not an event (a result, presence, typing).
    func enqueue(_ frame: String) {
        push { state in state.append(frame) }
    }

    /// Queues an event frame, unless the session already has it; held while catching up.
    func enqueueEvent(_ frame: String, position: StreamPosition) {
        push { state in state.add(frame, at: position) }
    }

    /// Queues event frames, in position order, as ``enqueueEvent(_:position:)`` does each, with one wake-up of
    /// the writer for all of them.
    func enqueueEvents(_ events: [RoutedEvent]) {
        push { state in
            for event in events { state.add(event.frame, at: event.position) }
        }
    }

    /// Ends catch-up at `position`: held events after it are queued in order, the rest dropped. Returns `false`
    /// (and keeps holding) when held events were dropped meanwhile, or when they would not fit in the queue beside
    /// what was queued during the catch-up (presence, typing): write out what is queued (``take(upToBytes:)``),
    /// catch up again from `position`, then call this again. Only what is queued alone can overflow the outbox (a
    /// slow consumer), never the catch-up.
    func release(after position: StreamPosition) -> Bool {
        var released = true
        push { state in
            state.floor = max(state.floor, position)
            let releasing = state.held.filter { $0.position > state.floor }
            let releasingBytes = releasing.reduce(0) { $0 + $1.frame.utf8.count }
            let count = state.queue.count + releasing.count
            let fits = count <= capacity && (count <= 1 || state.queuedBytes + releasingBytes <= byteCapacity)
            if state.heldOverflowed || !fits {
                state.heldOverflowed = false
                state.held = []
                state.heldBytes = 0
                released = false
                return
            }
            state.isHolding = false
            for (eventPosition, frame) in releasing.sorted(by: { $0.position < $1.position })
            where eventPosition > state.floor {
                state.floor = eventPosition
                state.append(frame)
            }
            state.held = []
            state.heldBytes = 0
        }
        return released
    }

    /// Waits for frames and takes those queued, from the oldest, while they add up to at most `maxBytes` (at least
    /// one); `nil` once the outbox is closed (see ``ending``).
    ///
    /// What a writer takes leaves the outbox's count and bytes: a writer that took everything queued and then
    /// stalled on a slow peer would hold up to a second outbox's worth outside the bound. A task that writes to a
    /// transport takes a chunk at a time, as the socket's writer does with ``take(upToBytes:)``.
    func next(upToBytes maxBytes: Int = Outbox.writeChunkBytes) async -> [String]? {
        await withCheckedContinuation { continuation in
            let frames = state.withLock { state -> [String]?? in
                if !state.queue.isEmpty { return .some(state.takeQueue(upToBytes: maxBytes)) }
                if state.ending != nil { return .some(nil) }
                state.waiter = continuation
                state.waiterMaxBytes = maxBytes
                return .none
            }
            if let frames { continuation.resume(returning: frames) }
        }
    }

    /// Whether a writer waits in ``next(upToBytes:)`` (observed by tests).
    var hasWaitingWriter: Bool { state.withLock { $0.waiter != nil } }

    /// How much a writer takes from the outbox at a time by default.
    static let writeChunkBytes = 64 * 1024

    /// Takes queued frames without waiting, from the oldest, while they add up to at most `maxBytes` (at least one):
    /// `[]` when none is queued, `nil` once the outbox has ended and nothing is left to write.
    ///
    /// A socket's writer takes a bounded amount at a time, and more only while the socket is writable: what it
    /// took leaves the outbox's byte count, so taking everything at once would move any amount into the socket's
    /// own buffer, where no bound applies.
    func take(upToBytes maxBytes: Int = .max) -> [String]? {
        state.withLock { state in
            if !state.queue.isEmpty { return state.takeQueue(upToBytes: maxBytes) }
            return state.ending == nil ? [] : nil
        }
    }

    /// Calls `ready` once, when frames are queued or the outbox ends; at once (on this thread) if either holds
    /// already. It is called outside the outbox's lock, from whoever queued the frame: it must not wait.
    ///
    /// A writer that is not a task uses this with ``take(upToBytes:)``: take what is queued, write it, and ask again. A
    /// second call before the first callback ran replaces it.
    func whenReady(_ ready: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if !state.queue.isEmpty || state.ending != nil { return true }
            state.ready = ready
            return false
        }
        if now { ready() }
    }

    /// Closes the outbox; the writer finishes what is queued, then stops.
    func close() {
        typealias Wakeup = (waiter: CheckedContinuation<[String]?, Never>?, ready: (@Sendable () -> Void)?)
        let (waiter, ready) = state.withLock { state -> Wakeup in
            if state.ending == nil { state.ending = .closed }
            defer { state.ready = nil }
            guard state.queue.isEmpty else { return (nil, state.ready) }
            defer { state.waiter = nil }
            return (state.waiter, state.ready)
        }
        waiter?.resume(returning: nil)
        ready?()
    }

    /// Ends the outbox because the session's login was revoked; what is queued is dropped.
    func revoke() {
        end(.revoked)
    }

    /// Ends the outbox because the peer sends unreadable frames past its rate limit; what is queued is dropped.
    func endForUnreadableFrames() {
        end(.unreadableFrames)
    }

    /// Ends the outbox because routing gave up on events this connection may be owed; what is queued is dropped
    /// (the client reads it again when it catches up).
    func endForCatchUp() {
        end(.mustCatchUp)
    }

    /// Counts a frame of this connection that could not be read; returns how many it has sent in a row (since
    /// its last readable one, ``noteReadableFrame()``).
    func noteUnreadableFrame() -> Int {
        unreadableFramesInARow.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Notes a frame of this connection that could be read: the unreadable ones before it were strays.
    func noteReadableFrame() {
        if unreadableFramesInARow.load(ordering: .relaxed) != 0 { unreadableFramesInARow.store(0, ordering: .relaxed) }
    }

    /// Ends the outbox for `ending`, unless it has ended already, dropping what is queued; tells the owner.
    private func end(_ ending: Ending) {
        typealias Wakeup = (
            waiter: CheckedContinuation<[String]?, Never>?, ready: (@Sendable () -> Void)?, ended: Bool
        )
        let (waiter, ready, ended) = state.withLock { state -> Wakeup in
            guard state.ending == nil else { return (nil, nil, false) }
            state.ending = ending
            state.dropAll()
            defer {
                state.waiter = nil
                state.ready = nil
            }
            return (state.waiter, state.ready, true)
        }
        waiter?.resume(returning: nil)
        ready?()
        if ended { onEnded?(ending) }
    }

    private func push(_ change: (inout State) -> Void) {
        typealias Wakeup = (
            waiter: CheckedContinuation<[String]?, Never>?, frames: [String]?, ready: (@Sendable () -> Void)?,
            overflowed: Bool
        )
        let (waiter, frames, ready, overflowed) = state.withLock { state -> Wakeup in
            guard state.ending == nil else { return (nil, nil, nil, false) }
            change(&state)
            // One frame waits whatever its size (an answer larger than the bound, such as a long conversation list,
            // is sent, not taken for a slow consumer); more than one may not exceed the bound together.
            if state.held.count > capacity || (state.held.count > 1 && state.heldBytes > byteCapacity) {
                state.held = []
                state.heldBytes = 0
                state.heldOverflowed = true
            }
            if state.queue.count > capacity || (state.queue.count > 1 && state.queuedBytes > byteCapacity) {
                state.ending = .overflowed
                state.dropAll()
                defer {
                    state.waiter = nil
                    state.ready = nil
                }
                return (state.waiter, nil, state.ready, true)
            }
            guard !state.queue.isEmpty else { return (nil, nil, nil, false) }
            if let ready = state.ready {
                state.ready = nil
                return (nil, nil, ready, false)
            }
            guard let waiter = state.waiter else { return (nil, nil, nil, false) }
            state.waiter = nil
            return (waiter, state.takeQueue(upToBytes: state.waiterMaxBytes), nil, false)
        }
        waiter?.resume(returning: frames)
        ready?()
        if overflowed { onEnded?(.overflowed) }
    }
}
