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
import Logging
import Synchronization

/// A session whose frames the socket pushes (``ChatSocketHandler``), so that an idle connection holds no task.
///
/// ``Session/run(inbound:)`` keeps a task per connection waiting for the next frame, and a writer task waiting
/// for the next outgoing one: about 5 KB of task memory per connection, idle or not. Here the socket hands each
/// frame to ``received(_:)``; a worker task starts when a frame arrives and none is running, answers the frames
/// in order with ``Session``'s operations (the handshake first), and ends when none is left. The open session's
/// outbox is handed to the socket (`onOpened`), which writes it from its event loop. The worker appends the
/// sends it reads itself, in batches (``SendPipeline``). Workers are child tasks of the server's task tree,
/// started through `spawn` (the transport's ``ConnectionShards``), not unstructured tasks.
///
/// A socket that sends faster than it is answered is told to stop reading: ``received(_:)`` returns `false` once
/// ``pauseThreshold`` frames wait, and `onRoom` asks it to read again when the worker has caught up.
final class PushedSession: Sendable {
    /// Frames waiting to be answered at which the socket should stop reading.
    static let pauseThreshold = 32

    private struct State {
        /// Frames not yet answered, from `head` on.
        var frames: [String] = []
        var head = 0
        var isWorking = false
        /// The first frame was taken (answered as `hello`).
        var tookHello = false
        var opened: Session.Opened?
        /// The peer left (or the socket failed): answer what was read, then finish.
        var inboundEnded = false
        /// The session has finished; frames arriving later are dropped.
        var isFinished = false
        /// ``received(_:)`` told the socket to stop reading.
        var isPaused = false

        var waiting: Int { frames.count - head }

        mutating func popFrame() -> String? {
            guard head < frames.count else { return nil }
            let frame = frames[head]
            head += 1
            if head == frames.count {
                frames.removeAll(keepingCapacity: frames.count <= 64)
                head = 0
            }
            return frame
        }
    }

    /// What the worker does next.
    private enum Step {
        case hello(String)
        case requests(Session.Opened)
        case finish(Session.Opened?)
        case stop
    }

    private let session: Session
    private let connectionID: Int
    private let logger: Logger
    private let deadline: HelloDeadline
    private let sends = SendPipeline()
    private let state = Mutex(State())
    private let onOpened: @Sendable (Outbox) -> Void
    private let onRoom: @Sendable () -> Void
    private let spawn: Spawn

    /// Starts a task, as a child of a task group the server runs; `false` (and `work` is not run) once the server
    /// has stopped running such tasks.
    typealias Spawn = @Sendable (_ work: @escaping @Sendable () async -> Void) -> Bool

    /// Starts the session's `hello` deadline.
    ///
    /// - Parameters:
    ///   - server: The server that serves it.
    ///   - outbound: Writes to the socket and closes it; the handshake and catch-up write through it.
    ///   - peer: The peer, for logs.
    ///   - onOpened: Called once the session is open with the outbox the socket must drain from then on.
    ///   - onRoom: Called when the socket may read again after ``received(_:)`` returned `false`.
    ///   - spawn: Starts the session's worker tasks.
    init(
        server: ChatServer,
        outbound: OutboundWriter,
        peer: String,
        onOpened: @escaping @Sendable (Outbox) -> Void,
        onRoom: @escaping @Sendable () -> Void,
        spawn: @escaping Spawn
    ) {
        session = Session(server: server, outbound: outbound, peer: peer)
        connectionID = server.registry.makeConnectionID()
        logger = session.logger(connectionID: connectionID)
        deadline = session.startHelloDeadline()
        self.onOpened = onOpened
        self.onRoom = onRoom
        self.spawn = spawn
    }

    /// Queues a frame from the peer, starting a worker if none runs. Returns `false` when the socket should stop
    /// reading until `onRoom` is called.
    func received(_ frame: String) -> Bool {
        let (start, keepReading) = state.withLock { state -> (Bool, Bool) in
            guard !state.inboundEnded, !state.isFinished else { return (false, true) }
            state.frames.append(frame)
            if state.waiting >= Self.pauseThreshold { state.isPaused = true }
            defer { state.isWorking = true }
            return (!state.isWorking, !state.isPaused)
        }
        if start { startWorker() }
        return keepReading
    }

