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

/// Settings of a ``ChatServer``. Every value has a safe default; the configuration is fixed once the server
/// runs.
public struct ChatServerConfiguration: Sendable {
    /// Limits on what clients may send.
    public struct Limits: Sendable {
        /// The largest frame accepted, in bytes; larger frames are answered with `limitExceeded`.
        public var maxFrameBytes: Int
        /// The longest message body, in UTF-8 bytes.
        public var maxBodyBytes: Int
        /// The most members a group or channel may have.
        public var maxMembers: Int
        /// The most users one `createConversation` or `addMembers` may name (the creator aside); a conversation
        /// grows past it by further adds, or joins for channels. Each such request also costs the user a hundredth
        /// of a rate-limit token for each user it names, on top of its own. Values below 1 count as 1.
        ///
        /// It bounds what one request makes the server send: the event of a creation lists every member, and goes
        /// to each of them, so a creation of N members sent N × N member records (a creation of 6,700, what a
        /// frame of 256 KiB can name, about 5 GB). At the default of 500 an event is about 65 KiB, the size of
        /// the longest message, and fans out no further than a `send` does.
        public var maxMembersPerRequest: Int
        /// The largest page of history, sync, search or the conversation list; larger requests are cut to it. A
        /// conversation list without a limit is a page of this size. Values below 1 count as 1.
        public var maxPageSize: Int
        /// The page size when a request names none. Values below 1 count as 1.
        public var defaultPageSize: Int
        /// Sustained requests per second per user; a burst of twice as many is allowed.
        public var requestsPerSecond: Int
        /// Frames queued for one connection before it counts as a slow consumer and is closed.
        public var outboundQueueCapacity: Int
        /// Bytes of frames queued for one connection before it counts as a slow consumer and is closed.
        public var outboundQueueBytes: Int
        /// The most users one message may mention.
        public var maxMentions: Int
        /// The most attachments one message may have.
        public var maxAttachments: Int
        /// The longest conversation title, in UTF-8 bytes.
        public var maxTitleBytes: Int
        /// The longest search query, in UTF-8 bytes.
        public var maxSearchQueryBytes: Int
        /// The most words a search query may have (each costs the store a look-up).
        public var maxSearchTerms: Int
        /// About the most bytes of messages one history, sync or search page carries; a larger page is cut (at
        /// least one item is kept). Keep it well under what clients take in one frame (`ChatClient`: 16 MiB).
        public var maxResultBytes: Int
        /// The most connections (sessions and waiting long polls) one user may hold open at once; a `hello` past
        /// it is refused with `limitExceeded`. Each connection's outbox may hold ``outboundQueueBytes``, so this
        /// bounds what one account can make the server hold.
        public var maxConnectionsPerUser: Int

        /// Creates limits; every parameter has a safe default.
        public init(
            maxFrameBytes: Int = 256 * 1024,
            maxBodyBytes: Int = 64 * 1024,
            maxMembers: Int = 10_000,
            maxMembersPerRequest: Int = 500,
            maxPageSize: Int = 500,
            defaultPageSize: Int = 50,
            requestsPerSecond: Int = 50,
            outboundQueueCapacity: Int = 4096,
            outboundQueueBytes: Int = 16 * 1024 * 1024,
            maxMentions: Int = 50,
            maxAttachments: Int = 10,
            maxTitleBytes: Int = 256,
            maxSearchQueryBytes: Int = 1024,
            maxSearchTerms: Int = 16,
            maxResultBytes: Int = 512 * 1024,
            maxConnectionsPerUser: Int = 100
        ) {
            self.maxFrameBytes = maxFrameBytes
            self.maxBodyBytes = maxBodyBytes
            self.maxMembers = maxMembers
            self.maxMembersPerRequest = maxMembersPerRequest
            self.maxPageSize = maxPageSize
            self.defaultPageSize = defaultPageSize
            self.requestsPerSecond = requestsPerSecond
            self.outboundQueueCapacity = outboundQueueCapacity
            self.outboundQueueBytes = outboundQueueBytes
            self.maxMentions = maxMentions
            self.maxAttachments = maxAttachments
            self.maxTitleBytes = maxTitleBytes
            self.maxSearchQueryBytes = maxSearchQueryBytes
            self.maxSearchTerms = maxSearchTerms
            self.maxResultBytes = maxResultBytes
            self.maxConnectionsPerUser = maxConnectionsPerUser
        }
    }

