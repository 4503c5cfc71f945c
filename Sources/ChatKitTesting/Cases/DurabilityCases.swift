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
import Foundation

extension ChatStoreConformance {
    /// A durable store under test: a way to open a store on one location (a file, a database), again and again,
    /// and to close it. Each ``DurabilityCase`` gets a fresh, empty location.
    ///
    /// ```swift
    /// @Test(arguments: ChatStoreConformance.durabilityCases)
    /// func durability(_ check: ChatStoreConformance.DurabilityCase) async throws {
    ///     let path = try makeTemporaryFile()
    ///     try await check.run {
    ///         ChatStoreConformance.DurableSubject(
    ///             open: { try MyChatStore(path: path) },
    ///             close: { try await ($0 as? MyChatStore)?.close() }
    ///         )
    ///     }
    /// }
    /// ```
    public struct DurableSubject: Sendable {
        /// Opens a store on the subject's location; called again only after the previous store was closed.
        public var open: @Sendable () async throws -> any ChatStore
        /// Closes a store ``open`` returned, as an app that stops does; the next ``open`` reads what it kept.
        public var close: @Sendable (any ChatStore) async throws -> Void

        /// Creates a subject.
        ///
        /// - Parameters:
        ///   - open: Opens a store on the subject's location.
        ///   - close: Closes a store `open` returned; by default nothing (the store is let go).
        public init(
            open: @escaping @Sendable () async throws -> any ChatStore,
            close: @escaping @Sendable (any ChatStore) async throws -> Void = { _ in }
        ) {
            self.open = open
            self.close = close
        }

        /// Closes `store` and opens the location again.
        func reopen(_ store: any ChatStore) async throws -> any ChatStore {
            try await close(store)
            return try await open()
        }
    }

    /// One named check of what a durable store keeps across closing and opening, run on a fresh location.
    public typealias DurabilityCase = ConformanceCase<DurableSubject>

