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
import Synchronization

/// One session: a connection from `hello` until it closes.
extension ChatClient {
    /// Opens a connection and runs one session over it.
    func session(token: String) async -> SessionOutcome {
        let reached = ManagedFlag()
        do {
            return try await transport(reached: reached, token: token)
        } catch {
            let failure =
                reached.isSet
                ? ChatError(.unavailable, "The connection failed.", underlying: error)
                : ChatError(.unavailable, "Could not connect to the server.", underlying: error)
            finishSession(with: failure)
            return reached.isSet ? .ended(opened: false, uptime: .zero, failure) : .unreachable(failure)
        }
    }

    private func transport(reached: ManagedFlag, token: String) async throws -> SessionOutcome {
        try await transportForSessions.withConnection { connection in
            reached.set()
            return await self.serve(connection, token: token)
        }
    }

    /// Runs one session over an open connection until it closes.
    private func serve(_ connection: Connection, token: String) async -> SessionOutcome {
        let (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: String.self)
        let (signals, signalContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let helloID = state.withLock { state -> String in
            state.outgoing = outgoingContinuation
            state.refusal = nil
            state.nextRequestID += 1
            return "hello-\(state.nextRequestID)"
        }
        let hello = ClientRequest.Hello(token: token, cursor: cursor)
        do {
            outgoingContinuation.yield(try codec.encode(ClientFrame(id: helloID, .hello(hello))))
        } catch {
            let failure = ChatError(.invalidArgument, "The hello frame could not be encoded.", underlying: error)
            finishSession(with: failure)
            return .refused(failure)
        }

        var closeError: (any Error)?
        var openedAt: Duration?
        // Why this side closed the connection, when a write failed or a request went unanswered (the inbound then
        // ends without the reason).
        let closedHere = ManagedValue<ConnectionClosedError>()
        await withDiscardingTaskGroup { group in
            if let timeout = configuration.effectiveRequestTimeout {
                group.addTask { await self.closeOnUnansweredRequest(connection, timeout: timeout, closedHere) }
            }
            group.addTask {
                for await text in outgoing {
                    do {
                        try await connection.outbound.write(text)
                    } catch {
                        // A connection that cannot be written to is closed: its inbound side ends too, so requests
                        // waiting for answers fail now instead of waiting for the peer to notice.
                        let reason = CloseReason(code: "writeFailed", message: "A frame could not be written.")
                        let detail = CloseReason(code: reason.code, message: "A frame could not be written: \(error)")
                        closedHere.set(ConnectionClosedError(reason: detail))
                        self.state.withLock { $0.giveUpSession() }
                        await connection.outbound.close(reason)
                        break
                    }
                }
            }
            do {
                for try await text in connection.inbound {
                    if receive(text, helloID: helloID, outboxSignal: signalContinuation) {
                        openedAt = configuration.clock.elapsed()
                        group.addTask { await self.sendOutbox(signals) }
                    }
                }
            } catch {
                closeError = error
            }
            outgoingContinuation.finish()
            signalContinuation.finish()
            if closeError == nil { closeError = closedHere.current }
            let closedReason = (closeError as? ConnectionClosedError)?.reason
            let refusal = state.withLock { state -> ChatError? in
                // A session the server ended because its login was revoked (logout, password change) is refused
                // as a `hello` would be: the token is dead, and a reconnect with it would only be refused again.
                if state.refusal == nil, let closedReason, closedReason.code == "unauthenticated" {
                    state.refusal = ChatError(.unauthenticated, closedReason.message)
                }
                return state.refusal
            }
            let reason = closedReason.map { " (\($0))" } ?? ""
            // Fails the requests awaiting answers, so the outbox's sends end and the group can finish.
            finishSession(
                with: refusal ?? ChatError(.unavailable, "The connection closed\(reason).", underlying: closeError),
                closedReason: closedReason
            )
            group.cancelAll()
        }
        let (refusal, failure) = state.withLock { ($0.refusal, $0.lastFailure) }
        if let refusal { return .refused(refusal, openFor: openedAt.map { configuration.clock.elapsed() - $0 }) }
        let uptime = openedAt.map { configuration.clock.elapsed() - $0 } ?? .zero
        return .ended(
            opened: openedAt != nil,
            uptime: uptime,
            failure ?? ChatError(.unavailable, "The connection closed.")
        )
    }

    /// Watches the session's requests until the session ends: one not answered within `timeout` is failed, and the
    /// connection closed (the server answers a connection's requests in order, so later ones would wait behind it;
    /// the client reconnects). Checks a few times per `timeout`, at least once a second, on the system's clock.
    private func closeOnUnansweredRequest(
        _ connection: Connection, timeout: Duration, _ closedHere: ManagedValue<ConnectionClosedError>
    ) async {
        let tick = max(.milliseconds(10), min(.seconds(1), timeout / 4))
        while true {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return  // the session ended
            }
            let now = ContinuousClock.now
            let expired = state.withLock { state -> [CheckedContinuation<RequestResult, any Error>] in
                let ids = state.pending.filter { $0.value.deadline.map { $0 <= now } ?? false }.keys
                // Given up before the callers hear of it: one who retries at once waits for the next session.
                if !ids.isEmpty { state.giveUpSession() }
                return ids.compactMap { state.pending.removeValue(forKey: $0)?.continuation }
            }
            guard !expired.isEmpty else { continue }
            let failure = ChatError(
                .unavailable,
                "The server did not answer within \(timeout); the client reconnects. The request may still take effect."
            )
            for continuation in expired { continuation.resume(throwing: failure) }
            let reason = CloseReason(code: "requestTimeout", message: "A request was not answered within \(timeout).")
            closedHere.set(ConnectionClosedError(reason: reason))
            await connection.outbound.close(reason)
            return
        }
    }

