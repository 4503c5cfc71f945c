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
import Logging
import ServiceLifecycle

/// Serving clients that hold no realtime session: HTTP requests and long polls (``HTTPRoutes`` uses these).
extension ChatServer {
    /// The longest a long poll may wait: proxies and clients commonly give up on idle requests after a minute.
    public static let maxLongPollWait: Duration = .seconds(55)

    /// Serves one request with a bearer token instead of a session, with the same rules, limits and rate limit as
    /// a request over a realtime connection.
    ///
    /// Events caused by the request reach the user's realtime connections as usual.
    ///
    /// Decode a client's request with ``ChatKitCore/WireCodec/decodeClientFrame(_:)``: it refuses identifiers
    /// holding U+0000, which a store binding text as C strings (SQLite) would read as other identifiers; a request
    /// decoded otherwise must be checked for them first.
    ///
    /// - Parameters:
    ///   - request: Any request but `hello`.
    ///   - token: The access token, as sent in `hello`.
    /// - Returns: The request's result.
    /// - Throws: ``ChatKitCore/ChatError``: `.unauthenticated` for a token no authenticator accepts, `.limitExceeded`
    ///   with a retry-after over the rate limit, or what the request itself fails with.
    public func perform(_ request: ClientRequest, token: String) async throws -> RequestResult {
        try await perform(request, asAdmitted: try await admit(token: token))
    }

    /// Checks `token` and takes one request from its user's rate limit, before the request is read: a caller with
    /// a bad token, or over the limit, does not get its body decoded. Pass the user to
    /// ``perform(_:asAdmitted:)``.
    func admit(token: String) async throws -> UserID {
        do {
            let user = try await authenticate(token).userID
            try checkRateLimit(of: user)
            return user
        } catch {
            throw answerable(error)
        }
    }

    /// Performs a request of a user ``admit(token:)`` returned.
    func perform(_ request: ClientRequest, asAdmitted user: UserID) async throws -> RequestResult {
        do {
            return try await perform(request, for: user)
        } catch {
            throw answerable(error)
        }
    }

    /// The refusal of a long poll whose login session is revoked.
    private static let revokedLongPoll = ChatError(
        .unauthenticated, "The login session was revoked (logout or password change)."
    )

    private static let shuttingDownLongPoll: ChatError = {
        var error = ChatError(.unavailable, "The server is shutting down; poll again in a moment.")
        error.retryAfter = .seconds(1)
        return error
    }()

    /// Returns the user's stored events after `cursor`, waiting up to `timeout` for one when there are none yet:
    /// a long poll, for clients that cannot hold a WebSocket.
    ///
    /// When a graceful shutdown begins, waiting polls answer at once with what they have, so that the HTTP server
    /// need not wait for them; a poll that begins during the shutdown with nothing to answer throws `.unavailable`
    /// with a retry-after of a second (an empty page at once would have its client poll again at once).
    ///
    /// The answer is a page of at most `limit` events (``ChatServerConfiguration/Limits/defaultPageSize`` when
    /// `nil`); pass its cursor to the next call. An empty page with the same cursor means the wait timed out. Long
    /// polls do not make the user appear online and receive no presence or typing updates.
    ///
    /// - Parameters:
    ///   - token: The access token.
    ///   - cursor: The position of the last event the client processed.
    ///   - limit: The most events to return.
    ///   - timeout: How long to wait for an event, at most ``maxLongPollWait``; zero answers at once.
    /// - Throws: ``ChatKitCore/ChatError``: as ``perform(_:token:)``, `.unauthenticated` when the login session
    ///   is revoked while waiting, and `.unavailable` for a poll with nothing to answer during a shutdown.
    public func events(
        token: String, after cursor: StreamPosition, limit: Int?, waitingUpTo timeout: Duration
    ) async throws -> SyncPage {
        try await events(token: token) { LongPoll(cursor: cursor, limit: limit, timeout: timeout) }
    }

