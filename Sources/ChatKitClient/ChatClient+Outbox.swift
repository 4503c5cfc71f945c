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

public import ChatKitCore
import Synchronization

/// The outbox: messages sent with ``ChatClient/send(_:to:clientMessageID:replyTo:mentions:attachments:)`` until
/// the server stores (or refuses) them.
extension ChatClient {
    /// The messages not yet stored, pending or failed, in the order they were queued (or retried).
    ///
    /// A message leaves the outbox once the server stores it; a failed one stays until ``retry(_:)`` or
    /// ``discard(_:)``. The outbox lives in memory, across reconnections and across calls to ``run()``; with an
    /// ``Configuration/outboxStorage`` it also survives the process (a new client starts with what was saved).
    public var outbox: [OutgoingMessage] { state.withLock { $0.outbox.map(\.message) } }

    /// Every change of an outgoing message's state, until the consumer stops iterating or the client is released:
    /// a message queued (``OutgoingMessage/State/pending``), stored (``OutgoingMessage/State/sent``, with
    /// ``OutgoingMessage/message``), refused (``OutgoingMessage/State/failed``), retried (pending again), or
    /// discarded (``OutgoingMessage/State/discarded``: no longer in the outbox).
    ///
    /// Subscribe first, then read ``outbox`` for the messages queued before: an update carries the message's whole
    /// state, so one that arrives for a message already read replaces it, while reading first could miss a change
    /// made in between (a message shown pending for good). Each call returns a new stream; a stream buffers
    /// without limit, so consume it.
    ///
    /// - Returns: A stream of changed messages.
    public func outboxUpdates() -> AsyncStream<OutgoingMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: OutgoingMessage.self)
        let id = state.withLock { $0.outboxObservers.add(continuation) }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { $0.outboxObservers.remove(id) }
        }
        return stream
    }

    /// Queues a failed message again, at the end of the outbox; the client sends it when connected.
    ///
    /// To retry and await the result, call ``send(_:to:clientMessageID:replyTo:mentions:attachments:)`` with the
    /// failed message's client message ID instead.
    ///
    /// - Parameter clientMessageID: The failed message's ID.
    /// - Throws: ``ChatKitCore/ChatError`` `.notFound` when no failed message has this ID.
    public func retry(_ clientMessageID: ClientMessageID) throws {
        let snapshot = try state.withLock { state throws(ChatError) -> OutboxSaver.Snapshot? in
            let index = try Self.failedMessageIndex(clientMessageID, in: state)
            state.requeue(at: index)
            return snapshotOutbox(&state)
        }
        save(snapshot)
    }

    /// Removes a failed message from the outbox.
    ///
    /// - Parameter clientMessageID: The failed message's ID.
    /// - Returns: The removed message.
    /// - Throws: ``ChatKitCore/ChatError`` `.notFound` when no failed message has this ID (pending messages cannot
    ///   be discarded: they may already be on the wire).
    @discardableResult
    public func discard(_ clientMessageID: ClientMessageID) throws -> OutgoingMessage {
        let (removed, snapshot) = try state.withLock {
            state throws(ChatError) -> (OutgoingMessage, OutboxSaver.Snapshot?) in
            var message = state.outbox.remove(at: try Self.failedMessageIndex(clientMessageID, in: state)).message
            let removed = message
            message.state = .discarded
            state.outboxObservers.yield(message)
            return (removed, snapshotOutbox(&state))
        }
        save(snapshot)
        return removed
    }

    /// Where the failed message with `clientMessageID` is in the outbox.
    private static func failedMessageIndex(_ clientMessageID: ClientMessageID, in state: State) throws(ChatError)
        -> Int
    {
        guard let index = state.outbox.firstIndex(where: { $0.message.id == clientMessageID }),
            state.outbox[index].message.state == .failed
        else { throw ChatError(.notFound, "No failed message in the outbox has this client message ID.") }
        return index
    }

    /// Puts `send` at the end of the outbox, or, for the client message ID of a queued message, leaves that one
    /// where it is (queueing it again if it had failed); returns the outbox to save when it changed.
    ///
    /// - Throws: `.conflict` when a queued message has the ID with another conversation or text.
    private func insert(_ send: ClientRequest.Send, into state: inout State) throws(ChatError)
        -> OutboxSaver.Snapshot?
    {
        guard let existing = state.outbox.firstIndex(where: { $0.message.id == send.clientMessageID }) else {
            state.outbox.append(OutboxEntry(message: OutgoingMessage(request: send)))
            state.outboxObservers.yield(state.outbox[state.outbox.count - 1].message)
            state.outboxSignal?.yield()
            return snapshotOutbox(&state)
        }
        let queued = state.outbox[existing].message.request
        guard queued.conversationID == send.conversationID, queued.body == send.body else {
            throw ChatError(
                .conflict,
                "Another message in the outbox has this client message ID (in another conversation or with other "
                    + "text); give each message its own ID."
            )
        }
        guard state.outbox[existing].message.state == .failed else { return nil }
        state.requeue(at: existing)
        return snapshotOutbox(&state)
    }

    /// Queues `send` and returns at once, saved first (``queue(_:to:clientMessageID:replyTo:mentions:attachments:)``).
    func enqueueWithoutWaiting(_ send: ClientRequest.Send) throws(ChatError) -> OutgoingMessage {
        let (snapshot, message) = try state.withLock { state throws(ChatError) in
            let snapshot = try insert(send, into: &state)
            // Found: it is in the outbox, new or joined.
            let message = state.outbox.first { $0.message.id == send.clientMessageID }!.message
            return (snapshot, message)
        }
        save(snapshot)
        return message
    }

    /// Queues `send` (or joins the queued message with the same client message ID) and waits until it is stored.
    func enqueue(_ send: ClientRequest.Send) async throws -> Message {
        let waiterID = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let (failure, snapshot) = state.withLock { state -> ((any Error)?, OutboxSaver.Snapshot?) in
                    let snapshot: OutboxSaver.Snapshot?
                    do {
                        snapshot = try insert(send, into: &state)
                    } catch {
                        return (error, nil)
                    }
                    if Task.isCancelled { return (CancellationError(), snapshot) }
                    if case .ended = state.phase {
                        let stopped = ChatError(
                            .unavailable,
                            "The client is not running; the message stays in the outbox and is sent when run() runs "
                                + "again."
                        )
                        return (stopped, snapshot)
                    }
                    // The message is in the outbox (requeueing moves it to the end).
                    let entry = state.outbox.firstIndex(where: { $0.message.id == send.clientMessageID })
                    if let entry { state.outbox[entry].waiters[waiterID] = continuation }
                    return (nil, snapshot)
                }
                // Saved before the caller can learn anything of the message: once it is stored, the file may
                // already say so.
                save(snapshot)
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Message, any Error>? in
                for index in state.outbox.indices {
                    if let waiter = state.outbox[index].waiters.removeValue(forKey: waiterID) { return waiter }
                }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Sends the outbox over the open session: the oldest pending message of each conversation, one at a time per
    /// conversation (so a delayed message, rate-limited or being retried, never lets a later one overtake it; one
    /// that failed for good no longer holds the later ones back), until the session ends.
    func sendOutbox(_ signals: AsyncStream<Void>) async {
        // The slots the last session's refused sends took went with it (its sends, all ended before this session
        // opened, are released): a send refused now waits its own retry-after, not behind those.
        state.withLock { $0.rateLimitedSendSlot = .zero }
        await withDiscardingTaskGroup { group in
            for await _ in signals {
                let ready = state.withLock { state -> [ClientRequest.Send] in
                    guard state.outboxSignal != nil else { return [] }
                    var busy = Set(state.outbox.filter(\.inFlight).map(\.message.conversationID))
                    var ready: [ClientRequest.Send] = []
                    for index in state.outbox.indices where state.outbox[index].message.state == .pending {
                        let conversation = state.outbox[index].message.conversationID
                        guard !busy.contains(conversation) else { continue }
                        busy.insert(conversation)
                        state.outbox[index].inFlight = true
                        var send = state.outbox[index].message.request
                        // A reply to a message the rewound server stored anew, under a new ID.
                        if let parent = send.replyTo, let newID = state.idsAfterRewind[parent] { send.replyTo = newID }
                        ready.append(send)
                    }
                    return ready
                }
                for send in ready { group.addTask { await self.deliver(send) } }
            }
        }
    }

    /// Sends one message and records the outcome.
    private func deliver(_ send: ClientRequest.Send) async {
        let id = send.clientMessageID
        do {
            guard let message = try await request(.send(send)).message else {
                throw ChatError(.invalidArgument, "The server's result lacks the stored message.")
            }
            await complete(id, with: .success(message))
        } catch let error as ChatError {
            switch error.code {
            case .unavailable where !(error.underlying is ServerAnswer):
                // The connection dropped before the answer, or the answer did not come in time (the client closes
                // the connection then): the next session sends it again.
                release(id)
            case .limitExceeded where error.retryAfter != nil:
                await wait(rateLimitedSendDelay(retryAfter: error.retryAfter ?? .zero), thenRelease: id)
            case .storageFailure, .unavailable, .unauthenticated:
                // A fault the server may recover from (its store failed, or it says it cannot serve now), or a login
                // revoked (a logout or password change elsewhere) while the send was on its way: the server stored
                // nothing and ends the session, and the next one, with a fresh token, sends it again (the session's
                // end cuts the wait short). After a backoff, a few times.
                let attempt = state.withLock { state -> Int? in
                    guard let index = state.outbox.firstIndex(where: { $0.message.id == id }) else { return nil }
                    state.outbox[index].failedAttempts += 1
                    return state.outbox[index].failedAttempts
                }
                if let attempt, attempt < configuration.maximumSendAttempts {
                    let backoff = configuration.reconnection.ceiling(forAttempt: attempt - 1)
                    let delay = max(backoff, error.retryAfter ?? .milliseconds(100))
                    await wait(delay, thenRelease: id)
                } else {
                    await complete(id, with: .failure(error))
                }
            default:
                await complete(id, with: .failure(error))
            }
        } catch {
            // Cancelled with the session: the next session sends it again.
            release(id)
        }
    }

    /// How long a send the rate limit refused waits before it goes out again: until the next free slot, one
    /// `retryAfter` after the last one taken. The limit is the user's, so sends of several conversations refused
    /// together go out again one retry-after apart, as the bucket refills, instead of all at once after one
    /// retry-after (where all but one would be refused again, round after round, and keep the bucket of the user's
    /// other devices empty).
    private func rateLimitedSendDelay(retryAfter: Duration) -> Duration {
        let now = configuration.clock.elapsed()
        return state.withLock { state in
            state.rateLimitedSendSlot = max(state.rateLimitedSendSlot, now) + retryAfter
            return state.rateLimitedSendSlot - now
        }
    }

    private func wait(_ delay: Duration, thenRelease id: ClientMessageID) async {
        try? await configuration.clock.sleep(delay)
        release(id)
    }

    /// Makes a message eligible for sending again.
    private func release(_ id: ClientMessageID) {
        state.withLock { state in
            guard let index = state.outbox.firstIndex(where: { $0.message.id == id }) else { return }
            state.outbox[index].inFlight = false
            state.outboxSignal?.yield()
        }
    }

    /// Records that the server stored or refused a message, and answers its waiters.
    private func complete(_ id: ClientMessageID, with result: Result<Message, ChatError>) async {
        let (waiters, snapshot) = state.withLock {
            state -> ([CheckedContinuation<Message, any Error>], OutboxSaver.Snapshot?) in
            guard let index = state.outbox.firstIndex(where: { $0.message.id == id }) else { return ([], nil) }
            var entry = state.outbox[index]
            switch result {
            case .success(let message):
                entry.message.state = .sent
                entry.message.message = message
                state.outbox.remove(at: index)
                if let before = entry.idBeforeRewind, before != message.id { state.idsAfterRewind[before] = message.id }
                state.keepForRewind(
                    entry.message.request, stored: message, limit: configuration.messagesResentAfterRewind
                )
            case .failure(let error):
                entry.message.state = .failed
                entry.message.failureCode = error.code
                entry.message.failureReason = error.reason
                entry.message.failureServerCode = (error.underlying as? ServerAnswer)?.code
                state.outbox[index].message = entry.message
                state.outbox[index].inFlight = false
                state.outbox[index].waiters = [:]
            }
            state.outboxObservers.yield(entry.message)
            state.outboxSignal?.yield()
            return (Array(entry.waiters.values), snapshotOutbox(&state))
        }
        // Saved before the waiters learn the outcome. Answers arrive in bursts: their saves join in few writes.
        await save(snapshot)
        for waiter in waiters { waiter.resume(with: result.mapError { $0 as any Error }) }
    }
}

