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

/// A ChatKit client that stays connected: it opens sessions over any ``ChatKitCore/ClientTransport``, reconnects
/// when the network drops, resumes from its cursor, keeps unsent messages in an outbox, and delivers what the
/// server pushes as ``events``.
///
/// Run it in a task you own; ``run()`` keeps the client connected until that task is cancelled, and throws when
/// the server refuses the session for good (log in again). Requests made from other tasks wait for their answers.
/// ``events`` and the update streams do not end when ``run()`` does (it may run again), so let ``run()``'s end
/// end the tasks that consume them:
///
/// ```swift
/// let client = ChatClient(transport: transport, token: token)
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await client.run() }
///     group.addTask { for await event in client.events { ... } }
///     try await client.connected()
///     let chat = try await client.createDirectConversation(with: bob)
///     let message = try await client.send("Hi Bob", to: chat.id)
///     try await group.next()  // run() ended: rethrows its refusal
///     group.cancelAll()       // stops the event loop; later events wait in the client for the next one
/// }
/// ```
///
/// - Reconnection: after a dropped connection the client waits (``ReconnectionPolicy``: exponential backoff with
///   full jitter, at least the server's retry-after) and connects again, sending its ``cursor`` in `hello`. The
///   server replays every stored event after the cursor; the client drops any event at or below its cursor, so
///   ``events`` has no gaps and no duplicates across reconnections.
/// - Outbox: ``send(_:to:clientMessageID:replyTo:mentions:attachments:)`` queues the message and sends it whenever
///   the client is connected, again after a reconnection if the answer was lost, in order within each
///   conversation. ``outbox`` and ``outboxUpdates()`` show each message's ``OutgoingMessage/State``; with an
///   ``Configuration/outboxStorage`` the outbox also survives a restart of the app.
/// - Connection state: ``connectionState``, and ``connectionStateUpdates()`` to observe it.
///
/// Errors are ``ChatKitCore/ChatError``s carrying the server's error code; `.unavailable` means the connection
/// is not open (or dropped before the answer came).
public final class ChatClient: Sendable {
    enum RunPhase {
        /// ``run()`` has not been called yet.
        case idle
        case running
        /// ``run()`` returned (`nil`) or threw.
        case ended(ChatError?)
    }

    struct OutboxEntry {
        var message: OutgoingMessage
        /// Sent on the current connection, awaiting the answer (or waiting out a retry-after).
        var inFlight = false
        /// Refusals that are retried later (`storageFailure`), counted to give up eventually.
        var failedAttempts = 0
        /// Tasks awaiting `send`, by waiter ID.
        var waiters: [Int: CheckedContinuation<Message, any Error>] = [:]
        /// The ID the server gave the message before it rewound, for a message sent again after the rewind.
        var idBeforeRewind: MessageID?
    }