    /// Fails the request an unreadable answer names (a newer server's shape of a result this client cannot read),
    /// so that it does not wait for the connection to drop (and a `send` of the outbox does not hold its
    /// conversation back, resent and unreadable after every reconnection: it fails with `invalidArgument`).
    private func failRequest(answeredBy text: String, because error: any Error) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let type = object["type"] as? String, type == "result" || type == "error",
            let id = object["id"] as? String
        else { return }
        let failure = ChatError(
            .invalidArgument, "The server's answer could not be read by this client (\(error)).", underlying: error
        )
        state.withLock { $0.pending.removeValue(forKey: id) }?.continuation.resume(throwing: failure)
    }

    /// Handles one frame; returns `true` when it opened the session.
    private func receive(_ text: String, helloID: String, outboxSignal: AsyncStream<Void>.Continuation) -> Bool {
        let frame: ServerFrame
        do {
            frame = try codec.decodeServerFrame(text)
        } catch {
            state.withLock { $0.unreadableFrames += 1 }
            failRequest(answeredBy: text, because: error)
            return false
        }
        switch frame {
        case .welcome(let welcome):
            // One welcome per session, answering its hello. Another (a faulty server, a proxy replaying frames)
            // is not read: it would also start a second outbox sender on the session's one signal stream.
            guard welcome.id == helloID, state.withLock({ $0.welcome == nil }) else {
                state.withLock { $0.unreadableFrames += 1 }
                return false
            }
            // This side gave the session up before its welcome came (a write failed): the session is closing.
            guard state.withLock({ $0.outgoing != nil }) else { return false }
            let (waiters, rewound, snapshot) = state.withLock { state in
                state.welcome = welcome
                state.lastFailure = nil
                state.setConnectionState(.connected)
                // The server no longer has the events up to this client's cursor (its database was restored, or
                // lost its newest commits): go on from where it says (`rewoundTo`; from an older server, a
                // position below the cursor), or the events it stores, at positions the cursor covers, would be
                // taken for ones already seen.
                var rewound: StreamPosition?
                let serverStart = welcome.rewoundTo ?? welcome.position
                // The messages it stored lately may be gone with the rest: they are sent again, first.
                var snapshot: OutboxSaver.Snapshot?
                if let cursor = state.cursor, serverStart < cursor {
                    state.cursor = serverStart
                    rewound = serverStart
                    if state.requeueForRewind() > 0 { snapshot = snapshotOutbox(&state) }
                }
                if state.cursor == nil { state.cursor = welcome.position }
                state.outboxSignal = outboxSignal
                outboxSignal.yield()
                defer { state.welcomeWaiters = [:] }
                return (state.welcomeWaiters.values, rewound, snapshot)
            }
            if let rewound { eventQueue.yield(.rewound(rewound)) }
            // The requeued outbox saved (a snapshot older than one a quick answer saved meanwhile is skipped). A save
            // (or load) of the outbox that failed before is tried again at each session's start.
            save(snapshot)
            for waiter in waiters { waiter.resume(returning: welcome) }
            return true
        case .result(let id, let result):
            state.withLock { $0.pending.removeValue(forKey: id) }?.continuation.resume(returning: result)
        case .error(let error):
            let failure = Self.chatError(error)
            if error.id == helloID {
                state.withLock { $0.refusal = failure }
            } else if let id = error.id {
                state.withLock { $0.pending.removeValue(forKey: id) }?.continuation.resume(throwing: failure)
            }
        case .event(let event):
            // Catch-up after a reconnection may repeat what arrived before the drop: deliver each event once.
            let isNew = state.withLock { state -> Bool in
                if let cursor = state.cursor, event.position <= cursor { return false }
                state.cursor = event.position
                // A message of the user's deleted (from any device) is not sent again after a rewind.
                if event.kind == .messageDeleted, let deleted = event.message,
                    deleted.senderID == state.welcome?.user.id
                {
                    state.forgetForRewind(deleted.id, limit: configuration.messagesResentAfterRewind)
                }
                return true
            }
            if isNew { eventQueue.yield(.stored(event)) }
        case .synced(let synced):
            state.withLock { state in state.cursor = max(state.cursor ?? .start, synced.cursor) }
            eventQueue.yield(.synced(synced.cursor))
        case .presence(let update):
            eventQueue.yield(.presence(update))
        case .typing(let update):
            eventQueue.yield(.typing(update))
        case .goodbye(let goodbye):
            eventQueue.yield(.goodbye(goodbye))
        }
        return false
    }

    /// Ends the session's state: fails the requests awaiting answers (naming the server's reason for closing, if it
    /// gave one) and records why the connection ended.
    func finishSession(with error: ChatError, closedReason: CloseReason? = nil) {
        let pending = state.withLock { state in
            state.outgoing = nil
            state.welcome = nil
            state.lastFailure = error
            state.outboxSignal = nil
            for index in state.outbox.indices { state.outbox[index].inFlight = false }
            defer { state.pending = [:] }
            return state.pending.values.map(\.continuation)
        }
        let reason = closedReason.map { " (\($0))" } ?? ""
        let dropped = ChatError(.unavailable, "The connection closed before the answer arrived\(reason).")
        for continuation in pending { continuation.resume(throwing: dropped) }
    }
}