    /// The peer left or the socket failed: frames already received are answered, then the session closes.
    func inboundEnded() {
        let start = state.withLock { state -> Bool in
            guard !state.inboundEnded else { return false }
            state.inboundEnded = true
            defer { state.isWorking = true }
            return !state.isWorking
        }
        if start { startWorker() }
    }

    /// Starts the worker. Only a server that was cancelled refuses it: the session then does not finish (its
    /// registry entry and presence go with the server), and a later frame may try again.
    private func startWorker() {
        if !spawn({ await self.work() }) { state.withLock { $0.isWorking = false } }
    }

    /// Answers frames until none is left, then ends; finishes the session once the peer has left.
    private func work() async {
        while true {
            switch nextStep() {
            case .hello(let text):
                await openSession(text)
            case .requests(let opened):
                await answerRequests(opened)
            case .finish(let opened):
                await finish(opened)
                return
            case .stop:
                return
            }
        }
    }

    private func nextStep() -> Step {
        state.withLock { state -> Step in
            if state.isFinished {
                state.isWorking = false
                return .stop
            }
            if !state.tookHello {
                if let hello = state.popFrame() {
                    state.tookHello = true
                    return .hello(hello)
                }
                if state.inboundEnded { return finishing(&state) }
                state.isWorking = false
                return .stop
            }
            guard let opened = state.opened, opened.outbox.ending == nil else { return finishing(&state) }
            if state.waiting > 0 { return .requests(opened) }
            if state.inboundEnded { return finishing(&state) }
            state.isWorking = false
            return .stop
        }
    }

    private func finishing(_ state: inout State) -> Step {
        state.isFinished = true
        state.frames = []
        state.head = 0
        return .finish(state.opened)
    }

    /// Answers the first frame, which must be `hello`.
    private func openSession(_ text: String) async {
        guard deadline.stopWaiting(),
            let opened = await session.open(text, connectionID: connectionID, logger: logger)
        else { return }
        state.withLock { $0.opened = opened }
        onOpened(opened.outbox)
    }

    /// Answers the frames waiting, in order, and returns once none is left. Sends are queued as they are read and
    /// appended together, in one batch, when no frame is left to read (or before any other request, or when the
    /// queue is full), by this worker itself: a task of their own cost a task switch per batch.
    private func answerRequests(_ opened: Session.Opened) async {
        while let frame = takeFrame() {
            switch session.admit(frame, user: opened.user, outbox: opened.outbox) {
            case nil:
                break
            case .send(let send):
                while !sends.pushUnlessFull(send) { await appendSends(opened) }
            case .other(let request):
                await appendSends(opened)
                await session.perform(request, user: opened.user, outbox: opened.outbox)
            }
            if opened.outbox.ending != nil { break }
        }
        await appendSends(opened)
    }

    /// Appends the sends queued, if any.
    private func appendSends(_ opened: Session.Opened) async {
        await session.appendSends(from: sends, user: opened.user, outbox: opened.outbox)
    }

    /// The next frame to answer; tells the socket to read again once few are left.
    private func takeFrame() -> String? {
        let (frame, resume) = state.withLock { state -> (String?, Bool) in
            let frame = state.popFrame()
            guard state.isPaused, state.waiting < Self.pauseThreshold / 2 else { return (frame, false) }
            state.isPaused = false
            return (frame, true)
        }
        if resume { onRoom() }
        return frame
    }

    /// Ends the session: sends already read are appended, the outbox is written out, and the socket closed.
    private func finish(_ opened: Session.Opened?) async {
        guard let opened else {
            _ = deadline.stopWaiting()
            await session.outbound.close(deadline.closeReasonWithoutSession)
            return
        }
        // Returns at once: the worker appends what it queues before it takes the next step.
        await sends.waitUntilIdle()
        opened.outbox.close()
        await session.close(user: opened.user, connectionID: connectionID)
        // The same reason as the outbox's own close (`Session.closeWhenEnded`), whichever comes first. The socket
        // writes what the outbox still holds before it closes.
        await session.outbound.close(opened.outbox.ending.flatMap(Session.closeReason) ?? .normal)
    }
}