extension ChatClient {
    /// Numbers the outbox's current state for ``OutboxSaver``; `nil` (and nothing counted) without a storage.
    func snapshotOutbox(_ state: inout State) -> OutboxSaver.Snapshot? {
        guard outboxSaver != nil else { return nil }
        state.outboxChanges += 1
        return OutboxSaver.Snapshot(change: state.outboxChanges, messages: state.outbox.map(\.message))
    }

    /// Saves a snapshot taken with ``snapshotOutbox(_:)`` (`nil`: only a save that failed before), outside the
    /// client's lock. After a failed load, the load is tried again first, and what it reads joins the outbox.
    func save(_ snapshot: OutboxSaver.Snapshot?) {
        guard let outboxSaver, !mergeRecoveredOutbox(outboxSaver) else { return }
        if let snapshot { outboxSaver.save(snapshot) } else { outboxSaver.saveAgain() }
    }

    /// Saves a snapshot as the synchronous `save` does, but waits suspended while another change is being written
    /// (this one then joins the next write), instead of blocking its thread.
    func save(_ snapshot: OutboxSaver.Snapshot?) async {
        guard let outboxSaver, !mergeRecoveredOutbox(outboxSaver) else { return }
        if let snapshot { await outboxSaver.save(snapshot) } else { outboxSaver.saveAgain() }
    }

