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
import ChatKitTesting
import Synchronization
import Testing

@testable import ChatKitServer

/// A typing indicator's stop goes to those its start was shown to, with no read of the store: an expiry whose
/// member read failed was dropped, and the others showed the user typing until they reconnected (ChatClient has
/// no expiry of its own).
@Suite("Typing stops")
struct TypingStopTests {
    @Test func anExpiryReachesThoseShownTheStartWhenTheMembersCannotBeRead() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.typingTimeout = .seconds(5)
        try await ServerHarness.run(configuration: configuration, store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let chat = try await inMemory.createConversation(.direct(between: alice, and: bob))
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            func typing(_ isTyping: Bool) -> @Sendable ([ClientEvent]) -> Bool {
                { events in
                    events.contains { event in
                        guard case .typing(let update) = event else { return false }
                        return update.userID == alice && update.isTyping == isTyping
                    }
                }
            }

            let server = harness.server
            let timersBefore = server.timers.pendingCount
            try await aliceClient.client.setTyping(true, in: chat.id)
            try await bobClient.waitFor("typing started", typing(true))
            try await waitUntil("the typing's expiry timer") { server.timers.pendingCount == timersBefore + 1 }
            store.failsMemberReads.store(true, ordering: .relaxed)
            harness.clock.advance(by: .seconds(5))
            try await bobClient.waitFor("typing expired", typing(false))
        }
    }

    /// A member removed while someone typed was dropped from the typing's audience without a stop: added back before
    /// the typing stopped, they never heard the stop and showed "typing" for good. The removal now tells them.
    @Test func aMemberRemovedWhileSomeoneTypesIsToldTheTypingStopped() async throws {
        let inMemory = InMemoryChatStore()
        try await ServerHarness.run(store: inMemory) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let group = try await inMemory.createConversation(.group("G", createdBy: alice, members: [bob, carol]))
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            func bobTyping(_ isTyping: Bool) -> @Sendable ([ClientEvent]) -> Bool {
                { events in
                    events.contains { event in
                        guard case .typing(let update) = event else { return false }
                        return update.userID == bob && update.isTyping == isTyping
                    }
                }
            }
            try await bobClient.client.setTyping(true, in: group.id)
            try await carolClient.waitFor("bob typing", bobTyping(true))
            try await aliceClient.client.removeMember(carol, from: group.id)
            try await carolClient.waitFor("bob's typing stopped", bobTyping(false))
        }
    }

    /// Typing in a channel is shown to no one, yet each start and stop read the channel's whole member list (up to
    /// `maxMembers` IDs) to check the typer's membership: 50 requests a second in a channel of 10,000 made the server
    /// read half a million IDs a second. One look-up answers it now (the member reads fail here, and it succeeds).
    @Test func typingInAChannelReadsNoMemberList() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await ServerHarness.run(store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            _ = try await harness.user("bob")
            let channel = try await inMemory.createConversation(.channel("News", createdBy: alice))
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            store.failsMemberReads.store(true, ordering: .relaxed)
            try await aliceClient.client.setTyping(true, in: channel.id)
            try await aliceClient.client.setTyping(false, in: channel.id)
            // A non-member is still refused.
            let refusal = try await #require(throws: ChatError.self) {
                try await bobClient.client.setTyping(true, in: channel.id)
            }
            #expect(refusal.code == .notFound)
        }
    }
}
