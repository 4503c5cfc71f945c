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

/// An add read every member of the conversation (a channel of 10,000) before the store's role check, so a plain
/// member or a channel's non-member could make the server read the whole list at every request. Only groups small
/// enough to share presence, and conversations an add would fill, are read now.
@Suite("Adding reads no member list where no presence changes")
struct AddMemberReadsTests {
    @Test func addingToAChannelReadsNoMemberList() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let carol = try await live.signUp("carol")
            let dave = try await live.signUp("dave")
            let channel = try await inMemory.createConversation(.channel("News", createdBy: alice.user.id))
            _ = try await inMemory.joinChannel(channel.id, user: bob.user.id)
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            let carolClient = try await live.connect(carol.accessToken)
            store.failsMemberReads.store(true, ordering: .relaxed)
            // A plain member and a non-member are refused by the store, as before, not by a failing read.
            for (client, code) in [(bobClient, ChatError.Code.forbidden), (carolClient, .notFound)] {
                let refused = try await #require(throws: ChatError.self) {
                    try await client.client.addMembers([dave.user.id], to: channel.id)
                }
                #expect(refused.code == code)
            }
            _ = try await aliceClient.client.addMembers([dave.user.id], to: channel.id)
            store.failsMemberReads.store(false, ordering: .relaxed)
            #expect(Set(try await inMemory.memberIDs(of: channel.id)) == [alice.user.id, bob.user.id, dave.user.id])
        }
    }

    @Test func addingToAGroupTooLargeForPresenceReadsNoMemberList() async throws {
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 2
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await LiveServer.run(store: inMemory, configuration: configuration, serverStore: store) { live in
            let alice = try await live.signUp("alice")
            let others = try await MembersPerRequestTests.users(4, in: inMemory)
            let group = try await inMemory.createConversation(
                .group("Three", createdBy: alice.user.id, members: Array(others.prefix(2)))
            )
            let aliceClient = try await live.connect(alice.accessToken)
            store.failsMemberReads.store(true, ordering: .relaxed)
            _ = try await aliceClient.client.addMembers(Array(others.suffix(2)), to: group.id)
            store.failsMemberReads.store(false, ordering: .relaxed)
            #expect(try await inMemory.memberCount(of: group.id) == 5)
        }
    }

    /// A conversation an add would fill: the newcomers are counted one by one (some named may be members), and a
    /// plain member hears that they may not add, an owner that it is full.
    @Test func anAddThatWouldFillTheConversationCountsItsNewcomers() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 4
        let inMemory = InMemoryChatStore()
        try await LiveServer.run(store: inMemory, configuration: configuration) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let others = try await MembersPerRequestTests.users(3, in: inMemory)
            let channel = try await inMemory.createConversation(
                .channel("News", createdBy: alice.user.id, members: [bob.user.id, others[0]])
            )
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            // Three members; naming a member and one newcomer fits.
            _ = try await aliceClient.client.addMembers([bob.user.id, others[1]], to: channel.id)
            #expect(try await inMemory.memberCount(of: channel.id) == 4)
            let full = try await #require(throws: ChatError.self) {
                try await aliceClient.client.addMembers([others[2]], to: channel.id)
            }
            #expect(full.code == .limitExceeded)
            let forbidden = try await #require(throws: ChatError.self) {
                try await bobClient.client.addMembers([others[2]], to: channel.id)
            }
            #expect(forbidden.code == .forbidden)
            // Naming only members of a full conversation adds no one and is no error.
            _ = try await aliceClient.client.addMembers([others[0]], to: channel.id)
            #expect(try await inMemory.memberCount(of: channel.id) == 4)
        }
    }
}
