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

/// Routes stored events to the connections of the users who may see them, in stream order.
///
/// The router tails the store's event log (``ChatKitCore/SyncStore/allEvents(after:limit:)``) whenever it is
/// nudged after a write, so every event is routed exactly once and in commit order, whoever wrote it. Each
/// event is encoded once and the same text is queued for every receiver; consecutive events of one conversation
/// are handed to each receiver together (``DeliveryGroup``). Membership is cached per conversation and kept
/// current by the membership events the router itself routes.
final class EventRouter: Sendable {
    private let store: any ChatStore
    private let registry: ConnectionRegistry
    private let codec: WireCodec
    private let batchSize: Int
    private let logger: Logger
    private let clock: ServerClock
    private let metrics: ServerMetrics
    /// Failures in a row at the same place before routing skips ahead
    /// (``ChatServerConfiguration/routingAttemptsBeforeSkipping``).
    private let attemptsBeforeSkipping: Int
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    /// The first wait before reading the store again after it failed; each failure in a row doubles it, up to
    /// ``longestRetryDelay``.
    static let firstRetryDelay = Duration.milliseconds(100)
    static let longestRetryDelay = Duration.seconds(5)
    /// The least time between two skips (``RoutingSkipPolicy``).
    static let skipSpacing = Duration.seconds(60)

