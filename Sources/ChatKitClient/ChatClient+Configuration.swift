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

extension ChatClient {
    /// Settings of a ``ChatClient``, fixed when it is created. Every value has a default.
    ///
    /// ```swift
    /// var configuration = ChatClient.Configuration()
    /// configuration.reconnection = .exponentialBackoff(initialDelay: .milliseconds(500), maximumDelay: .seconds(60))
    /// let client = ChatClient(transport: transport, token: token, configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// How the client reconnects after its connection ends. Default ``ReconnectionPolicy/default``: backoff
        /// from 250 ms doubling to 30 s, with full jitter.
        public var reconnection: ReconnectionPolicy
        /// How often the client sends a message the server refused with `storageFailure` or `unavailable` (faults it
        /// may recover from), or with `unauthenticated` (the login was revoked while the send was on its way; the
        /// next session sends it with a fresh token), before marking it failed. Default 5. A dropped connection does
        /// not count.
        public var maximumSendAttempts: Int
        /// Where the outbox is kept between runs of the app, so that messages queued and not yet stored are sent
        /// when a new client starts with the same storage. Default `nil`: the outbox lives in memory, across
        /// reconnections and calls to ``ChatClient/run()``, not across processes. See ``OutboxStorage``.
        public var outboxStorage: (any OutboxStorage)?
        /// The most events ``ChatClient/events`` keeps for the app before dropping the oldest stored events, presence
        /// and typing updates (``ClientEvent/rewound(_:)``, ``ClientEvent/synced(_:)`` and
        /// ``ClientEvent/goodbye(_:)`` stay while any of those waits), so that an app that does not consume them
        /// (or stopped) does not hold every event of the client's life in memory. Default
        /// 10,000. ``ChatClient/droppedEventCount`` counts what was dropped: an app that finds it grown reloads
        /// what it shows from the server (conversations, history), or starts a new client from the position of the
        /// last event it processed.
        public var eventBufferLimit: Int
        /// About the most bytes of events ``ChatClient/events`` keeps for the app (message bodies, and a few hundred
        /// bytes an event besides), dropping the oldest as ``eventBufferLimit`` does, never the newest: 10,000
        /// messages of 64 KiB would hold 640 MB. Default ``defaultEventBufferBytes``; the newest event is kept
        /// whatever its size.
        public var eventBufferBytes: Int
        /// The default of ``eventBufferBytes``: 64 MiB.
        public static let defaultEventBufferBytes = 64 << 20
        /// How many of the messages it sent last through its outbox the client keeps (in memory) to send again should
        /// the server rewind: ``ClientEvent/rewound(_:)``, its database restored from a backup or short of its newest
        /// commits, so messages it acknowledged may be gone. After a rewind they go back into the outbox (pending,
        /// ahead of the messages queued since, in their order) and are sent again with their client message IDs: one
        /// the server still has is answered with the stored message, nothing is posted twice; one it lost is stored
        /// again, with a new ID and seq (a reply sent again refers to the new ID). One whose conversation was lost
        /// too is refused (`notFound`) and stays ``OutgoingMessage/State/failed``. A message whose
        /// `messageDeleted` event this client received is not sent again. Default 200; 0 keeps none.
        public var messagesResentAfterRewind: Int
        /// How long a request waits for the server's answer. A request not answered in time throws `.unavailable`,
        /// and the client closes the connection (reason `requestTimeout`) and reconnects: a server answers a
        /// connection's requests in order, so the ones after a stuck request would wait behind it, and a new
        /// connection is served afresh. Default 60 seconds; `nil` (or a duration of zero or less) waits as long as
        /// the connection lasts. A request that timed out may still take effect on the server: a message the outbox
        /// sent is sent again in the next session with its client message ID, which the server stores once.
        /// Measured on `ContinuousClock`, not on the clock given to the initializer (which tests make instant).
        public var requestTimeout: Duration?
        /// The clock backoff and retry-after waits run on.
        let clock: ClientClock

        /// ``requestTimeout`` if positive, at most a year (a deadline of `Duration`'s largest value overflows).
        var effectiveRequestTimeout: Duration? {
            guard let requestTimeout, requestTimeout > .zero else { return nil }
            return min(requestTimeout, .seconds(365 * 86_400))
        }

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - reconnection: How the client reconnects; ``ReconnectionPolicy/disabled`` makes ``ChatClient/run()``
        ///     return when its first session ends.
        ///   - maximumSendAttempts: Sends of a message refused with `storageFailure`, `unavailable` or
        ///     `unauthenticated` before it is marked failed.
        ///   - outboxStorage: Where to keep the outbox between runs of the app; `nil` keeps it in memory.
        ///   - eventBufferLimit: The most events kept for the app before the oldest are dropped (at least 1).
        ///   - eventBufferBytes: About the most bytes of events kept for the app before the oldest are dropped.
        ///   - messagesResentAfterRewind: How many of the messages sent last are kept to send again after the server
        ///     rewound.
        ///   - requestTimeout: How long a request waits for its answer; `nil` (or a duration of zero or less) waits
        ///     as long as the connection lasts.
        ///   - clock: The clock the client waits on (backoff, retry-after); tests pass one that does not really
        ///     wait.
        public init(
            reconnection: ReconnectionPolicy = .default,
            maximumSendAttempts: Int = 5,
            outboxStorage: (any OutboxStorage)? = nil,
            eventBufferLimit: Int = 10_000,
            eventBufferBytes: Int = defaultEventBufferBytes,
            messagesResentAfterRewind: Int = 200,
            requestTimeout: Duration? = .seconds(60),
            clock: some Clock<Duration> = ContinuousClock()
        ) {
            self.reconnection = reconnection
            self.maximumSendAttempts = max(maximumSendAttempts, 1)
            self.outboxStorage = outboxStorage
            self.eventBufferLimit = max(eventBufferLimit, 1)
            self.eventBufferBytes = max(eventBufferBytes, 1)
            self.messagesResentAfterRewind = max(messagesResentAfterRewind, 0)
            self.requestTimeout = requestTimeout.flatMap { $0 > .zero ? $0 : nil }
            self.clock = ClientClock(clock)
        }

        /// One session and no reconnection: ``ChatClient/run()`` returns (or throws) when the first connection
        /// ends, and the caller reconnects with a new client and the old one's ``ChatClient/cursor``.
        public static var singleSession: Configuration { Configuration(reconnection: .disabled) }
    }
}
