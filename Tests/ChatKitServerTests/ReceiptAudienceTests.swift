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
import Testing

/// Who receives a read receipt over the WebSocket edge: every member of a small group, but only the reader's own
/// devices in a channel (where N members reading each message made N² frames).
@Suite("Read receipts' audience over WebSocket")
struct ReceiptAudienceTests {
    @Test func aChannelsReceiptsReachTheReadersDevicesOnlyAndAGroupsReachEveryMember() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let carol = try await live.signUp("carol")
            let alicePhone = try await live.connect(alice.accessToken)
            let bobPhone = try await live.connect(bob.accessToken)
            let bobLaptop = try await live.connect(bob.accessToken)
            let carolPhone = try await live.connect(carol.accessToken)
            let channel = try await alicePhone.client.createChannel("News", members: [bob.user.id, carol.user.id])
            let group = try await alicePhone.client.createGroup("Team", members: [bob.user.id, carol.user.id])
            for conversation in [channel.id, group.id] {
                let sent = try await alicePhone.client.send("hello", to: conversation)
                _ = try await bobPhone.client.markRead(conversation, upTo: sent.seq)
            }
            // A message sent after both receipts: whoever gets it has got every receipt meant for them.
            _ = try await alicePhone.client.send("after the receipts", to: group.id)
            for client in [alicePhone, bobPhone, bobLaptop, carolPhone] {
                try await client.waitForMessages(2, in: group.id)
            }
            func receipts(_ client: TestClient) -> [ConversationID?] {
                client.storedEvents.filter { $0.kind == .markerUpdated }.map(\.conversationID)
            }
            #expect(receipts(bobPhone) == [channel.id, group.id])
            #expect(receipts(bobLaptop) == [channel.id, group.id])
            #expect(receipts(alicePhone) == [group.id])
            #expect(receipts(carolPhone) == [group.id])
            // Alice still reads Bob's marker in the channel when she asks.
            let markers = try await alicePhone.client.markers(of: channel.id)
            #expect(markers.first { $0.userID == bob.user.id }?.readSeq == 1)
        }
    }
}
