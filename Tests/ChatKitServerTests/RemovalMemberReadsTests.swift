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
import Synchronization
import Testing

/// A leave or a removal read every member of the conversation first, for the presence it might end: a channel of
/// ten thousand was read in full for each leave, and for each refused removal or a non-member's leave. Channels, and
/// groups too large to share presence, are no longer read (the tests make member reads fail to show it).
@Suite("Leaving reads no member list where no presence changes")
struct RemovalMemberReadsTests {
    @Test func leavingAChannelReadsNoMemberList() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await ServerHarness.run(store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            _ = try await harness.user("carol")
            let channel = try await inMemory.createConversation(.channel("News", createdBy: alice))
            _ = try await inMemory.joinChannel(channel.id, user: bob)
            let bobClient = try await harness.connect("bob")
            let carolClient = try await harness.connect("carol")
            store.failsMemberReads.store(true, ordering: .relaxed)
            // A non-member's leave is refused as before, and a plain member may not remove another.
            let notFound = try await #require(throws: ChatError.self) { try await carolClient.client.leave(channel.id) }
            #expect(notFound.code == .notFound)
            let forbidden = try await #require(throws: ChatError.self) {
                try await bobClient.client.removeMember(alice, from: channel.id)
            }
            #expect(forbidden.code == .forbidden)
            try await bobClient.client.leave(channel.id)
            store.failsMemberReads.store(false, ordering: .relaxed)
            #expect(try await inMemory.memberIDs(of: channel.id) == [alice])
        }
    }

    @Test func leavingAGroupTooLargeForPresenceReadsNoMemberList() async throws {
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 2
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await ServerHarness.run(configuration: configuration, store: inMemory, serverStore: store) { harness in
            var users: [UserID] = []
            for name in ["alice", "bob", "carol", "dave"] { users.append(try await harness.user(name)) }
            let group = try await inMemory.createConversation(
                .group("Four", createdBy: users[0], members: Array(users.dropFirst()))
            )
            let bobClient = try await harness.connect("bob")
            store.failsMemberReads.store(true, ordering: .relaxed)
            // Four members, three after the leave: more than presenceMaxGroupSize either way.
            try await bobClient.client.leave(group.id)
            store.failsMemberReads.store(false, ordering: .relaxed)
            #expect(try await inMemory.memberIDs(of: group.id).count == 3)
        }
    }
}
