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
import Logging

/// One connection's session: the `hello` handshake, catch-up, then requests in order until the peer leaves.
///
/// ``run(inbound:)`` serves a connection whose frames a task reads (a ``ChatKitCore/Connection``); a socket that
/// pushes its frames (``ChatSocketHandler``) is served by a ``PushedSession`` with the same operations.
struct Session: Sendable {
    let server: ChatServer
    /// Writes to the peer and closes the connection.
    let outbound: OutboundWriter
    /// The peer, for logs.
    let peer: String

    private var codec: WireCodec { server.codec }

    /// The server's logger, with the connection's ID when debugging.
    func logger(connectionID: Int) -> Logger {
        var logger = server.logger
        if logger.logLevel <= .debug { logger[metadataKey: "chatkit.connection.id"] = "\(connectionID)" }
        return logger
    }

    /// Serves the connection whose frames `inbound` yields until the peer leaves, then closes it.
    func run(inbound: AsyncThrowingStream<String, any Error>) async {
        let connectionID = server.registry.makeConnectionID()
        let logger = logger(connectionID: connectionID)
        var inbound = inbound.makeAsyncIterator()
        let deadline = startHelloDeadline()
        var hello: String?
        do {
            hello = try await inbound.next()
        } catch {
            logger.debug("Connection failed", metadata: ["chatkit.error": "\(error)"])
        }
        if !deadline.stopWaiting() { hello = nil }
        guard let hello, let opened = await openInChildTask(hello, connectionID: connectionID, logger: logger) else {
            await outbound.close(deadline.closeReasonWithoutSession)
            return
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await write(from: opened.outbox) }
            let sends = SendPipeline()
            do {
                while let text = try await inbound.next() {
                    if await handleRequest(text, user: opened.user, outbox: opened.outbox, sends: sends) {
                        group.addTask { await appendSends(from: sends, user: opened.user, outbox: opened.outbox) }
                    }
                    if opened.outbox.ending != nil { break }
                }
            } catch {
                logger.debug("Connection failed", metadata: ["chatkit.error": "\(error)"])
            }
            // Sends read before the peer left are still appended.
            await sends.waitUntilIdle()
            opened.outbox.close()
        }
        await close(user: opened.user, connectionID: connectionID)
        // The same reason as `closeWhenEnded(_:)`'s, whichever close comes first.
        await outbound.close(opened.outbox.ending.flatMap(Self.closeReason) ?? .normal)
    }

    /// Closes the connection with the reason `timeout` unless its first frame arrives within
    /// ``ChatServerConfiguration/helloTimeout`` on the server's clock.
    ///
    /// The deadline is a timer of the server's ``TimerQueue``, not a sleeping child task: such a task kept its
    /// memory (a task, a 1 KB slab and a sleep record) until its sleep ended, 10 s after every connect, `hello` or
    /// not. The close runs as a background action: the peer may not be reading.
    func startHelloDeadline() -> HelloDeadline {
        let deadline = HelloDeadline(writer: outbound)
        let background = server.background
        server.timers.schedule(at: server.clock.now + server.configuration.helloTimeout) {
            guard let writer = deadline.expire() else { return }
            background.run { await writer.close(HelloDeadline.reason) }
        }
        return deadline
    }

    /// An open session: its user and the outbox its writer drains.
    typealias Opened = (user: UserID, outbox: Outbox)

    /// Runs ``open(_:connectionID:logger:)`` in a child task, which ends with it.
    ///
    /// The handshake and catch-up have the deepest frames of a session (12 KB of them), and a task keeps the
    /// memory its deepest frames took until the task itself goes: run in the session's own task, they would stay
    /// for as long as the connection, idle or not.
    private func openInChildTask(_ text: String, connectionID: Int, logger: Logger) async -> Opened? {
        await withTaskGroup(of: Opened?.self) { group in
            group.addTask { await open(text, connectionID: connectionID, logger: logger) }
            return await group.next() ?? nil
        }
    }

    // MARK: Handshake

    /// Answers the first frame, which must be `hello`; returns the open session, or `nil` after refusing.
    func open(_ text: String, connectionID: Int, logger: Logger) async -> Opened? {
        let frame: ClientFrame
        switch codec.decodeClientFrame(text) {
        case .success(let decoded): frame = decoded
        case .failure(let failure):
            await refuse(id: failure.id, failure.error, reason: "protocolError")
            return nil
        }
        guard case .hello(let hello) = frame.request else {
            await refuse(id: frame.id, ChatError(.unauthenticated, "The first frame must be 'hello'."), reason: "protocolError")
            return nil
        }
        guard let version = WireProtocol.negotiate(hello.versions) else {
            let supported = WireProtocol.supportedVersions.map(String.init).joined(separator: ", ")
            await refuse(
                id: frame.id,
                ChatError(.invalidArgument, "No common protocol version; this server speaks \(supported)."),
                reason: "protocolError"
            )
            return nil
        }
        var registered: Opened?
        // From before the token is checked until the connection is registered: a revocation meanwhile refuses it.
        let admission = server.registry.beginAdmission()
        defer { server.registry.endAdmission(admission) }
        do {
            let authenticated = try await server.authenticate(hello.token)
            let user = authenticated.userID
            // Opening a session (a token check, a presence audience, a catch-up) costs more than a request: it counts
            // as one against the user's rate limit.
            try server.checkRateLimit(of: user)
            guard let profile = try await server.store.user(user) else {
                throw ChatError(.unauthenticated, "The token's user no longer exists.")
            }
            let position = try await server.store.latestPosition()
            // A cursor naming events the store no longer has (a database restored from a backup, or one that lost
            // its newest commits in a power loss) would hide the events stored since at the positions it covers,
            // or hold ones the store lost: the session starts where the store says, and `welcome.rewoundTo` tells
            // the client to go on from there.
            var start = position
            if let cursor = hello.cursor { start = try await server.store.resumePosition(after: cursor) }
            let rewoundTo = hello.cursor.flatMap { start < $0 ? start : nil }
            let outbox = Outbox(
                capacity: server.configuration.limits.outboundQueueCapacity,
                byteCapacity: server.configuration.limits.outboundQueueBytes, floor: start, onEnded: closeWhenEnded
            )
            // Register before catching up, so no live event falls between catch-up and live delivery.
            switch server.registry.add(
                user, connection: connectionID, outbox: outbox, sessionID: authenticated.sessionID,
                maxPerUser: server.configuration.limits.maxConnectionsPerUser, admission: admission
            ) {
            case nil: break
            case .revoked: throw Self.revokedLogin
            case .tooManyConnections: throw server.tooManyConnections
            }
            registered = (user, outbox)
            let announces = server.presence.connected(user)
            let withdrawals = server.presence.withdrawalMark(user)
            // The same users see this user's presence and are shown to them: read the audience once.
            let audience = try await server.presenceAudience(of: user)
            if announces {
                server.broadcastOnline(of: user, to: audience)
                server.presence.markAnnounced(user)
            }
            let welcome = Welcome(
                id: frame.id, version: version, user: profile,
                limits: server.configuration.announcedLimits, position: position, rewoundTo: rewoundTo
            )
            try await outbound.write(try codec.encode(ServerFrame.welcome(welcome)))
            var cursor = try await catchUp(user, from: start)
            while !outbox.release(after: cursor) {
                // What was queued meanwhile (presence, typing) is written now, so that the held events of the next
                // round are not refused for want of room beside it round after round.
                while let frames = outbox.take(upToBytes: Outbox.writeChunkBytes), !frames.isEmpty {
                    for frame in frames { try await outbound.write(frame) }
                }
                cursor = try await catchUp(user, from: cursor)
            }
            try await outbound.write(try codec.encode(ServerFrame.synced(Synced(cursor: cursor))))
            // Written, not queued: the audience has no bound, and more peers online than the outbox holds would
            // close the new session as a slow consumer, again at every reconnect.
            let peers = server.onlinePeers(in: audience)
            for update in peers {
                try await outbound.write(try codec.encode(ServerFrame.presence(update)))
            }
            // A relation that ended after the audience was read (a contact removed, a group left): its withdrawal
            // may have come before this session's presence, which then showed both sides online for good.
            if server.presence.withdrawalMark(user) != withdrawals {
                await server.correctPresence(of: user, shown: audience, peersShown: Set(peers.map(\.userID)))
            }
            logger.debug("Session opened", metadata: ["chatkit.user.id": "\(user)"])
            return (user, outbox)
        } catch let error as ConnectionClosedError where registered != nil {
            // The peer left during the handshake. It may have sent requests after `welcome`, before leaving:
            // they are still answered (sends stored, as for any peer that leaves), then the session ends.
            logger.debug("Connection closed during the handshake", metadata: ["chatkit.error": "\(error)"])
            return registered
        } catch {
            // Undo the registration of a session that failed while catching up.
            if let registered { await close(user: registered.user, connectionID: connectionID) }
            if let error = error as? ChatError {
                await refuse(id: frame.id, error, reason: error.code == .unauthenticated ? "unauthenticated" : "error")
            } else {
                await refuse(id: frame.id, ChatError(.unavailable, "The session could not be opened."), reason: "error")
            }
            return nil
        }
    }

    /// Writes the user's events after `cursor`, page by page, and returns the cursor after the last.
    ///
    /// A page is cut to ``ChatServerConfiguration/Limits/maxResultBytes`` (``ResultBudget``), and after a cut page
    /// the next one asks the store for twice as many events as fitted (never more than a full page): a peer that
    /// stops reading during its catch-up holds one cut page in memory while the write waits, not
    /// ``ChatServerConfiguration/routingBatchSize`` events of up to 64 KiB each (32 MB).
    private func catchUp(_ user: UserID, from cursor: StreamPosition) async throws -> StreamPosition {
        var cursor = cursor
        let fullPage = server.configuration.routingBatchSize
        var limit = fullPage
        while true {
            let page = server.resultBudget.sync(try await server.store.events(for: user, after: cursor, limit: limit))
            let wasCut = page.hasMore && page.events.count < limit
            limit = min(fullPage, wasCut ? max(1, 2 * page.events.count) : 2 * limit)
            for event in page.events {
                try await outbound.write(try codec.encode(ServerFrame.event(event.forClients)))
            }
            cursor = page.cursor
            if !page.hasMore { return cursor }
        }
    }

    /// Answers with an error and a goodbye; the connection then closes.
    private func refuse(id: String?, _ error: ChatError, reason: String) async {
        let error = server.answerable(error)
        let frames = [
            ServerFrame.error(ErrorFrame(id: id, error: error)),
            ServerFrame.goodbye(Goodbye(reason: reason, message: error.reason ?? "\(error.code)")),
        ]
        for frame in frames {
            guard let text = try? codec.encode(frame) else { continue }
            try? await outbound.write(text)
        }
    }

    // MARK: Requests

    /// A request read from the connection and admitted (decoded, within the rate limit).
    enum AdmittedRequest: Sendable {
        /// A `send`, to queue in the session's ``SendPipeline``.
        case send(SendPipeline.PendingSend)
        /// Any other request, served once the sends read before it are answered.
        case other(ClientFrame)
    }

    /// Decodes a request and checks the user's rate limit; `nil` when it was answered with an error already.
    func admit(_ text: String, user: UserID, outbox: Outbox) -> AdmittedRequest? {
        let frame: ClientFrame
        switch codec.decodeClientFrame(text) {
        case .success(let decoded): frame = decoded
        case .failure(let failure):
            server.metrics.errorAnswered(failure.error.code)
            enqueue(.error(ErrorFrame(id: failure.id, error: failure.error)), to: outbox)
            // A frame that cannot be read counts against the rate limit as any request does (reading it cost as
            // much, or more); past the limit the connection is closed: a client whose frames cannot be read does
            // not get better by being told so faster than requests are allowed. The limit is the user's, shared by
            // all their devices: a connection is closed only once it has sent a few unreadable frames in a row
            // itself, so stray ones (a newer client's unknown requests, now and then over a long connection) while
            // other devices spent the bucket are answered.
            let sentByThisConnection = outbox.noteUnreadableFrame()
            if outbox.ending == nil, (try? server.checkRateLimit(of: user)) == nil,
                sentByThisConnection >= Self.unreadableFramesBeforeClosing
            {
                outbox.endForUnreadableFrames()
            }
            return nil
        }
        // Also when the rate limit refuses it: a readable frame shows the client is not broken. (A peer that sends
        // garbage with a ping between costs what one flooding pings does: each is refused past the limit.)
        outbox.noteReadableFrame()
        let received = ContinuousClock.now
        do {
            try server.checkRateLimit(of: user)
        } catch {
            enqueue(.error(ErrorFrame(id: frame.id, error: server.answerable(error))), to: outbox)
            return nil
        }
        if case .send(let send) = frame.request {
            return .send(SendPipeline.PendingSend(id: frame.id, request: send, received: received))
        }
        return .other(frame)
    }

    /// How many unreadable frames in a row a connection may send before one past the user's rate limit closes it.
    static let unreadableFramesBeforeClosing = 10

    /// The refusal of a request, or of a session still opening, once its login session is revoked.
    static let revokedLogin = ChatError(.unauthenticated, "The login session was revoked; log in again.")

    /// Serves a request other than `send` and queues its answer. The caller makes sure the sends read before it
    /// were answered first.
    ///
    /// Once the login session is revoked, a request still read behind the revocation (while the sends before it
    /// were being stored, say) is refused, not served, as ``appendSends(from:user:outbox:)`` refuses sends.
    func perform(_ frame: ClientFrame, user: UserID, outbox: Outbox) async {
        if case .revoked = outbox.ending {
            enqueue(.error(ErrorFrame(id: frame.id, error: server.answerable(Self.revokedLogin))), to: outbox)
            return
        }
        do {
            let result = try await server.perform(frame.request, for: user)
            enqueue(.result(id: frame.id, result), to: outbox)
        } catch {
            enqueue(.error(ErrorFrame(id: frame.id, error: server.answerable(error))), to: outbox)
        }
    }

    /// Answers one request. A `send` is queued in `sends`; any other request is served once the sends read before
    /// it are answered (see ``SendPipeline``).
    ///
    /// - Returns: Whether the caller must start a send worker (``appendSends(from:user:outbox:)``), in a task of
    ///   its own: none is running.
    ///
    /// Never inlined: inlined, its frames (and those of ``ChatServer/perform(_:for:)``) made
    /// ``run(inbound:)``'s own frame 7.7 KB, which every connection served by a task holds for its whole life,
    /// idle or not.
    @inline(never)
    func handleRequest(
        _ text: String,
        user: UserID,
        outbox: Outbox,
        sends: SendPipeline
    ) async -> Bool {
        switch admit(text, user: user, outbox: outbox) {
        case nil:
            return false
        case .send(let send):
            return await sends.push(send)
        case .other(let frame):
            await sends.waitUntilIdle()
            await perform(frame, user: user, outbox: outbox)
            return false
        }
    }

    /// The send worker: appends the queued sends in batches, in order, and answers each, until none is left.
    /// Once the login session is revoked, the sends still queued are refused, not stored.
    func appendSends(from sends: SendPipeline, user: UserID, outbox: Outbox) async {
        while let batch = sends.next() {
            if case .revoked = outbox.ending {
                for send in batch {
                    enqueue(.error(ErrorFrame(id: send.id, error: server.answerable(Self.revokedLogin))), to: outbox)
                }
                continue
            }
            let outcomes = await server.performSends(batch.map(\.request), for: user)
            // By index: `zip` copied each send and outcome it passed. The answers reach the outbox together.
            var answers: [String] = []
            answers.reserveCapacity(batch.count)
            for index in batch.indices {
                let answer: ServerFrame
                switch outcomes[index] {
                case .success(let result):
                    answer = .result(id: batch[index].id, result)
                    server.metrics.sendAcknowledged(after: ContinuousClock.now - batch[index].received)
                case .failure(let error):
                    answer = .error(ErrorFrame(id: batch[index].id, error: server.answerable(error)))
                }
                if let text = try? codec.encode(answer) { answers.append(text) }
            }
            outbox.enqueue(contentsOf: answers)
        }
    }

    private func enqueue(_ frame: ServerFrame, to outbox: Outbox) {
        guard let text = try? codec.encode(frame) else { return }
        outbox.enqueue(text)
    }

    // MARK: Writing and closing

    /// Drains the outbox to the connection.
    private func write(from outbox: Outbox) async {
        do {
            while let frames = await outbox.next() {
                for frame in frames { try await outbound.write(frame) }
            }
        } catch {
            outbox.close()
        }
    }

    /// Closes the connection when its outbox overflows (a slow consumer) or its login session is revoked, with a
    /// reason the client can act on. The writer may be stuck writing to a slow peer, so the close goes to the
    /// transport directly, from a task of its own (``BackgroundActions``).
    @Sendable private func closeWhenEnded(_ ending: Outbox.Ending) {
        guard let reason = Self.closeReason(for: ending) else { return }
        if ending == .overflowed {
            server.logger.info("Closing a slow consumer", metadata: ["chatkit.connection.peer": "\(peer)"])
        } else if ending == .unreadableFrames {
            server.logger.info(
                "Closing a connection sending unreadable frames", metadata: ["chatkit.connection.peer": "\(peer)"]
            )
        }
        let outbound = outbound
        server.background.run { await outbound.close(reason) }
    }

    /// Why the connection closes when its outbox ended this way; `nil` when the session simply ended.
    static func closeReason(for ending: Outbox.Ending) -> CloseReason? {
        switch ending {
        case .closed:
            nil
        case .overflowed:
            CloseReason(
                code: "slowConsumer",
                message: "The connection fell too far behind and was closed; reconnect and resume from your cursor."
            )
        case .revoked:
            CloseReason(
                code: "unauthenticated",
                message: "The login session was revoked (logout or password change); log in again."
            )
        case .unreadableFrames:
            CloseReason(
                code: "protocolError",
                message: "Too many frames that could not be read, faster than requests are allowed."
            )
        case .mustCatchUp:
            CloseReason(
                code: "resync",
                message: "The server could not deliver some events live; reconnect and resume from your cursor."
            )
        }
    }

    func close(user: UserID, connectionID: Int) async {
        server.registry.remove(user, connection: connectionID)
        if let generation = server.presence.disconnected(user) {
            let server = server
            server.endTyping(of: user)
            // Last seen now, when the last connection closed, not when the grace period ends.
            let lastSeenAt = Date()
            server.timers.schedule(at: server.clock.now + server.configuration.presenceGracePeriod) {
                if let announcement = server.presence.expire(user, generation: generation) {
                    await server.broadcastOffline(of: user, announcement: announcement, lastSeenAt: lastSeenAt)
                }
            }
        }
    }
}
