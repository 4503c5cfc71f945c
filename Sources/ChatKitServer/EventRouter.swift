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
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    /// The first wait before reading the store again after it failed; each failure in a row doubles it, up to
    /// ``longestRetryDelay``.
    static let firstRetryDelay = Duration.milliseconds(100)
    static let longestRetryDelay = Duration.seconds(5)

    init(
        store: any ChatStore, registry: ConnectionRegistry, codec: WireCodec, batchSize: Int, logger: Logger,
        clock: ServerClock
    ) {
        self.store = store
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
    func run(from start: StreamPosition) async {
        var position = start
        var members = MembershipCache()
        var retryDelay = Self.firstRetryDelay
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
                logger.error(
                    "Routing stopped at a store error; will retry",
                    metadata: ["chatkit.error": "\(error)", "chatkit.retry_in": "\(retryDelay)"]
                )
            }
            // Events routed before an error are delivered too: `position` is past them.
            deliver(&group)
            if failed {
                // The events stay in the store; read them again after a while, whether or not anything else is
                // written meanwhile (nudges only come with writes: on a quiet server, waiting for one would hold
                // the events back from the connected clients for as long as nobody writes).
                do {
                    try await clock.sleep(until: clock.now + retryDelay)
                } catch {
                    return
                }
                retryDelay = min(retryDelay * 2, Self.longestRetryDelay)
                wakeUp.yield()
            } else {
                retryDelay = Self.firstRetryDelay
            }
        }
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
struct MembershipCache {
    private var entries: [ConversationID: Set<UserID>] = [:]
    private let capacity = 10_000

    mutating func members(of conversation: ConversationID, store: any ChatStore, event: StoredEvent) async throws
        -> Set<UserID>
    {
        if let cached = entries[conversation] { return cached }
        if event.kind == .conversationCreated, let members = event.members { return Set(members.map(\.userID)) }
        // Members as of this event, not as of now: the router may lag behind the store.
        return Set(try await store.memberIDs(of: conversation, at: event.position))
    }

    mutating func store(_ members: Set<UserID>, for conversation: ConversationID) {
        if entries.count >= capacity && entries[conversation] == nil { entries.removeAll(keepingCapacity: true) }
        entries[conversation] = members
    }
}
