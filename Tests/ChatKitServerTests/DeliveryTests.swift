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
import ChatKitServer
import ChatKitTesting
import Testing

@Suite("Delivery through ChatServer")
struct DeliveryTests {
    @Test func oneToOneChatReachesTheOtherUserAndTheSendersOtherDevice() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let alicePhone = try await harness.connect("alice")
            let aliceLaptop = try await harness.connect("alice")
            let bobPhone = try await harness.connect("bob")
            let chat = try await alicePhone.client.createDirectConversation(with: bob)
            let sent = try await alicePhone.client.send("Hi Bob", to: chat.id)
            #expect(sent.seq == 1)
            #expect(sent.senderID == alice)
            try await bobPhone.waitForMessages(1, in: chat.id)
            try await aliceLaptop.waitForMessages(1, in: chat.id)
            #expect(bobPhone.receivedBodies(in: chat.id) == ["Hi Bob"])
            let reply = try await bobPhone.client.send("Hi Alice", to: chat.id)
            #expect(reply.seq == 2)
            try await alicePhone.waitForMessages(2, in: chat.id)
            #expect(alicePhone.receivedBodies(in: chat.id) == ["Hi Bob", "Hi Alice"])
        }
    }

    @Test func aGroupOf50ReceivesEveryMessageInSeqOrder() async throws {
        try await ServerHarness.run { harness in
            var names: [String] = []
            var ids: [UserID] = []
            for index in 0..<50 {
                names.append("member\(index)")
                ids.append(try await harness.user("member\(index)"))
            }
            var clients: [TestClient] = []
            for name in names { clients.append(try await harness.connect(name)) }
            let group = try await clients[0].client.createGroup("Fifty", members: Array(ids.dropFirst()))
            // Five members send concurrently; everyone must see all 25 messages in seq order, without gaps.
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for sender in clients.prefix(5) {
                    tasks.addTask {
                        for number in 1...5 { _ = try await sender.client.send("m\(number)", to: group.id) }
                    }
                }
                try await tasks.waitForAll()
            }
            for client in clients {
                try await client.waitForMessages(25, in: group.id)
                let seqs = client.storedEvents.filter { $0.kind == .messageCreated }.compactMap(\.message?.seq)
                #expect(seqs == Array(1...25))
            }
        }
    }

    @Test func anOfflineUserCatchesUpFromTheCursorWithoutGapsOrDuplicates() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let alice = try await harness.connect("alice")
            var bobClient = try await harness.connect("bob")
            let chat = try await alice.client.createDirectConversation(with: bob)
            _ = try await alice.client.send("before", to: chat.id)
            try await bobClient.waitForMessages(1, in: chat.id)
            let cursor = try #require(bobClient.client.cursor)
            await bobClient.disconnect()

            for number in 1...30 { _ = try await alice.client.send("while away \(number)", to: chat.id) }

            bobClient = try await harness.connect("bob", cursor: cursor)
            let afterCatchUp = bobClient.receivedBodies(in: chat.id)
            #expect(afterCatchUp == (1...30).map { "while away \($0)" })
            // Live messages follow the catch-up, in order.
            _ = try await alice.client.send("live", to: chat.id)
            try await bobClient.waitForMessages(31, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id).last == "live")
            let seqs = bobClient.storedEvents.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
            #expect(seqs == Array(2...32))
        }
    }

    @Test func liveEventsDuringCatchUpAreNeitherLostNorDuplicated() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 10_000
        configuration.routingBatchSize = 16  // many catch-up pages and routing rounds
        try await ServerHarness.run(configuration: configuration) { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let alice = try await harness.connect("alice")
            let chat = try await alice.client.createDirectConversation(with: bob)
            for number in 1...200 { _ = try await alice.client.send("old \(number)", to: chat.id) }
            // Bob connects from the start while Alice keeps sending.
            async let sending: Void = {
                for number in 1...50 { _ = try await alice.client.send("new \(number)", to: chat.id) }
            }()
            let bobClient = TestClient(ChatClient(transport: harness.transport, token: "token-bob", cursor: .start))
            try await sending
            try await bobClient.waitForMessages(250, in: chat.id)
            let seqs = bobClient.storedEvents.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
            #expect(seqs == Array(1...250))
        }
    }

    @Test func eventsRoutedLateGoToWhoWereMembersWhenTheyWereStored() async throws {
        // The group exists before the server starts, so the router first meets it at a later event and must ask
        // the store who the members were then, not who they are now.
        let harness = ServerHarness(configuration: ChatServerConfiguration())
        let alice = try await harness.user("alice")
        let bob = try await harness.user("bob")
        let group = try await harness.store.createConversation(.group("Team", createdBy: alice, members: [bob]))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await harness.server.run() }
            defer { tasks.cancelAll() }
            let bobClient = try await harness.connect("bob")
            // Written straight to the store, so the router sees them only when told, after Bob's removal.
            _ = try await harness.store.append(NewMessage(conversationID: group.id, senderID: alice, body: "while bob is in"))
            try await harness.store.removeMember(bob, from: group.id, by: alice)
            _ = try await harness.store.append(NewMessage(conversationID: group.id, senderID: alice, body: "after bob left"))
            harness.server.storeDidChange()
            try await bobClient.waitFor("bob's removal") { events in
                events.contains { if case .stored(let event) = $0 { event.kind == .memberRemoved } else { false } }
            }
            #expect(bobClient.receivedBodies(in: group.id) == ["while bob is in"])
        }
    }

    @Test func aBurstRoutedAtOnceAcrossMembershipChangesReachesExactlyTheMembersOfTheTime() async throws {
        // The router hands a conversation's consecutive events to each connection together; a membership change
        // in the middle of a burst must end that group, so each event goes to who were members when it was stored.
        let harness = ServerHarness(configuration: ChatServerConfiguration())
        let alice = try await harness.user("alice")
        let bob = try await harness.user("bob")
        let carol = try await harness.user("carol")
        let group = try await harness.store.createConversation(.group("Team", createdBy: alice, members: [bob]))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await harness.server.run() }
            defer { tasks.cancelAll() }
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            // Written straight to the store, so the router routes them all in one pass when told.
            func post(_ body: String) async throws {
                _ = try await harness.store.append(NewMessage(conversationID: group.id, senderID: alice, body: body))
            }
            for index in 1...3 { try await post("before \(index)") }
            _ = try await harness.store.addMembers([carol], to: group.id, role: .member, by: alice)
            for index in 1...3 { try await post("with carol \(index)") }
            try await harness.store.removeMember(bob, from: group.id, by: alice)
            try await post("without bob")
            harness.server.storeDidChange()
            try await carolClient.waitForMessages(4, in: group.id)
            try await bobClient.waitFor("bob's removal") { events in
                events.contains { if case .stored(let event) = $0 { event.kind == .memberRemoved } else { false } }
            }
            let withCarol = (1...3).map { "with carol \($0)" }
            #expect(bobClient.receivedBodies(in: group.id) == (1...3).map { "before \($0)" } + withCarol)
            #expect(carolClient.receivedBodies(in: group.id) == withCarol + ["without bob"])
        }
    }

    @Test func aResendAfterALostAckCreatesNoSecondMessage() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let alice = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let chat = try await alice.client.createDirectConversation(with: bob)
            let first = try await alice.client.send("only once", to: chat.id, clientMessageID: "draft-1")
            let again = try await alice.client.send("only once", to: chat.id, clientMessageID: "draft-1")
            #expect(again.id == first.id)
            _ = try await alice.client.send("barrier", to: chat.id)
            try await bobClient.waitForMessages(2, in: chat.id)
            #expect(bobClient.receivedBodies(in: chat.id) == ["only once", "barrier"])
            #expect(try await alice.client.history(of: chat.id).count == 2)
        }
    }

    @Test func aRemovedMemberReceivesNothingAfterTheRemoval() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let alice = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let group = try await alice.client.createGroup("Team", members: [bob, carol])
            let other = try await alice.client.createGroup("Other", members: [bob])
            _ = try await alice.client.send("hello team", to: group.id)
            try await bobClient.waitForMessages(1, in: group.id)
            try await alice.client.removeMember(bob, from: group.id)
            _ = try await alice.client.send("secret plans", to: group.id)
            _ = try await alice.client.send("barrier", to: other.id)
            try await bobClient.waitForMessages(1, in: other.id)
            #expect(bobClient.receivedBodies(in: group.id) == ["hello team"])
            #expect(bobClient.storedEvents.contains { $0.kind == .memberRemoved && $0.conversationID == group.id })
            await #expect(throws: ChatError.self) { _ = try await bobClient.client.history(of: group.id) }
        }
    }
}
