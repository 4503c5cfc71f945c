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

import ChatKitClient
import ChatKitCore
@testable import ChatKitServer
import ChatKitTesting
import Synchronization
import Testing

@Suite("Presence between users who just met")
struct PresenceIntroductionTests {
    private static func sawOffline(_ user: UserID) -> @Sendable ([ClientEvent]) -> Bool {
        { events in
            events.contains { if case .presence(let update) = $0 { update.userID == user && !update.isOnline } else { false } }
        }
    }

    private static func sawOnline(_ user: UserID) -> @Sendable ([ClientEvent]) -> Bool {
        { events in
            events.contains { if case .presence(let update) = $0 { update.userID == user && update.isOnline } else { false } }
        }
    }

    @Test func aNewDirectConversationOrGroupIntroducesOnlineMembers() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            // Strangers: nobody was told about anybody at connect.
            #expect(!Self.sawOnline(bob)(aliceClient.events))

            _ = try await aliceClient.client.createDirectConversation(with: bob)
            try await aliceClient.waitFor("bob online", Self.sawOnline(bob))
            try await bobClient.waitFor("alice online", Self.sawOnline(alice))

            let group = try await aliceClient.client.createGroup("Later", members: [])
            _ = try await aliceClient.client.addMembers([carol], to: group.id)
            try await carolClient.waitFor("alice online", Self.sawOnline(alice))
            try await aliceClient.waitFor("carol online", Self.sawOnline(carol))
            // Bob is not in the group: he hears nothing of Carol.
            #expect(!Self.sawOnline(carol)(bobClient.events))
        }
    }

    /// The introduction read the new conversation's members after the creation committed, and was dropped when that
    /// read failed: the two went on seeing each other offline until one reconnected. It is tried again.
    @Test func anIntroductionWhoseMembersCannotBeReadIsTriedAgain() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await ServerHarness.run(store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            store.failsMemberReads.store(true, ordering: .relaxed)
            let timersBefore = harness.server.timers.pendingCount
            _ = try await aliceClient.client.createDirectConversation(with: bob)
            try await waitUntil("the introduction's retry") { harness.server.timers.pendingCount > timersBefore }
            #expect(!Self.sawOnline(bob)(aliceClient.events))
            store.failsMemberReads.store(false, ordering: .relaxed)
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: ChatServer.offlineRetryDelays[0])
            try await aliceClient.waitFor("bob online", Self.sawOnline(bob))
            try await bobClient.waitFor("alice online", Self.sawOnline(alice))
        }
    }

    @Test func membersOfGroupsOverTheLimitDoNotShareEachOthersPresence() async throws {
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 3
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let dave = try await harness.user("dave")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            var daveClient = try await harness.connect("dave")

            // Three members, at the limit: introduced.
            _ = try await aliceClient.client.createGroup("Small", members: [bob, carol])
            try await bobClient.waitFor("alice online", Self.sawOnline(alice))
            try await carolClient.waitFor("bob online", Self.sawOnline(bob))

            // Four members, over it: nobody hears of Dave nor Dave of anybody, at creation or when he reconnects.
            let large = try await aliceClient.client.createGroup("Large", members: [bob, carol, dave])
            await daveClient.disconnect()
            daveClient = try await harness.connect("dave")
            // Presence frames would be queued before this message on every connection (outboxes are in order).
            _ = try await aliceClient.client.send("barrier", to: large.id)
            try await daveClient.waitForMessages(1, in: large.id)
            try await carolClient.waitForMessages(1, in: large.id)
            #expect(!daveClient.events.contains { if case .presence = $0 { true } else { false } })
            #expect(!Self.sawOnline(dave)(carolClient.events))
            #expect(!Self.sawOnline(dave)(aliceClient.events))
        }
    }

    @Test func aGroupGrowingPastTheLimitWithdrawsPresenceItNoLongerShares() async throws {
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 3
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let dave = try await harness.user("dave")
            // Alice and Carol are contacts as well: they go on sharing presence.
            _ = try await harness.store.requestContact(from: alice, to: carol)
            _ = try await harness.store.acceptContact(carol, from: alice)
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            let group = try await aliceClient.client.createGroup("Growing", members: [bob, carol])
            try await bobClient.waitFor("alice online", Self.sawOnline(alice))
            try await bobClient.waitFor("carol online", Self.sawOnline(carol))

            _ = try await aliceClient.client.addMembers([dave], to: group.id)
            try await bobClient.waitFor("alice offline", Self.sawOffline(alice))
            try await bobClient.waitFor("carol offline", Self.sawOffline(carol))
            try await aliceClient.waitFor("bob offline", Self.sawOffline(bob))
            // Presence frames would be queued before this message on every connection (outboxes are in order).
            _ = try await bobClient.client.send("barrier", to: group.id)
            try await aliceClient.waitForMessages(1, in: group.id)
            try await carolClient.waitForMessages(1, in: group.id)
            #expect(!Self.sawOffline(carol)(aliceClient.events), "contacts still share presence")
            #expect(!Self.sawOffline(alice)(carolClient.events), "contacts still share presence")
        }
    }

    /// A group that grew past the limit told its members each other were offline; shrinking back said nothing, so
    /// they went on showing online members offline until someone reconnected.
    @Test func aGroupShrinkingBackToTheLimitIntroducesItsMembersAgain() async throws {
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 3
        try await LiveServer.run(configuration: configuration) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let carol = try await live.signUp("carol")
            let dave = try await live.signUp("dave")
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            let carolClient = try await live.connect(carol.accessToken)
            @Sendable func shown(_ user: UserID) -> @Sendable ([ClientEvent]) -> Bool? {
                { events in
                    events.compactMap { event -> Bool? in
                        if case .presence(let update) = event, update.userID == user { update.isOnline } else { nil }
                    }.last
                }
            }
            let group = try await aliceClient.client.createGroup("Hovering", members: [bob.user.id, carol.user.id])
            try await bobClient.waitFor("alice online") { shown(alice.user.id)($0) == true }
            _ = try await aliceClient.client.addMembers([dave.user.id], to: group.id)
            try await bobClient.waitFor("alice withdrawn") { shown(alice.user.id)($0) == false }
            try await carolClient.waitFor("bob withdrawn") { shown(bob.user.id)($0) == false }

            try await aliceClient.client.removeMember(dave.user.id, from: group.id)
            try await bobClient.waitFor("alice introduced again") { shown(alice.user.id)($0) == true }
            try await carolClient.waitFor("bob introduced again") { shown(bob.user.id)($0) == true }
            try await aliceClient.waitFor("carol introduced again") { shown(carol.user.id)($0) == true }
        }
    }

    @Test func anAcceptedContactIntroducesBothWays() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            _ = try await aliceClient.client.requestContact(bob)
            _ = try await bobClient.client.acceptContact(alice)
            try await aliceClient.waitFor("bob online", Self.sawOnline(bob))
            try await bobClient.waitFor("alice online", Self.sawOnline(alice))
        }
    }

    @Test func channelsIntroduceNobody() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let channel = try await aliceClient.client.createChannel("Public", members: [bob])
            // A message after the channel's creation proves its events were routed before we look.
            _ = try await aliceClient.client.send("hello", to: channel.id)
            try await bobClient.waitForMessages(1, in: channel.id)
            #expect(!Self.sawOnline(bob)(aliceClient.events))
        }
    }
}