    init(
        store: any ChatStore, registry: ConnectionRegistry, codec: WireCodec, batchSize: Int,
        attemptsBeforeSkipping: Int, logger: Logger, clock: ServerClock, metrics: ServerMetrics
    ) {
        self.store = store
        self.metrics = metrics
        self.attemptsBeforeSkipping = max(attemptsBeforeSkipping, 1)
        self.clock = clock
        self.registry = registry
        self.codec = codec
        self.batchSize = batchSize
        self.logger = logger
        (wakeUps, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the router that the store may hold new events.
    func nudge() {
        wakeUp.yield()
    }

    /// Routes events after `start` until the task is cancelled.
    ///
    /// A store error (reading the next events, or the members an event goes to) is retried with backoff, from where
    /// routing stopped. After ``attemptsBeforeSkipping`` failures in a row at the same place, routing gives up on
    /// what it has not routed (``skipUnroutedEvents(after:)``), so that one event that always fails (a damaged row,
    /// a custom store's bug) does not stop live delivery for the whole server.
    func run(from start: StreamPosition) async {
        var position = start
        var members = MembershipCache()
        var retryDelay = Self.firstRetryDelay
        var skips = RoutingSkipPolicy(attemptsBeforeSkipping: attemptsBeforeSkipping, spacing: Self.skipSpacing)
        for await _ in wakeUps {
            var group: DeliveryGroup?
            var failed = false
            do {
                while true {
                    let events = try await store.allEvents(after: position, limit: batchSize)
                    for event in events {
                        try await route(event, members: &members, group: &group)
                        position = event.position
                    }
                    // A group never waits for the store: it goes out before the next batch is read.
                    deliver(&group)
                    if events.count < batchSize { break }
                }
            } catch {
                failed = true
                skips.failed(at: position)
                logger.error(
                    "Routing stopped at a store error; will retry",
                    metadata: [
                        "chatkit.error": "\(loggableDescription(of: error))", "chatkit.retry_in": "\(retryDelay)",
                        "chatkit.position": "\(position.rawValue)", "chatkit.failures": "\(skips.failuresInARow)",
                    ]
                )
            }
            // Events routed before an error are delivered too: `position` is past them.
            deliver(&group)
            guard failed else {
                retryDelay = Self.firstRetryDelay
                skips.routed()
                continue
            }
            if skips.shouldSkip(now: clock.now), let newest = await skipUnroutedEvents(after: position) {
                skips.skipped(now: clock.now)
                position = newest
                // Membership events may be among those skipped.
                members = MembershipCache()
                retryDelay = Self.firstRetryDelay
                wakeUp.yield()
                continue
            }
            // The events stay in the store; read them again after a while, whether or not anything else is
            // written meanwhile (nudges only come with writes: on a quiet server, waiting for one would hold the
            // events back from the connected clients for as long as nobody writes).
            do {
                try await clock.sleep(until: clock.now + retryDelay)
            } catch {
                return
            }
            retryDelay = min(retryDelay * 2, Self.longestRetryDelay)
            wakeUp.yield()
        }
    }

    /// Gives up on the events after `position` that routing could not get past: returns the newest position, to
    /// go on from, after closing every connection with the reason `resync`
    /// (``ConnectionRegistry/endAllForCatchUp()``).
    ///
    /// Each client's cursor is at or before the newest position, and the catch-up of its next session reads what
    /// was skipped with the store's per-user read (``ChatKitCore/SyncStore/events(for:after:limit:)``), which does
    /// not depend on what failed here: the routing of the event as a whole, or the read of the whole log. A
    /// restarted server does the same: it routes from the newest event, and its clients catch up. Returns `nil`,
    /// skipping nothing, unless the store does for the newest event what failed for the stuck one (reads it, and
    /// reads its members): while it fails for every event, it is down, not one event, and routing goes on retrying.
    private func skipUnroutedEvents(after position: StreamPosition) async -> StreamPosition? {
        guard let newest = try? await store.latestPosition(), newest > position,
            await isRoutable(newestAt: newest)
        else { return nil }
        let closed = registry.endAllForCatchUp()
        logger.critical(
            "Routing gave up on events it could not route; every connection was closed to catch up from the store",
            metadata: [
                "chatkit.skipped_after": "\(position.rawValue)", "chatkit.skipped_through": "\(newest.rawValue)",
                "chatkit.connections_closed": "\(closed)",
            ]
        )
        metrics.routingSkipped()
        return newest
    }

    /// Whether the newest event, at `position`, can be read and its recipients found: the store works for events
    /// other than the one routing is stuck at. (When the stuck event is the newest, nothing is skipped until a later
    /// one is written, and nothing else waits meanwhile.)
    private func isRoutable(newestAt position: StreamPosition) async -> Bool {
        guard let events = try? await store.allEvents(after: StreamPosition(position.rawValue - 1), limit: 1),
            let newest = events.first
        else { return false }
        guard newest.audience == nil, let conversation = newest.conversationID else { return true }
        return (try? await store.memberIDs(of: conversation, at: newest.position)) != nil
    }

    /// Consecutive events of one conversation with the same recipients, delivered together.
    ///
    /// Each delivery wakes a connection's writer. With one delivery per event, a busy conversation's members
    /// got its events one at a time, each in a system call of its own (into 10,000 members with 128 broadcasts
    /// in flight, a `writev` carried 5 frames on average); a group hands each connection all of them at once.
    /// A group spans one batch read from the store at most, and goes out before anything that may wait for the
    /// store (the next batch, an event of another conversation), so its first event waits only for the others
    /// to be encoded.
    private struct DeliveryGroup {
        let conversation: ConversationID
        let recipients: Set<UserID>
        var events: [RoutedEvent]
    }

    /// The most events one group holds (its first waits for the others to be encoded).
    private static let groupCapacity = 64

    private func route(_ event: StoredEvent, members: inout MembershipCache, group: inout DeliveryGroup?) async throws {
        // An event that cannot join the group sends it first: finding its recipients may read the store.
        if let conversation = group?.conversation, event.audience != nil || event.conversationID != conversation {
            deliver(&group)
        }
        let recipients: Set<UserID>
        // A membership change changes the recipients: such an event is delivered on its own.
        var changesMembers = false
        if let audience = event.audience {
            recipients = Set(audience)
        } else if let conversation = event.conversationID {
            var current = try await members.members(of: conversation, store: store, event: event)
            let changed = Set(event.members?.map(\.userID) ?? [])
            switch event.kind {
            case .membersAdded:
                current.formUnion(changed)
                recipients = current
                changesMembers = true
            case .memberRemoved:
                recipients = current.union(changed)
                current.subtract(changed)
                changesMembers = true
            default:
                recipients = current
            }
            members.store(current, for: conversation)
        } else {
            return
        }
        guard !recipients.isEmpty else { return }
        let routed = RoutedEvent(frame: try codec.encode(ServerFrame.event(event.forClients)), position: event.position)
        if let conversation = event.conversationID, event.audience == nil, !changesMembers {
            if group?.conversation == conversation, let count = group?.events.count, count < Self.groupCapacity {
                group?.events.append(routed)
            } else {
                deliver(&group)
                group = DeliveryGroup(conversation: conversation, recipients: recipients, events: [routed])
            }
        } else {
            deliver(&group)
            registry.deliverEvents([routed], to: recipients)
        }
    }

    /// Delivers the group, if any, and empties it.
    private func deliver(_ group: inout DeliveryGroup?) {
        guard let current = group else { return }
        group = nil
        registry.deliverEvents(current.events, to: current.recipients)
    }
}

/// The members of recently active conversations, as of the last routed event.
///
/// Bounded by conversations and by members: 10,000 conversations of 10,000 members each would hold 10⁸ user IDs
/// (gigabytes). Past either bound it starts again empty.
struct MembershipCache {
    private var entries: [ConversationID: Set<UserID>] = [:]
    /// How many members the entries hold in all.
    private(set) var memberCount = 0
    private let capacity: Int
    private let memberCapacity: Int

    init(capacity: Int = 10_000, memberCapacity: Int = 1_000_000) {
        self.capacity = capacity
        self.memberCapacity = memberCapacity
    }

    mutating func members(of conversation: ConversationID, store: any ChatStore, event: StoredEvent) async throws
        -> Set<UserID>
    {
        if let cached = entries[conversation] { return cached }
        if event.kind == .conversationCreated, let members = event.members { return Set(members.map(\.userID)) }
        // Members as of this event, not as of now: the router may lag behind the store.
        return Set(try await store.memberIDs(of: conversation, at: event.position))
    }

    mutating func store(_ members: Set<UserID>, for conversation: ConversationID) {
        let replaced = entries[conversation]
        memberCount -= replaced?.count ?? 0
        if (replaced == nil && entries.count >= capacity) || memberCount + members.count > memberCapacity {
            entries.removeAll(keepingCapacity: true)
            memberCount = 0
        }
        entries[conversation] = members
        memberCount += members.count
    }
}