    /// What a long poll asks for: ``events(token:after:limit:waitingUpTo:)``'s parameters.
    struct LongPoll {
        var cursor: StreamPosition
        var limit: Int?
        var timeout: Duration
        /// Calls its argument once the client has gone (its connection closed), so that the poll ends then
        /// instead of holding its place among the user's connections until its timeout, and returns what forgets
        /// the argument when the poll ends first; `nil` if the transport cannot tell.
        var whenClientLeaves: (@Sendable (_ leave: @escaping @Sendable () -> Void) -> @Sendable () -> Void)?
    }

    /// ``events(token:after:limit:waitingUpTo:)`` with parameters read once the token is known to be good and the
    /// rate limit allows the call: a bad token hears `.unauthenticated` whatever its parameters say.
    func events(token: String, parameters: () throws -> LongPoll) async throws -> SyncPage {
        // From before the token is checked until the poll is registered: a revocation meanwhile refuses it.
        let admission = registry.beginAdmission()
        defer { registry.endAdmission(admission) }
        do {
            let authenticated = try await authenticate(token)
            let user = authenticated.userID
            try checkRateLimit(of: user)
            let poll = try parameters()
            let cursor = poll.cursor
            let limit = poll.limit ?? configuration.limits.defaultPageSize
            // An empty page answers nothing: a poll of 0 would read the store again at every event until its end.
            guard limit >= 1 else { throw ChatError(.invalidArgument, "A long poll's 'limit' is 1 or more.") }
            let pageSize = min(limit, configuration.limits.maxPageSize)
            let deadline = ContinuousClock.now + min(max(poll.timeout, .zero), Self.maxLongPollWait)
            // A cursor naming events the store no longer has (a restored database) would skip the events stored
            // since at the positions it covers: the poll answers at once with an empty page at the position the
            // store names, below the cursor sent, which tells the client to go on from there (and to load again
            // what it shows); its next poll reads on.
            let resumed = try await store.resumePosition(after: cursor)
            if resumed < cursor { return SyncPage(events: [], cursor: resumed, hasMore: true) }

            // Listen before reading, so that nothing stored between the read and the wait is missed.
            let outbox = Outbox(
                capacity: configuration.limits.outboundQueueCapacity,
                byteCapacity: configuration.limits.outboundQueueBytes, floor: cursor
            )
            let connectionID = registry.makeConnectionID()
            switch registry.add(
                user, connection: connectionID, outbox: outbox, sessionID: authenticated.sessionID,
                isLongPoll: true, maxPerUser: configuration.limits.maxConnectionsPerUser, admission: admission
            ) {
            case nil: break
            case .revoked: throw Self.revokedLongPoll
            case .tooManyConnections: throw tooManyConnections
            }
            defer { registry.remove(user, connection: connectionID) }
            // A poll that arrives during a graceful shutdown answers at once; one whose client left ends.
            let arrivedDuringShutdown = isShuttingDown
            if arrivedDuringShutdown { outbox.close() }
            let stopWatching = poll.whenClientLeaves? { outbox.close() }
            defer { stopWatching?() }
            let page = try await withGracefulShutdownHandler {
                var page = try await store.events(for: user, after: cursor, limit: pageSize)
                // More events than the outbox holds arrived while the page was read: it holds on (and would wake
                // nobody), so the page is read again, and now has them.
                while page.events.isEmpty, !outbox.release(after: page.cursor) {
                    page = try await store.events(for: user, after: cursor, limit: pageSize)
                }
                while page.events.isEmpty, await Self.wait(for: outbox, until: deadline) {
                    page = try await store.events(for: user, after: cursor, limit: pageSize)
                }
                return page
            } onGracefulShutdown: {
                // The shutdown of the service serving this request, seen here as well as by the engine's own
                // handler (`endLongPolls`): embedded in an application's ServiceGroup, the application's HTTP
                // server shuts down first and waits for this request, and only then is the engine told.
                outbox.close()
            }
            if outbox.ending == .revoked {
                throw Self.revokedLongPoll
            }
            // Nothing to answer, and no wait possible: an empty page would have the client poll again at once, in
            // a loop until the server stops. It is told to come back in a moment (to this node or another).
            if arrivedDuringShutdown, page.events.isEmpty { throw Self.shuttingDownLongPoll }
            return resultBudget.sync(page).forClients
        } catch {
            throw answerable(error)
        }
    }