    struct State {
        var connectionState = ConnectionState.disconnected
        var stateObservers = Observers<ConnectionState>()
        var phase = RunPhase.idle
        /// Takes the open session's outgoing frames; `nil` between sessions and once this side gave the session up
        /// (``giveUpSession()``).
        var outgoing: AsyncStream<String>.Continuation?
        /// Requests awaiting their answers on the open session, by request ID.
        var pending: [String: PendingRequest] = [:]
        var welcome: Welcome?
        /// Callers of ``ChatClient/connected()`` waiting for a session, by waiter ID (`nextWaiterID`).
        var welcomeWaiters: [Int: CheckedContinuation<Welcome, any Error>] = [:]
        var refusal: ChatError?
        /// Why the last connection ended, until the next one opens.
        var lastFailure: ChatError?
        var cursor: StreamPosition?
        /// Frames from the server this client could not read (``ChatClient/unreadableFrameCount``).
        var unreadableFrames = 0
        var nextRequestID = 0
        var nextWaiterID = 0
        /// The token from the provider, once asked.
        var providedToken: String?
        var outbox: [OutboxEntry] = []
        /// The messages the server stored last, oldest first, kept to send again should it rewind
        /// (``Configuration/messagesResentAfterRewind``).
        var recentlyStored: [(request: ClientRequest.Send, messageID: MessageID)] = []
        /// The user's messages whose deletion arrived lately, oldest first (as many as `recentlyStored` holds): the
        /// event may come before the answer to the send is handled.
        var recentlyDeleted: [MessageID] = []
        /// The new ID of each message sent again since the last rewind that the server stored anew, by its ID
        /// before: a reply sent again after it refers to the new one.
        var idsAfterRewind: [MessageID: MessageID] = [:]
        var outboxObservers = Observers<OutgoingMessage>()
        /// Wakes the outbox sender of the open session; `nil` between sessions.
        var outboxSignal: AsyncStream<Void>.Continuation?
        /// Counts the changes of the outbox, which number its snapshots (``OutboxSaver``).
        var outboxChanges = 0
        /// The last time (``ClientClock/elapsed``) reserved for an outbox send that the rate limit refused to go out
        /// again: each refused send takes the next slot, one retry-after after the one before.
        var rateLimitedSendSlot: Duration = .zero
        /// The task running ``ChatClient/run()`` was cancelled: the run is ending.
        var runCancelled = false
        /// Calls of ``ChatClient/run()`` waiting for a cancelled run to end before they start.
        /// Calls of ``run()`` waiting for a cancelled run to end; the first is handed the run (`true`), the others
        /// look again (`false`).
        var runEndWaiters: [CheckedContinuation<Bool, Never>] = []

        mutating func setConnectionState(_ new: ConnectionState) {
            guard new != connectionState else { return }
            connectionState = new
            stateObservers.yield(new)
        }

        /// The welcome of the session that requests can go out on: `nil` between sessions, and from the moment this
        /// side gives the open session up until the next one opens.
        var usableWelcome: Welcome? { outgoing == nil ? nil : welcome }

        /// Gives the open session up while its connection closes (a request went unanswered, or a frame could not
        /// be written): from now on requests fail at once, the outbox waits for the next session, and
        /// ``ChatClient/connected()`` waits for the next session, so that a caller who retries after a failure does
        /// not retry on this one. Frames still arriving on it are read until it closes.
        mutating func giveUpSession() {
            outgoing = nil
            outboxSignal = nil
        }
    }

    enum TokenSource: Sendable {
        case fixed(String)
        case provider(@Sendable (_ refresh: Bool) async throws -> String)
    }

    /// How one connection attempt ended.
    enum SessionOutcome: Sendable {
        /// The server refused `hello`, or ended the open session because its login was revoked (`openFor`: how long
        /// the session had been open; `nil` for a refused `hello`).
        case refused(ChatError, openFor: Duration? = nil)
        /// The transport could not reach the server.
        case unreachable(ChatError)
        /// The connection closed; `opened` when the session had opened, `uptime` how long it was open.
        case ended(opened: Bool, uptime: Duration, ChatError)

        /// Why the attempt or the session ended.
        var failure: ChatError {
            switch self {
            case .refused(let error, _), .unreachable(let error), .ended(_, _, let error): error
            }
        }
    }

    let transportForSessions: any ClientTransport
    private let tokenSource: TokenSource
    /// The client's settings, fixed at creation.
    public let configuration: Configuration
    let codec = WireCodec()
    let state: Mutex<State>
    /// Keeps the outbox in ``Configuration/outboxStorage``; `nil` without one.
    let outboxSaver: OutboxSaver?
    let eventQueue: ClientEventQueue

    /// Everything the server pushes, in the order it arrived, across reconnections: stored events once each (none
    /// at or below the cursor), presence, typing, `synced` after each catch-up, `goodbye`. Events wait in the client
    /// until taken, up to ``Configuration/eventBufferLimit`` events and about ``Configuration/eventBufferBytes``
    /// (then the oldest are dropped: consume them). Ending a loop over it (or cancelling its task) loses nothing: the
    /// next loop takes up where it stopped (``ClientEvents``).
    public var events: ClientEvents { ClientEvents(queue: eventQueue) }

