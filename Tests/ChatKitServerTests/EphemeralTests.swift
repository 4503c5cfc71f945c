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
import Foundation
import Testing

@Suite("Presence, typing and rate limits through ChatServer")
struct EphemeralTests {
    private static func presence(of user: UserID, online: Bool) -> @Sendable ([ClientEvent]) -> Bool {
        { events in
            events.contains { if case .presence(let update) = $0 { update.userID == user && update.isOnline == online } else { false } }
        }
    }

    private static func presenceCount(_ events: [ClientEvent], of user: UserID, online: Bool) -> Int {
        events.count { if case .presence(let update) = $0 { update.userID == user && update.isOnline == online } else { false } }
    }

    @Test func presenceGoesOfflineOnlyAfterTheGracePeriod() async throws {
        var configuration = ChatServerConfiguration()
        // Not the hello deadline's 10 s: each offline timer must be the only one at its time.
        configuration.presenceGracePeriod = .seconds(30)
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            _ = try await harness.user("stranger")
            _ = try await harness.store.requestContact(from: alice, to: bob)
            _ = try await harness.store.acceptContact(bob, from: alice)
            let bobClient = try await harness.connect("bob")
            let stranger = try await harness.connect("stranger")

            var aliceClient = try await harness.connect("alice")
            try await bobClient.waitFor("alice online", Self.presence(of: alice, online: true))
            // Alice sees Bob as online when her session opens.
            try await aliceClient.waitFor("bob online", Self.presence(of: bob, online: true))

            // Each disconnect schedules the offline timer once the server has seen it: wait for that, or the clock
            // could move on before the timer is set (it would then be set from the later time).
            let (timers, serverClock) = (harness.server.timers, harness.server.clock)
            var offlineAt = serverClock.now + .seconds(30)
            await aliceClient.disconnect()
            try await waitUntil("the offline timer") { timers.hasTimer(at: offlineAt) }
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(15))  // past the hello deadlines
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(14))
            #expect(harness.clock.sleeperCount == 1, "the offline timer fired before the grace period ended")
            #expect(Self.presenceCount(bobClient.events, of: alice, online: false) == 0)

            // Reconnecting within the grace period shows no flicker.
            aliceClient = try await harness.connect("alice")
            harness.clock.advance(by: .seconds(5))
            offlineAt = serverClock.now + .seconds(30)
            await aliceClient.disconnect()
            try await waitUntil("the second offline timer") { timers.hasTimer(at: offlineAt) }
            // The disconnect was seen (the timer is set): the time Alice was last seen is before now.
            let seenBefore = Date()
            await harness.clock.waitForSleepers(1)
            harness.clock.advance(by: .seconds(30))
            try await bobClient.waitFor("alice offline", Self.presence(of: alice, online: false))
            #expect(Self.presenceCount(bobClient.events, of: alice, online: true) == 1)
            #expect(Self.presenceCount(bobClient.events, of: alice, online: false) == 1)
            let offline = bobClient.events.compactMap { if case .presence(let update) = $0, !update.isOnline { update } else { nil } }
            let lastSeenAt = try #require(offline.first?.lastSeenAt)
            // Within the wire's rounding to the millisecond.
            #expect(
                lastSeenAt.timeIntervalSince(seenBefore) <= 0.0005,
                "last seen when the connection closed, not when the grace period ended"
            )
            // Presence goes to contacts and co-members only.
            #expect(!stranger.events.contains { if case .presence = $0 { true } else { false } })
        }
    }

    /// A session opens with the presence of everyone online in its audience, however many they are: more than
    /// the outbound queue holds must not close it as a slow consumer.
    @Test func aSessionSeesMoreOnlinePeersThanItsOutboundQueueHolds() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.outboundQueueCapacity = 4
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            var peers: [UserID] = []
            var peerClients: [TestClient] = []
            for index in 0..<6 {
                let peer = try await harness.user("peer\(index)")
                _ = try await harness.store.requestContact(from: alice, to: peer)
                _ = try await harness.store.acceptContact(peer, from: alice)
                peers.append(peer)
                peerClients.append(try await harness.connect("peer\(index)"))
            }
            let aliceClient = try await harness.connect("alice")
            for peer in peers { try await aliceClient.waitFor("\(peer) online", Self.presence(of: peer, online: true)) }
            // Still open: a request is answered.
            try await aliceClient.client.ping()
            #expect(aliceClient.client.connectionState == .connected)
            _ = peerClients
        }
    }

    @Test func typingReachesOtherMembersAndExpires() async throws {
        var configuration = ChatServerConfiguration()
        configuration.typingTimeout = .seconds(5)
        configuration.typingRefreshInterval = .seconds(1)
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let chat = try await aliceClient.client.createDirectConversation(with: bob)
            func typing(_ isTyping: Bool) -> @Sendable ([ClientEvent]) -> Bool {
                { events in
                    events.contains {
                        if case .typing(let update) = $0 { update.userID == alice && update.isTyping == isTyping } else { false }
                    }
                }
            }

            // The connections' hello deadlines (10 s, not reached here) are timers too.
            let timersBefore = harness.server.timers.pendingCount
            try await aliceClient.client.setTyping(true, in: chat.id)
            try await aliceClient.client.setTyping(true, in: chat.id)  // a refresh within the interval
            try await bobClient.waitFor("typing started", typing(true))
            // Both requests scheduled their expiry (one timer loop sleeps for both).
            try await waitUntil("both typing timers") { harness.server.timers.pendingCount == timersBefore + 2 }
            harness.clock.advance(by: .seconds(5))
            try await bobClient.waitFor("typing expired", typing(false))
            let started = bobClient.events.count { if case .typing(let update) = $0 { update.isTyping } else { false } }
            #expect(started == 1, "a refresh within the interval was broadcast again")
            // The typer's own devices do not get their own typing.
            #expect(!aliceClient.events.contains { if case .typing = $0 { true } else { false } })
        }
    }

    @Test func togglingTypingOffAndOnIsBroadcastAtMostOncePerRefreshInterval() async throws {
        // A stop forgot when the start was broadcast: toggling typing off and on sent a broadcast to every member
        // per request (50 a second per user, into a channel of 10,000).
        var configuration = ChatServerConfiguration()
        configuration.typingRefreshInterval = .seconds(1)
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let chat = try await aliceClient.client.createDirectConversation(with: bob)
            @Sendable func updates(_ events: [ClientEvent]) -> [Bool] {
                events.compactMap { if case .typing(let update) = $0, update.userID == alice { update.isTyping } else { nil } }
            }
            for _ in 0..<20 {
                try await aliceClient.client.setTyping(true, in: chat.id)
                try await aliceClient.client.setTyping(false, in: chat.id)
            }
            // A start after the interval is broadcast again: once Bob has it, he has everything sent before it.
            harness.clock.advance(by: .seconds(1))
            try await aliceClient.client.setTyping(true, in: chat.id)
            try await bobClient.waitFor("typing after the interval") { updates($0).count >= 3 }
            #expect(updates(bobClient.events) == [true, false, true], "\(updates(bobClient.events))")

            // A start held back by the interval is not lost: it is shown when the interval ends, if the user still
            // types (here after a sent message ended the last one).
            _ = try await aliceClient.client.send("done", to: chat.id)
            try await bobClient.waitFor("typing ended by the message") { updates($0).count >= 4 }
            let (timers, serverClock) = (harness.server.timers, harness.server.clock)
            let showAt = serverClock.now + .seconds(1)
            try await aliceClient.client.setTyping(true, in: chat.id)
            #expect(updates(bobClient.events).count == 4, "a start within the interval was broadcast at once")
            try await waitUntil("the held-back start's timer") { timers.hasTimer(at: showAt) }
            harness.clock.advance(by: .seconds(1))
            try await bobClient.waitFor("the held-back start") { updates($0).count >= 5 }
            #expect(updates(bobClient.events) == [true, false, true, false, true], "\(updates(bobClient.events))")
        }
    }

    @Test func typingEndsWhenTheTyperLeavesOrIsRemoved() async throws {
        // A removed member's typing stayed on the others' screens until it expired, and a start held back by the
        // refresh interval was shown after they had left.
        var configuration = ChatServerConfiguration()
        configuration.typingRefreshInterval = .seconds(1)
        try await ServerHarness.run(configuration: configuration) { harness in
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            _ = try await harness.user("alice")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            let group = try await aliceClient.client.createGroup("Team", members: [bob, carol])
            @Sendable func updates(of user: UserID, _ events: [ClientEvent]) -> [Bool] {
                events.compactMap {
                    if case .typing(let update) = $0, update.userID == user { update.isTyping } else { nil }
                }
            }

            // Carol types and is removed: Alice hears her stop at once, not when it would expire.
            try await carolClient.client.setTyping(true, in: group.id)
            try await aliceClient.waitFor("carol typing") { updates(of: carol, $0) == [true] }
            try await aliceClient.client.removeMember(carol, from: group.id)
            try await aliceClient.waitFor("carol's typing ended by her removal") {
                updates(of: carol, $0) == [true, false]
            }

            // Bob types, stops, and types again within the interval (held back), then leaves: the held-back
            // start is never shown.
            try await bobClient.client.setTyping(true, in: group.id)
            try await bobClient.client.setTyping(false, in: group.id)
            try await bobClient.client.setTyping(true, in: group.id)
            try await aliceClient.waitFor("bob's first start and stop") { updates(of: bob, $0) == [true, false] }
            try await bobClient.client.leave(group.id)
            let key = TypingTracker.Key(conversation: group.id, user: bob)
            #expect(!harness.server.typing.show(key, now: harness.server.clock.now), "the held-back start survived")
            // Nor does a start broadcast for someone who is no longer a member reach anyone.
            await harness.server.showHeldBackStart(TypingUpdate(conversationID: group.id, userID: bob, isTyping: true))
            _ = try await aliceClient.client.send("after bob left", to: group.id)
            try await aliceClient.waitFor("her own message") { events in
                events.contains {
                    if case .stored(let event) = $0 { event.message?.body == "after bob left" } else { false }
                }
            }
            #expect(updates(of: bob, aliceClient.events) == [true, false], "\(updates(of: bob, aliceClient.events))")
        }
    }

    /// A typer who disconnected went on showing as typing until the start expired (5 s), and a start held back by
    /// the refresh interval was first shown after they had gone. Their last connection's close ends it.
    @Test func typingEndsWhenTheTypersLastConnectionCloses() async throws {
        var configuration = ChatServerConfiguration()
        configuration.typingRefreshInterval = .seconds(1)
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            var aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let chat = try await aliceClient.client.createDirectConversation(with: bob)
            @Sendable func updates(_ events: [ClientEvent]) -> [Bool] {
                events.compactMap {
                    if case .typing(let update) = $0, update.userID == alice { update.isTyping } else { nil }
                }
            }
            try await aliceClient.client.setTyping(true, in: chat.id)
            try await bobClient.waitFor("alice typing") { updates($0) == [true] }
            await aliceClient.disconnect()
            // The clock stands still: the stop comes from the disconnect, not from the expiry.
            try await bobClient.waitFor("alice's typing ended by her disconnect") { updates($0) == [true, false] }

            // Typing again within the refresh interval is held back; gone before it is shown, it never is.
            aliceClient = try await harness.connect("alice")
            try await aliceClient.client.setTyping(true, in: chat.id)
            let key = TypingTracker.Key(conversation: chat.id, user: alice)
            #expect(harness.server.typing.conversations(typedInBy: alice) == [chat.id])
            await aliceClient.disconnect()
            try await waitUntil("alice's held-back typing to end") {
                harness.server.typing.conversations(typedInBy: alice).isEmpty
            }
            #expect(!harness.server.typing.show(key, now: harness.server.clock.now), "the held-back start survived")
            #expect(updates(bobClient.events) == [true, false])
        }
    }

    /// A typing start is recorded (with an expiry timer) before its conversation's members are read, and a stopped
    /// one is remembered a while: made-up conversation IDs of 250 KiB each pinned hundreds of MiB.
    @Test func typingInAConversationWithAnOverlongIDIsRefusedBeforeAnythingIsKept() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let client = try await live.connect(alice.accessToken)
            let madeUp = ConversationID(rawValue: String(repeating: "c", count: 4096))
            let refusal = try await #require(throws: ChatError.self) {
                try await client.client.setTyping(true, in: madeUp)
            }
            #expect(refusal.code == .notFound)
            #expect(live.server.typing.keyCount == 0)
            // An ID of a usual length that names nothing is refused too, before anything is kept.
            await #expect(throws: ChatError.self) {
                try await client.client.setTyping(true, in: ConversationID(rawValue: "c-no-such-conversation"))
            }
        }
    }

    @Test func sendingAMessageEndsTyping() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let chat = try await aliceClient.client.createDirectConversation(with: bob)
            try await aliceClient.client.setTyping(true, in: chat.id)
            _ = try await aliceClient.client.send("done typing", to: chat.id)
            try await bobClient.waitFor("typing stopped") { events in
                events.contains { if case .typing(let update) = $0 { update.userID == alice && !update.isTyping } else { false } }
            }
        }
    }

    @Test func requestsOverTheRateLimitGetARetryAfterHint() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 5
        try await ServerHarness.run(configuration: configuration) { harness in
            _ = try await harness.user("alice")
            let alice = try await harness.connect("alice")
            // The burst is twice the rate; opening the session took one.
            for _ in 0..<9 { try await alice.client.ping() }
            do {
                try await alice.client.ping()
                Issue.record("the request over the limit was served")
            } catch let error as ChatError {
                #expect(error.code == .limitExceeded)
                #expect(error.retryAfter == .milliseconds(200))
            }
            harness.clock.advance(by: .seconds(1))
            try await alice.client.ping()
        }
    }

    /// Removing a contact, or leaving a small group, ended the shared presence without a word: each went on seeing
    /// the other online for good. Each is told the other is offline. And a contact accepted by asking back (a
    /// crossing request) was never introduced: each now sees the other online at once.
    @Test func presenceIsWithdrawnWhenARelationEndsAndIntroducedWhenARequestCrosses() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")

            _ = try await bobClient.client.requestContact(alice)
            _ = try await aliceClient.client.requestContact(bob)  // crosses bob's request: accepted
            try await aliceClient.waitFor("bob online", Self.presence(of: bob, online: true))
            try await bobClient.waitFor("alice online", Self.presence(of: alice, online: true))

            try await aliceClient.client.removeContact(bob)
            try await aliceClient.waitFor("bob offline", Self.presence(of: bob, online: false))
            try await bobClient.waitFor("alice offline", Self.presence(of: alice, online: false))

            let group = try await carolClient.client.createGroup("Small", members: [alice])
            try await aliceClient.waitFor("carol online", Self.presence(of: carol, online: true))
            try await aliceClient.client.leave(group.id)
            try await aliceClient.waitFor("carol offline", Self.presence(of: carol, online: false))
            try await carolClient.waitFor("alice offline", Self.presence(of: alice, online: false))
        }
    }

    /// Removing a contact withdrew presence whatever the relation was: removing one's own pending request (or
    /// nothing) answered with "offline" exactly when the other user was online, to anyone, at will.
    @Test func removingARequestTellsNothingOfTheOthersPresence() async throws {
        try await ServerHarness.run { harness in
            let bob = try await harness.user("bob")
            _ = try await harness.user("mallory")
            // Bob stays online throughout: the removal must not tell mallory so.
            let bobClient = try await harness.connect("bob")
            defer { withExtendedLifetime(bobClient) {} }
            let malloryClient = try await harness.connect("mallory")

            _ = try await malloryClient.client.requestContact(bob)
            try await malloryClient.client.removeContact(bob)
            // A presence frame of the removal would be queued before the event of a later write: none came.
            let marker = try await malloryClient.client.createGroup("After the removal")
            try await malloryClient.waitFor("the later write's event") { events in
                events.contains { if case .stored(let event) = $0 { event.conversationID == marker.id } else { false } }
            }
            #expect(!malloryClient.events.contains { if case .presence = $0 { true } else { false } })
        }
    }

    /// Introducing the members of a new group to each other sends up to N² presence frames: the creator's request
    /// limit pays for them (a hundred frames a request), so repeating it cannot flood the members.
    @Test func theCreatorOfAGroupPaysForItsPresenceIntroductions() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 2  // a burst of 4; the manual clock refills nothing
        try await ServerHarness.run(configuration: configuration) { harness in
            var members: [UserID] = []
            var clients: [TestClient] = []
            for number in 1...10 {
                members.append(try await harness.user("member\(number)"))
                clients.append(try await harness.connect("member\(number)"))
            }
            _ = try await harness.user("creator")
            let creator = try await harness.connect("creator")  // one token (hello)
            // One token, and 110 presence frames (each of the 11 online members told of the others): 1.1 more.
            _ = try await creator.client.createGroup("Eleven", members: members)
            let limited = await #expect(throws: ChatError.self) { try await creator.client.ping() }
            #expect(limited?.code == .limitExceeded)
            withExtendedLifetime(clients) {}  // the members stay online throughout
        }
    }

}