    /// Waits until the outbox receives something (`true`), or the deadline passes, the task is cancelled or the
    /// outbox ends (`false`).
    private static func wait(for outbox: Outbox, until deadline: ContinuousClock.Instant) async -> Bool {
        guard outbox.ending == nil, deadline > .now else { return false }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await outbox.next() != nil
                } onCancel: {
                    outbox.close()
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let received = await group.next() ?? false
            group.cancelAll()
            return received
        }
    }

    /// Ends every waiting long poll (they answer with an empty page) and makes new ones answer at once (`unavailable`,
    /// with a retry-after, when they have nothing to answer).
    func endLongPolls() {
        shuttingDown.set()
        for outbox in registry.longPollOutboxes() { outbox.close() }
    }

    /// Whether a graceful shutdown has begun (``endLongPolls()``).
    var isShuttingDown: Bool { shuttingDown.isSet }

    // MARK: Shared by sessions and sessionless requests

    /// Turns a bearer token into a user, asking each authenticator in order.
    func authenticate(_ token: String) async throws -> AuthenticatedUser {
        for authenticator in authenticators {
            if let user = try await authenticator.authenticate(token: token) { return user }
        }
        throw ChatError(.unauthenticated, "No authenticator accepted the token.")
    }

    /// How long a client refused for holding too many connections is told to wait.
    static let tooManyConnectionsRetryAfter = Duration.seconds(5)

    /// The refusal of a connection past ``ChatServerConfiguration/Limits/maxConnectionsPerUser``.
    var tooManyConnections: ChatError {
        let most = configuration.limits.maxConnectionsPerUser
        // With a time to wait: a connection ends sooner or later (an abandoned long poll within its wait), so the
        // refusal is not for good (over HTTP, 429 with Retry-After rather than 400).
        var error = ChatError(
            .limitExceeded,
            "This user holds \(most) connections, the most allowed; close one (another device or tab), or try again "
                + "once one has ended."
        )
        error.retryAfter = Self.tooManyConnectionsRetryAfter
        return error
    }

    /// Takes one request from the user's rate limit, or throws `.limitExceeded` with the time to wait.
    func checkRateLimit(of user: UserID) throws {
        guard let wait = rateLimiter.acquire(user, now: clock.now) else { return }
        var error = ChatError(.limitExceeded, "Too many requests; retry later.")
        error.retryAfter = wait
        throw error
    }

    /// The error to answer a client with, counted in the metrics: a ``ChatKitCore/ChatError`` as clients are told
    /// it (a storage failure's reason logged, not sent: ``ChatKitCore/ChatError/toldToClients``), a cancellation
    /// (the server stopping under the request, as a store's call may throw it) as `.unavailable`, anything else as
    /// `.storageFailure` (logged by type only: its description could carry request content).
    func answerable(_ error: any Error) -> ChatError {
        let answer: ChatError
        if let error = error as? ChatError {
            error.loggedForOperator(logger)
            answer = error.toldToClients
        } else if error is CancellationError {
            logger.debug("Request cancelled")
            answer = ChatError(.unavailable, "The request was cancelled: the server is stopping.")
        } else {
            logger.error("Request failed unexpectedly", metadata: ["chatkit.error.type": "\(type(of: error))"])
            answer = ChatError(.storageFailure, ChatError.storageFailureToldToClients)
        }
        metrics.errorAnswered(answer.code)
        return answer
    }
}