    /// How many events ``events`` dropped, oldest first, because more than ``Configuration/eventBufferLimit`` (or
    /// ``Configuration/eventBufferBytes``) waited untaken (stored events, presence and typing:
    /// ``ClientEvent/rewound(_:)`` and the other events that tell the app what to do are kept while any of those
    /// waits). Zero for an app that keeps up; when it grows, what the app shows may lack those events: reload it
    /// from the server.
    public var droppedEventCount: Int { eventQueue.droppedCount }

    /// How many frames from the server this client could not read: a newer server's shape of an event, a presence
    /// or typing update, or a result (a request so answered fails with `invalidArgument`). Zero with a server of
    /// this version. An unreadable event is not delivered, and the cursor moves past it with the next event: when
    /// this grows, what the app shows may lack events; update the client.
    public var unreadableFrameCount: Int { state.withLock { $0.unreadableFrames } }

    /// Why the last attempt to connect failed, or why the last session ended: the server unreachable (a wrong URL,
    /// TLS, a proxy refusing the upgrade), the token provider failing, or the server refusing the session, with
    /// the underlying error where there is one; `unavailable` "The client stopped: its run() was cancelled." once
    /// the app cancelled ``run()``. `nil` before the first attempt and while a session is open. A client that
    /// reconnects says only ``ConnectionState/waitingToReconnect(after:)`` meanwhile: show or log this to tell a
    /// passing outage from a setting that will never work.
    public var lastConnectionError: ChatError? { state.withLock { $0.lastFailure } }

    /// Creates a client that sends a fixed token.
    ///
    /// When the server refuses the token (`unauthenticated`), ``run()`` throws: a fixed token cannot be refreshed.
    /// Use ``init(transport:cursor:configuration:tokenProvider:)`` to refresh tokens.
    ///
    /// - Parameters:
    ///   - transport: How to reach the server.
    ///   - token: The bearer token sent in `hello`.
    ///   - cursor: The position of the last event this client processed before, to catch up from; `nil` to
    ///     start from now.
    ///   - configuration: Reconnection and timing; the defaults reconnect with backoff.
    public convenience init(
        transport: any ClientTransport,
        token: String,
        cursor: StreamPosition? = nil,
        configuration: Configuration = Configuration()
    ) {
        self.init(transport: transport, tokenSource: .fixed(token), cursor: cursor, configuration: configuration)
    }

    /// Creates a client that asks `tokenProvider` for its token.
    ///
    /// The client asks once before its first connection (`refresh` is `false`) and keeps the token. When the
    /// server refuses it (`unauthenticated`), the client asks again with `refresh` set to `true` (fetch a new
    /// access token, for example from `POST /v1/auth/refresh`) and reconnects at once; if the new token is refused
    /// too, ``run()`` throws. When the server ends an open session because its login was revoked (a logout, a
    /// password change), the client asks again with `refresh` set to `true` each time, after its reconnection
    /// backoff. A provider that throws a ``ChatKitCore/ChatError`` `.unauthenticated` or `.forbidden` stops the
    /// client (log in again); any other error counts as a failed connection attempt and is retried with backoff.
    ///
    /// ```swift
    /// let client = ChatClient(transport: transport) { refresh in
    ///     refresh ? try await api.refresh().accessToken : tokens.accessToken
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - transport: How to reach the server.
    ///   - cursor: The position of the last event this client processed before; `nil` to start from now.
    ///   - configuration: Reconnection and timing; the defaults reconnect with backoff.
    ///   - tokenProvider: Returns the bearer token to send in `hello`; `refresh` asks for a new one.
    public convenience init(
        transport: any ClientTransport,
        cursor: StreamPosition? = nil,
        configuration: Configuration = Configuration(),
        tokenProvider: @escaping @Sendable (_ refresh: Bool) async throws -> String
    ) {
        self.init(
            transport: transport, tokenSource: .provider(tokenProvider), cursor: cursor, configuration: configuration)
    }