    /// After a failed load, tries the load again; when it succeeds, adds what it read to the front of the outbox,
    /// saves the result and returns `true`. (Saves of other changes wait meanwhile: the merged outbox must be saved.)
    private func mergeRecoveredOutbox(_ outboxSaver: OutboxSaver) -> Bool {
        guard let recovered = outboxSaver.retryLoad() else { return false }
        let merged = state.withLock { state -> OutboxSaver.Snapshot in
            // Older than anything queued since: they go first, in their order.
            let queued = Set(state.outbox.map(\.message.id))
            let missing = recovered.filter { !queued.contains($0.id) }
            state.outbox.insert(contentsOf: missing.map { OutboxEntry(message: $0) }, at: 0)
            for message in missing { state.outboxObservers.yield(message) }
            if !missing.isEmpty { state.outboxSignal?.yield() }
            state.outboxChanges += 1
            return OutboxSaver.Snapshot(change: state.outboxChanges, messages: state.outbox.map(\.message))
        }
        outboxSaver.saveMerged(merged)
        return true
    }

    /// Why the outbox could not be loaded from or saved to ``Configuration/outboxStorage`` the last time; `nil`
    /// once the newest change is saved (and always without a storage).
    ///
    /// The outbox itself is not affected: its messages stay in memory and are sent as usual. A failed save is tried
    /// again at the next change of the outbox, when a session opens and when ``run()`` ends. A failed load leaves
    /// the client with an empty outbox and saves nothing (which would replace what could not be read) until the
    /// load succeeds: it is tried again at each of those moments, and the messages it then reads join the outbox,
    /// ahead of those queued meanwhile (a message queued meanwhile and already stored stays before them in its
    /// conversation: the outbox does not hold sends back while its storage fails).
    public var outboxStorageError: ChatError? { outboxSaver?.lastError }
}