    /// What a durable store keeps when it is closed and opened again: every record, the stream's positions (a client
    /// holds a cursor across a server's restart), the seqs, the idempotency of resends, revocations. Run them for an
    /// adapter that keeps data across restarts, beside ``cases``.
    public static var durabilityCases: [DurabilityCase] {
        [
            DurabilityCase("durability", "everything stored is there, as it was, after reopening") { subject in
                let store = try await subject.open()
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                _ = try await store.updateProfile(of: bob, ProfileUpdate(statusText: "on the train"))
                _ = try await store.setPasswordHash("hash-2", of: carol)
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                let group = try await fixture.group(alice, [bob, carol], title: "Team")
                _ = try await store.setRole(.admin, of: bob, in: group, by: alice)
                let channel = try await fixture.channel(carol, [alice])
                let direct = try await fixture.direct(alice, bob)
                let messages = try await fixture.send(count: 3, from: alice, to: group)
                _ = try await fixture.send("in the channel", from: carol, to: channel)
                _ = try await fixture.send("just us", from: bob, to: direct)
                _ = try await store.editMessage(messages[0].id, body: "edited", by: alice)
                _ = try await store.addReaction("👍", to: messages[1].id, by: bob)
                _ = try await store.deleteMessage(messages[2].id, by: alice)
                _ = try await store.markRead(group, upTo: 2, by: bob)
                _ = try await store.markDelivered(group, upTo: 3, by: carol)
                try await store.createSession(ChatStoreConformance.makeSession(for: alice, id: "kept"))
                try await store.createSession(ChatStoreConformance.makeSession(for: bob, id: "revoked"))
                try await store.revokeSession("revoked")

                /// What a store answers about everything above.
                struct Snapshot: Equatable {
                    var users: [User]
                    var credentials: [Credentials?]
                    var contacts: [[Contact]]
                    var conversations: [[ConversationSummary]]
                    var members: [[Member]]
                    var histories: [[Message]]
                    var markers: [[Marker]]
                    var sessions: [AuthSession?]
                    var events: [[StoredEvent]]
                    var latest: StreamPosition
                }
                func snapshot(_ store: any ChatStore) async throws -> Snapshot {
                    let fixture = StoreFixture(store)
                    var snapshot = Snapshot(
                        users: try await store.users(ids).sorted { $0.id < $1.id }, credentials: [], contacts: [],
                        conversations: [],
                        members: [], histories: [], markers: [], sessions: [], events: [],
                        latest: try await store.latestPosition()
                    )
                    for user in ids {
                        snapshot.credentials.append(try await store.credentials(of: user))
                        snapshot.contacts.append(try await store.contacts(of: user))
                        snapshot.conversations.append(try await store.conversations(of: user))
                        snapshot.events.append(try await fixture.allEvents(for: user))
                    }
                    for (conversation, viewer) in [(group, alice), (channel, carol), (direct, bob)] {
                        snapshot.members.append(try await store.members(of: conversation, as: viewer))
                        snapshot.histories.append(try await store.messages(in: conversation, .latest(), as: viewer))
                        snapshot.markers.append(try await store.markers(of: conversation, as: viewer))
                    }
                    for session in ["kept", "revoked"] as [SessionID] {
                        snapshot.sessions.append(try await store.session(session))
                    }
                    return snapshot
                }
                let before = try await snapshot(store)
                let reopened = try await subject.reopen(store)
                let after = try await snapshot(reopened)
                try checkEqual(after.users, before.users, "users after reopening")
                try checkEqual(after.credentials, before.credentials, "credentials after reopening")
                try checkEqual(after.contacts, before.contacts, "contacts after reopening")
                try checkEqual(after.conversations, before.conversations, "conversation lists after reopening")
                try checkEqual(after.members, before.members, "members after reopening")
                try checkEqual(after.histories, before.histories, "histories after reopening")
                try checkEqual(after.markers, before.markers, "markers after reopening")
                try checkEqual(after.sessions, before.sessions, "sessions after reopening")
                try checkEqual(after.events, before.events, "every user's events after reopening")
                try check(after.latest >= before.latest, "the latest position went back on reopening")
                try await subject.close(reopened)
            },

            DurabilityCase("durability", "seqs and positions go on after reopening, past every cursor handed out") {
                subject in
                let store = try await subject.open()
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                try await fixture.send(count: 3, from: alice, to: group)
                let cursor = try await store.latestPosition()
                let reopened = try await subject.reopen(store)
                try checkEqual(
                    try await reopened.resumePosition(after: cursor), cursor,
                    "where a client holding the last cursor resumes after reopening"
                )
                let next = try await StoreFixture(reopened).send("after the restart", from: bob, to: group)
                try checkEqual(next.seq, 4, "the seq of the first message after reopening")
                let page = try await reopened.events(for: alice, after: cursor, limit: 10)
                try checkEqual(
                    page.events.map { $0.message?.id }, [next.id],
                    "the events after the last cursor handed out before reopening"
                )
                try check(
                    page.events.allSatisfy { $0.position > cursor },
                    "an event after reopening at a position already used"
                )
                try await subject.close(reopened)
            },

            DurabilityCase("durability", "a resend after reopening returns the message stored before, stores nothing") {
                subject in
                let store = try await subject.open()
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let first = try await fixture.send("once", from: alice, to: chat, clientMessageID: "resent")
                let reopened = try await subject.reopen(store)
                let latest = try await reopened.latestPosition()
                let again = try await StoreFixture(reopened).send(
                    "once", from: alice, to: chat, clientMessageID: "resent"
                )
                try checkEqual(again, first, "the message a resend after reopening returns")
                try checkEqual(try await reopened.latestPosition(), latest, "latest position after the resend")
                try checkEqual(
                    try await reopened.messages(in: chat, .latest(), as: bob).map(\.id), [first.id],
                    "the conversation's history after the resend"
                )
                try await subject.close(reopened)
            },

            DurabilityCase("durability", "positions go on after reopening past events outside conversations too") {
                subject in
                // A store that keeps contact, profile and one-user marker events apart from conversation events, and
                // restarts its counter from the conversation events only, would hand out positions again: clients
                // holding them as cursors would skip the new events.
                let store = try await subject.open()
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let channel = try await fixture.channel(alice, [bob])
                try await fixture.send(count: 2, from: alice, to: channel)
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.updateProfile(of: alice, ProfileUpdate(statusText: "away"))
                _ = try await store.markRead(channel, upTo: 2, by: bob)
                let cursor = try await store.latestPosition()
                let reopened = try await subject.reopen(store)
                _ = try await reopened.requestContact(from: bob, to: carol)
                let next = try await StoreFixture(reopened).send("after the restart", from: alice, to: channel)
                for (user, expected) in [(bob, 2), (alice, 1)] {
                    let page = try await reopened.events(for: user, after: cursor, limit: 10)
                    try checkEqual(page.events.count, expected, "events after the last cursor, after reopening")
                    try check(
                        page.events.allSatisfy { $0.position > cursor },
                        "an event after reopening at a position already used"
                    )
                }
                let logged = try await reopened.allEvents(after: cursor, limit: 10)
                try checkEqual(logged.count, 2, "events in the whole log after the last cursor")
                try checkEqual(logged.last?.message?.id, next.id, "the newest event after reopening")
                try await subject.close(reopened)
            },

            DurabilityCase("durability", "a creation asked again after reopening, with its key, returns the first") {
                subject in
                let store = try await subject.open()
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await store.createConversation(
                    .group("Trip", createdBy: alice, members: [bob], creationKey: "trip-1")
                )
                let reopened = try await subject.reopen(store)
                let latest = try await reopened.latestPosition()
                let again = try await reopened.createConversation(
                    .group("Trip", createdBy: alice, members: [bob], creationKey: "trip-1")
                )
                try checkEqual(again.id, group.id, "the group a creation asked again after reopening returns")
                try checkEqual(try await reopened.latestPosition(), latest, "latest position after asking again")
                try checkEqual(try await reopened.conversations(of: bob).count, 1, "bob's conversations")
                try await subject.close(reopened)
            },
        ]
    }
}