    private init(
        transport: any ClientTransport,
        tokenSource: TokenSource,
        cursor: StreamPosition?,
        configuration: Configuration
    ) {
        self.transportForSessions = transport
        self.tokenSource = tokenSource
        self.configuration = configuration
        // `eventBufferLimit` may have been set below 1 after the configuration's initializer clamped it.
        self.eventQueue = ClientEventQueue(
            limit: max(configuration.eventBufferLimit, 1), byteLimit: configuration.eventBufferBytes
        )
        var state = State(cursor: cursor)
        if let storage = configuration.outboxStorage {
            let (messages, saver) = OutboxSaver.load(from: storage)
            state.outbox = messages.map { OutboxEntry(message: $0) }
            outboxSaver = saver
        } else {
            outboxSaver = nil
        }
        self.state = Mutex(state)
    }

    deinit {
        let observers = state.withLock { state in (state.stateObservers, state.outboxObservers) }
        observers.0.finishAll()
        observers.1.finishAll()
        eventQueue.finish()
    }

    /// How many calls of ``run()`` wait for a cancelled run to end before they start (for tests).
    var runsWaitingToStart: Int { state.withLock { $0.runEndWaiters.count } }

    /// Where the connection stands.
    public var connectionState: ConnectionState { state.withLock { $0.connectionState } }