extension ChatClient.State {
    /// Notes a message the server stored, to send again should it rewind; keeps the newest `limit`.
    mutating func keepForRewind(_ request: ClientRequest.Send, stored message: Message, limit: Int) {
        guard limit > 0, message.deletedAt == nil, !recentlyDeleted.contains(message.id) else { return }
        // Once per message, where it was first stored: the app may send a stored message's client message ID again
        // (answered as stored).
        guard !recentlyStored.contains(where: { $0.request.clientMessageID == request.clientMessageID }) else { return }
        recentlyStored.append((request, message.id))
        if recentlyStored.count > limit { recentlyStored.removeFirst(recentlyStored.count - limit) }
    }

    /// Notes that the user's message `id` was deleted: it is not sent again should the server rewind.
    mutating func forgetForRewind(_ id: MessageID, limit: Int) {
        guard limit > 0 else { return }
        recentlyStored.removeAll { $0.messageID == id }
        recentlyDeleted.append(id)
        if recentlyDeleted.count > limit { recentlyDeleted.removeFirst(recentlyDeleted.count - limit) }
    }

    /// Puts the messages the server stored lately back at the front of the outbox, pending and in their order (a
    /// rewound server may have lost them; one it has is answered with the stored message); returns how many.
    mutating func requeueForRewind() -> Int {
        let queued = Set(outbox.map(\.message.id))
        let again = recentlyStored.filter { !queued.contains($0.request.clientMessageID) }.map {
            ChatClient.OutboxEntry(message: OutgoingMessage(request: $0.request), idBeforeRewind: $0.messageID)
        }
        recentlyStored = []
        idsAfterRewind = [:]
        outbox.insert(contentsOf: again, at: 0)
        for entry in again { outboxObservers.yield(entry.message) }
        return again.count
    }

    /// Makes the failed message at `index` pending again, at the end of the outbox.
    mutating func requeue(at index: Int) {
        var entry = outbox.remove(at: index)
        entry.message.state = .pending
        entry.message.failureCode = nil
        entry.message.failureServerCode = nil
        entry.message.failureReason = nil
        entry.failedAttempts = 0
        entry.inFlight = false
        outbox.append(entry)
        outboxObservers.yield(entry.message)
        outboxSignal?.yield()
    }
}