    /// Limits on what clients may send.
    public var limits: Limits
    /// How long a user stays online after their last device disconnects (so a quick reconnect shows no flicker).
    public var presenceGracePeriod: Duration
    /// How long a typing indicator lasts without a refresh.
    public var typingTimeout: Duration
    /// The shortest interval between two broadcast typing refreshes of one user in one conversation; refreshes
    /// within it are accepted but not broadcast again.
    public var typingRefreshInterval: Duration
    /// Most events read from the store per routing round, and per page of a session's catch-up (default 500;
    /// values below 1 count as 1, above 1,000,000 as 1,000,000).
    public var routingBatchSize: Int
    /// The largest ``routingBatchSize`` a server uses.
    static let maxRoutingBatchSize = 1_000_000
    /// How many times in a row routing may fail at the same place (a store error reading or routing the next
    /// event; it waits 0.1 s after the first failure, doubling up to 5 s) before it gives up on the events not yet
    /// routed: it then goes on from the newest event and closes every connection with the reason `resync`, so
    /// that each client catches up from its cursor with reads of its own, which do not depend on the event that
    /// failed (a restarted server does the same). It gives up only when the store reads the newest event and its
    /// members (while the store fails for every event, routing waits for it), and at most once a minute. Default 8
    /// (about 11 seconds); values below 1 count as 1.
    public var routingAttemptsBeforeSkipping: Int
    /// How long a new connection may take to send `hello`; after that it is closed with the reason `timeout`, so
    /// that sockets opened and left silent do not hold server resources. Measured on the server's clock (the
    /// `clock` given to ``ChatServer``), like presence and typing. Default 10 seconds.
    public var helloTimeout: Duration
    /// The largest group whose members share presence with each other (default 100). Members of larger groups, as
    /// of channels, do not: every connect in a group of N members would otherwise send N presence frames and
    /// read N, so a reconnect storm of a whole group would cost N² frames. Contacts and direct conversations
    /// always share presence.
    public var presenceMaxGroupSize: Int
    /// The largest group whose members see each other type (default 100). In larger groups, as in channels, a
    /// `typing` request is accepted and shown to no one: with a start broadcast by each typer once a refresh
    /// interval, a hundred typers in a channel of 10,000 would send a million frames a second.
    public var typingMaxGroupSize: Int

    /// Creates a configuration; every parameter has a safe default.
    public init(
        limits: Limits = Limits(),
        presenceGracePeriod: Duration = .seconds(10),
        typingTimeout: Duration = .seconds(5),
        typingRefreshInterval: Duration = .seconds(1),
        routingBatchSize: Int = 500,
        routingAttemptsBeforeSkipping: Int = 8,
        helloTimeout: Duration = .seconds(10),
        presenceMaxGroupSize: Int = 100,
        typingMaxGroupSize: Int = 100
    ) {
        self.helloTimeout = helloTimeout
        self.presenceMaxGroupSize = presenceMaxGroupSize
        self.typingMaxGroupSize = typingMaxGroupSize
        self.limits = limits
        self.presenceGracePeriod = presenceGracePeriod
        self.typingTimeout = typingTimeout
        self.typingRefreshInterval = typingRefreshInterval
        self.routingBatchSize = routingBatchSize
        self.routingAttemptsBeforeSkipping = routingAttemptsBeforeSkipping
    }

    /// The configuration a server runs with: page and batch sizes and the request rate below 1 count as 1, and a
    /// routing batch above ``maxRoutingBatchSize`` as that. A page or routing round of no events would never make
    /// progress: routing would read nothing forever, and a catch-up with events to send would never end.
    var normalized: ChatServerConfiguration {
        var configuration = self
        configuration.routingBatchSize = min(max(1, routingBatchSize), Self.maxRoutingBatchSize)
        configuration.limits.maxPageSize = max(1, limits.maxPageSize)
        configuration.limits.defaultPageSize = max(1, limits.defaultPageSize)
        configuration.limits.maxMembersPerRequest = max(1, limits.maxMembersPerRequest)
        // As the rate limiter takes it, so that `welcome` announces the rate enforced.
        configuration.limits.requestsPerSecond = max(1, limits.requestsPerSecond)
        return configuration
    }

    /// The limits as announced to clients in `welcome`.
    var announcedLimits: ServerLimits {
        ServerLimits(
            maxFrameBytes: limits.maxFrameBytes,
            maxBodyBytes: limits.maxBodyBytes,
            maxMembers: limits.maxMembers,
            maxMembersPerRequest: limits.maxMembersPerRequest,
            maxPageSize: limits.maxPageSize,
            requestsPerSecond: limits.requestsPerSecond,
            // Clamped: a timeout of `.seconds(.max)` has more milliseconds than an Int holds.
            typingTimeoutMilliseconds: Int(min(max(typingTimeout / .milliseconds(1), 0), Double(Int32.max)))
        )
    }
}