    /// The connection state now, then every change, until the consumer stops iterating or the client is released.
    ///
    /// A typical sequence: `connecting`, `connected`, then after a drop `waitingToReconnect(after: 0.2 s)`,
    /// `connecting`, `connected`; `disconnected` when ``run()`` returns. Each call returns a new stream; a stream
    /// buffers without limit, so consume it.
    ///
    /// - Returns: A stream of states.
    public func connectionStateUpdates() -> AsyncStream<ConnectionState> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectionState.self)
        let id = state.withLock { state in
            continuation.yield(state.connectionState)
            return state.stateObservers.add(continuation)
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { $0.stateObservers.remove(id) }
        }
        return stream
    }

    /// The position of the last stored event received and put into ``events``.
    ///
    /// It runs ahead of what the app has taken from ``events`` when the app lags behind: to resume across app
    /// launches, save the position of the last event the app processed (``ChatKitCore/StoredEvent/position``),
    /// and pass that to the next client.
    public var cursor: StreamPosition? { state.withLock { $0.cursor } }

    /// Connects, opens a session and processes what the server sends; when the connection ends, waits as the
    /// ``Configuration/reconnection`` policy says and connects again, until the calling task is cancelled.
    ///
    /// Each new session sends the ``cursor`` in `hello`, so the server replays what happened meanwhile. Returns
    /// when the task is cancelled. With ``ReconnectionPolicy/disabled``, returns when the first session closes
    /// (throws when it was closed because its login was revoked).
    ///
    /// - Throws: ``ChatKitCore/ChatError`` when the server refuses the session for good: `unauthenticated` (after
    ///   one token refresh when there is a token provider; at once for a session whose login was revoked, with a
    ///   fixed token or without reconnection), `invalidArgument` (no shared protocol version),
    ///   `forbidden`, `notFound`. Refusals the server may lift (`unavailable`, `storageFailure`, `limitExceeded`)
    ///   are retried, waiting at least their retry-after. With ``ReconnectionPolicy/disabled``, also `.unavailable`
    ///   when the server cannot be reached or any refusal. `.conflict` when `run()` is already running (a run whose
    ///   task was cancelled is waited for instead: a view that stops and starts the client again at once, as
    ///   SwiftUI's `.task` does, gets a new run).
    public func run() async throws {
        while true {
            enum Start { case now, afterTheCancelledRun, never }
            let start = state.withLock { state -> Start in
                if case .running = state.phase { return state.runCancelled ? .afterTheCancelledRun : .never }
                state.phase = .running
                state.runCancelled = false
                return .now
            }
            switch start {
            case .now:
                break
            case .afterTheCancelledRun:
                let handedOver = await withCheckedContinuation { continuation in
                    let ended = state.withLock { state -> Bool in
                        guard case .running = state.phase else { return true }
                        state.runEndWaiters.append(continuation)
                        return false
                    }
                    if ended { continuation.resume(returning: false) }
                }
                // Handed the run, the client never stopped running: sends and `connected()` calls made meanwhile
                // waited for this run instead of hearing that the client had stopped.
                if handedOver { break }
                continue
            case .never:
                throw ChatError(.conflict, "run() is already running on this client; run it from one task only.")
            }
            break
        }
        do {
            try await withTaskCancellationHandler {
                try await reconnect()
            } onCancel: {
                state.withLock { $0.runCancelled = true }
            }
            end(with: nil)
        } catch {
            let failure = error as? ChatError ?? ChatError(.unavailable, "The client stopped.", underlying: error)
            end(with: failure)
            throw failure
        }
    }

    /// Runs sessions until cancelled or refused for good.
    private func reconnect() async throws {
        let policy = configuration.reconnection
        var generator = SystemRandomNumberGenerator()
        var failedAttempts = 0
        var refreshedToken = false
        var needsFreshToken = false
        while !Task.isCancelled {
            state.withLock { $0.setConnectionState(.connecting) }
            let outcome: SessionOutcome
            do {
                let token = try await accessToken(refresh: needsFreshToken)
                // Only once a fresh token came: a refresh that failed (offline) is asked for again next time,
                // rather than the refused token sent again.
                needsFreshToken = false
                outcome = await session(token: token)
            } catch is CancellationError {
                return
            } catch let error as ChatError where error.code == .unauthenticated || error.code == .forbidden {
                state.withLock { $0.lastFailure = error }
                throw error
            } catch {
                outcome = .unreachable(ChatError(.unavailable, "The token provider failed.", underlying: error))
            }
            if Task.isCancelled { return }
            state.withLock { $0.lastFailure = outcome.failure }
            var retryAfter: Duration?
            switch outcome {
            case .refused(let refusal, _?) where refusal.code != .unauthenticated:
                // The session opened, then the server refused it for a passing reason (its catch-up failed in
                // storage): tried again as a refused hello is, from the cursor the catch-up had reached.
                guard policy.isEnabled, Self.mayRetry(refusal) else { throw Self.finalRefusal(refusal) }
                retryAfter = refusal.retryAfter
                refreshedToken = false
            case .refused(let refusal, let openFor?):
                // The open session's login was revoked. Its token was good: a fresh one is worth asking for, each
                // time, but after the usual backoff (a provider whose tokens are revoked at once must not make the
                // client reconnect in a tight loop), and only when the client reconnects at all.
                guard policy.isEnabled, case .provider = tokenSource else { throw Self.finalRefusal(refusal) }
                if openFor >= policy.resetAfter { failedAttempts = 0 }
                refreshedToken = true
                needsFreshToken = true
            case .refused(let refusal, nil):
                if refusal.code == .unauthenticated, case .provider = tokenSource, !refreshedToken {
                    refreshedToken = true
                    needsFreshToken = true
                    continue
                }
                guard policy.isEnabled, Self.mayRetry(refusal) else { throw Self.finalRefusal(refusal) }
                retryAfter = refusal.retryAfter
                // Below, the token was not judged (or was accepted): a later refusal of it is news, and worth a
                // refresh; only a refusal right after a refresh means the provider's tokens are refused.
                refreshedToken = false
            case .unreachable(let failure):
                guard policy.isEnabled else { throw failure }
                refreshedToken = false
            case .ended(let opened, let uptime, let failure):
                // One session, and it never opened (closed before the welcome): that is a failure to connect.
                guard policy.isEnabled else {
                    if opened { return }
                    throw failure
                }
                refreshedToken = false
                if uptime >= policy.resetAfter { failedAttempts = 0 }
            }
            let delay = policy.delay(forAttempt: failedAttempts, retryAfter: retryAfter, using: &generator)
            failedAttempts += 1
            state.withLock { $0.setConnectionState(.waitingToReconnect(after: delay)) }
            do {
                try await configuration.clock.sleep(delay)
            } catch {
                return
            }
        }
    }

    /// Whether a refused `hello` may succeed later.
    static func mayRetry(_ refusal: ChatError) -> Bool {
        refusal.code == .unavailable || refusal.code == .storageFailure || refusal.code == .limitExceeded
    }

    /// The error ``run()`` throws for a refusal it gives up on.
    private static func finalRefusal(_ refusal: ChatError) -> ChatError {
        var error = ChatError(
            refusal.code,
            "The server refused the session (\(refusal.code)): \(refusal.reason ?? "no reason given")"
        )
        error.retryAfter = refusal.retryAfter
        return error
    }

    private func accessToken(refresh: Bool) async throws -> String {
        switch tokenSource {
        case .fixed(let token):
            return token
        case .provider(let provide):
            if !refresh, let token = state.withLock({ $0.providedToken }) { return token }
            let token = try await provide(refresh)
            state.withLock { $0.providedToken = token }
            return token
        }
    }

    /// Stops: fails everyone waiting for a session or a send, and records why.
    private func end(with failure: ChatError?) {
        typealias Waiters = (
            welcome: [CheckedContinuation<Welcome, any Error>], sends: [CheckedContinuation<Message, any Error>],
            error: ChatError, runEnd: [CheckedContinuation<Bool, Never>]
        )
        let (welcomeWaiters, sendWaiters, error, runEndWaiters) = state.withLock { state -> Waiters in
            let runEndWaiters = state.runEndWaiters
            state.runEndWaiters = []
            // Cancelled, the run's last session ended because the app stopped it, not for the reason it records.
            if failure == nil, state.runCancelled {
                state.lastFailure = ChatError(.unavailable, "The client stopped: its run() was cancelled.")
            }
            // A run waits to start (a view restarting the client): it is handed the run (the first such call
            // below), so the client does not pass through `.ended`, where a `send` made in between would fail.
            if runEndWaiters.isEmpty {
                state.phase = .ended(failure)
            } else {
                state.runCancelled = false
            }
            state.setConnectionState(.disconnected)
            let error = failure ?? state.lastFailure ?? ChatError(.unavailable, "The client stopped.")
            var sendWaiters: [CheckedContinuation<Message, any Error>] = []
            for index in state.outbox.indices { state.outbox[index].inFlight = false }
            // Callers of send wait on for the run that starts next, if one waits to: failing them would tell them
            // their message was not sent while it goes out moments later (SwiftUI's `.task` restarting the client),
            // and an app that sent it again would post it twice.
            if runEndWaiters.isEmpty {
                for index in state.outbox.indices {
                    sendWaiters += state.outbox[index].waiters.values
                    state.outbox[index].waiters = [:]
                }
            }
            // Callers of connected() wait on for the run that starts next, if one waits to.
            guard runEndWaiters.isEmpty else { return ([], sendWaiters, error, runEndWaiters) }
            defer { state.welcomeWaiters = [:] }
            return (Array(state.welcomeWaiters.values), sendWaiters, error, runEndWaiters)
        }
        // The last chance this run has to save an outbox whose save failed.
        save(nil)
        for waiter in welcomeWaiters { waiter.resume(throwing: error) }
        let stopped = ChatError(
            .unavailable,
            "The client stopped before the message was sent; it stays in the outbox and is sent when run() runs again."
        )
        for waiter in sendWaiters { waiter.resume(throwing: stopped) }
        for (index, waiter) in runEndWaiters.enumerated() { waiter.resume(returning: index == 0) }
    }

    /// Waits until a session is open and returns the server's welcome.
    ///
    /// While the client reconnects this waits for the next session. Called before ``run()`` starts, it waits for
    /// the first one. Once a request has failed with `.unavailable` because its connection closed or the server did
    /// not answer it in time, this waits for a session opened after that one.
    ///
    /// - Throws: Once ``run()`` has ended: what it threw (such as the refusal), or, when it returned, why the last
    ///   connection ended (`.unavailable`); `CancellationError` when the calling task is cancelled while waiting.
    @discardableResult
    public func connected() async throws -> Welcome {
        let id = state.withLock { state -> Int in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<Welcome, any Error>? in
                    if let welcome = state.usableWelcome, state.connectionState == .connected {
                        return .success(welcome)
                    }
                    if case .ended(let failure) = state.phase {
                        return .failure(failure ?? state.lastFailure ?? ChatError(.unavailable, "The client stopped."))
                    }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.welcomeWaiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.welcomeWaiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Sends a request and waits for its result.
    ///
    /// No request made here is queued, not even ``ChatKitCore/ClientRequest/send(_:)``: each fails while the client
    /// is disconnected, and a `send` made here keeps no order with the outbox's. To post messages, use
    /// ``send(_:to:clientMessageID:replyTo:mentions:attachments:)`` or
    /// ``queue(_:to:clientMessageID:replyTo:mentions:attachments:)``, which go through the outbox.
    ///
    /// - Throws: ``ChatKitCore/ChatError`` with the server's code when refused; `.unavailable` when not connected
    ///   or when the connection closes before the answer (naming the server's reason for closing, when it gave
    ///   one); `.limitExceeded` when the frame is larger than the server accepts, and when the user's rate limit
    ///   refused the request (with ``ChatKitCore/ChatError/retryAfter`` set: nothing here retries it; the outbox's
    ///   sends wait out their own); `.unavailable` too when the server did not answer within
    ///   ``Configuration/requestTimeout`` (the client then reconnects; the request may still take effect);
    ///   `.invalidArgument` when the server's answer cannot be read; `CancellationError` when the calling task is
    ///   cancelled.
    public func request(_ request: ClientRequest) async throws -> RequestResult {
        let id = state.withLock { state -> String in
            state.nextRequestID += 1
            return "\(state.nextRequestID)"
        }
        let text = try codec.encode(ClientFrame(id: id, request))
        if let limit = state.withLock({ $0.welcome?.limits.maxFrameBytes }), text.utf8.count > limit {
            throw ChatError(.limitExceeded, "The request has \(text.utf8.count) bytes; the server accepts \(limit).")
        }
        let deadline = configuration.effectiveRequestTimeout.map { ContinuousClock.now + $0 }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let failure = state.withLock { state -> (any Error)? in
                    if Task.isCancelled { return CancellationError() }
                    guard state.connectionState == .connected, let outgoing = state.outgoing else {
                        return ChatError(.unavailable, "The client is not connected.")
                    }
                    state.pending[id] = PendingRequest(continuation: continuation, deadline: deadline)
                    outgoing.yield(text)
                    return nil
                }
                if let failure { continuation.resume(throwing: failure) }
            }
        } onCancel: {
            let request = state.withLock { $0.pending.removeValue(forKey: id) }
            request?.continuation.resume(throwing: CancellationError())
        }
    }

    /// A request awaiting its answer.
    struct PendingRequest {
        /// Resumed with the answer, or with why none came.
        let continuation: CheckedContinuation<RequestResult, any Error>
        /// When it is given up (``Configuration/requestTimeout``), if ever.
        let deadline: ContinuousClock.Instant?
    }

    static func chatError(_ frame: ErrorFrame) -> ChatError {
        var error = ChatError(
            ChatError.Code(wireValue: frame.code) ?? .storageFailure, frame.message,
            underlying: ServerAnswer(code: frame.code)
        )
        error.retryAfter = frame.retryAfterMilliseconds.map { .milliseconds($0) }
        return error
    }

    /// The ``ChatKitCore/ChatError/underlying`` of an error the server answered (not one of this client's, such
    /// as a connection closed before the answer), with the server's code as it was sent.
    ///
    /// A code this version of ChatKit does not know (from a newer server) arrives as
    /// ``ChatKitCore/ChatError/Code/storageFailure``; read ``code`` here to tell it apart:
    ///
    /// ```swift
    /// catch let error as ChatError {
    ///     let sent = (error.underlying as? ChatClient.ServerAnswer)?.code   // "notFound", or a newer code
    /// }
    /// ```
    public struct ServerAnswer: Error, CustomStringConvertible, Hashable, Sendable {
        /// The server's error code, as sent (for example `"notFound"`).
        public var code: String
        /// "the server answered" and the code.
        public var description: String { "the server answered \(code)" }

        /// Creates an answer (the client makes its own; for an app's tests and fakes).
        public init(code: String) { self.code = code }
    }
}

/// A flag set once, read from any task.
final class ManagedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

/// A value set from one task and read from any.
final class ManagedValue<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    var current: Value? { value.withLock { $0 } }
}
