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

/// Adds, leaves and removals of one conversation run one at a time with their presence follow-ups, so presence an
/// add introduces is always withdrawn by a leave that follows it.
@Suite("Membership changes and presence")
struct MembershipPresenceTests {
    /// The in-memory store; once armed, the next add of members waits for `gate` after storing them (before the
    /// add introduces the newcomers' presence), or the next creation after storing it.
    final class HeldConversationStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsNextAdd = Atomic<Bool>(false)
        let holdsNextCreation = Atomic<Bool>(false)
        let gate = TestGate()
        let held = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func addMembers(_ users: [UserID], to id: ConversationID, role: MemberRole, by actor: UserID) async throws
            -> [Member]
        {
            let members = try await base.addMembers(users, to: id, role: role, by: actor)
            if holdsNextAdd.exchange(false, ordering: .relaxed) {
                held.open()
                await gate.waitUntilOpen()
            }
            return members
        }

        func createConversation(_ new: NewConversation) async throws -> Conversation {
            let conversation = try await base.createConversation(new)
            if holdsNextCreation.exchange(false, ordering: .relaxed) {
                held.open()
                await gate.waitUntilOpen()
            }
            return conversation
        }
    }

    /// Alice adds Nina to a group while Leo leaves it. The add read the members (Leo among them) and stored Nina;
    /// the leave then withdrew presence between Leo and the members (Nina among them); the add then introduced
    /// Nina and Leo to each other, and each went on seeing the other online with nothing shared.
    @Test func aLeaveCannotFallBetweenAnAddAndItsIntroduction() async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldConversationStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let leoTokens = try await live.signUp("leo")
            let ninaTokens = try await live.signUp("nina")
            let (leo, nina) = (leoTokens.user.id, ninaTokens.user.id)
            let aliceClient = try await live.connect(aliceTokens.accessToken)
            let leoClient = try await live.connect(leoTokens.accessToken)
            let ninaClient = try await live.connect(ninaTokens.accessToken)
            let group = try await aliceClient.client.createGroup("Team", members: [leo])

            store.holdsNextAdd.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let adding = aliceClient.client.addMembers([nina], to: group.id)
            // Nina is stored; the add waits before introducing her.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            let left = Atomic<Bool>(false)
            let leaving = Task {
                try await leoClient.client.leave(group.id)
                left.store(true, ordering: .relaxed)
            }
            // The leave either ran (nothing held it) or waits for the add to finish.
            try await waitUntil("the leave to finish or wait for the add") {
                left.load(ordering: .relaxed) || live.server.membershipChanges.waitingCount(group.id) > 0
            }
            store.gate.open()
            _ = try await adding
            try await leaving.value

            try await aliceClient.settle()
            try await leoClient.settle()
            try await ninaClient.settle()
            ContactChangeTests.expectNeitherShownOnline((leoClient, leo), (ninaClient, nina))
        }
    }

    /// A removal read the conversation's members to withdraw presence, and went ahead when that read failed: the
    /// removed member and the others went on seeing each other online. The removal now fails, and nothing changes.
    @Test func aRemovalWhoseMembersCannotBeReadFailsWithNothingRemoved() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let leoTokens = try await live.signUp("leo")
            let ninaTokens = try await live.signUp("nina")
            let (leo, nina) = (leoTokens.user.id, ninaTokens.user.id)
            let aliceClient = try await live.connect(aliceTokens.accessToken)
            let leoClient = try await live.connect(leoTokens.accessToken)
            let ninaClient = try await live.connect(ninaTokens.accessToken)
            let group = try await aliceClient.client.createGroup("Team", members: [leo, nina])
            try await ninaClient.waitFor("leo online", Self.online(leo, true))

            store.failsMemberReads.store(true, ordering: .relaxed)
            #expect(await code { try await aliceClient.client.removeMember(leo, from: group.id) } == .storageFailure)
            store.failsMemberReads.store(false, ordering: .relaxed)
            #expect(try await inMemory.memberIDs(of: group.id).contains(leo), "removed although the request failed")
            try await aliceClient.client.removeMember(leo, from: group.id)
            try await ninaClient.waitFor("leo offline", Self.online(leo, false))
            try await leoClient.waitFor("nina offline", Self.online(nina, false))
        }
    }

    /// An add read the group's size after storing its newcomers, to tell whether it grew past
    /// presenceMaxGroupSize; when that read failed, the members went on seeing each other's presence for good. The
    /// size is read before the add now: when that read fails, nothing is added.
    @Test func aGroupGrownPastThePresenceLimitWithdrawsWithoutReadingItsSizeAfterTheAdd() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingMembersStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.presenceMaxGroupSize = 3
        try await LiveServer.run(store: inMemory, configuration: configuration, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let leoTokens = try await live.signUp("leo")
            let ninaTokens = try await live.signUp("nina")
            let dave = try await live.signUp("dave").user.id
            let (leo, nina) = (leoTokens.user.id, ninaTokens.user.id)
            let aliceClient = try await live.connect(aliceTokens.accessToken)
            let leoClient = try await live.connect(leoTokens.accessToken)
            defer { withExtendedLifetime(leoClient) {} }
            let ninaClient = try await live.connect(ninaTokens.accessToken)
            let group = try await aliceClient.client.createGroup("Team", members: [leo, nina])
            try await ninaClient.waitFor("leo online", Self.online(leo, true))

            store.failsMemberCounts.store(true, ordering: .relaxed)
            let failed = try await #require(throws: ChatError.self) {
                try await aliceClient.client.addMembers([dave], to: group.id)
            }
            #expect(failed.code == .storageFailure)
            #expect(try await inMemory.isMember(dave, of: group.id) == false)
            store.failsMemberCounts.store(false, ordering: .relaxed)
            _ = try await aliceClient.client.addMembers([dave], to: group.id)
            try await ninaClient.waitFor("leo offline", Self.online(leo, false))
        }
    }

    private static func online(_ user: UserID, _ isOnline: Bool) -> @Sendable ([ClientEvent]) -> Bool {
        { events in
            events.contains { event in
                guard case .presence(let update) = event else { return false }
                return update.userID == user && update.isOnline == isOnline
            }
        }
    }

    /// Leo leaves a group right after Alice created it with him, before her request introduced its members to
    /// each other: the introduction showed Leo and Alice each other online after his leave had withdrawn nothing.
    @Test func aLeaveBeforeTheCreationsIntroductionIsNotUndone() async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldConversationStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let leoTokens = try await live.signUp("leo")
            let (alice, leo) = (aliceTokens.user.id, leoTokens.user.id)
            let aliceClient = try await live.connect(aliceTokens.accessToken)
            let leoClient = try await live.connect(leoTokens.accessToken)

            store.holdsNextCreation.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let creating = aliceClient.client.createGroup("Team", members: [leo])
            // The group is stored; its creation has not introduced its members yet.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            let group = try #require(try await inMemory.memberships(of: leo).first?.conversationID)
            try await leoClient.client.leave(group)
            store.gate.open()
            _ = try await creating

            try await aliceClient.settle()
            try await leoClient.settle()
            ContactChangeTests.expectNeitherShownOnline((aliceClient, alice), (leoClient, leo))
        }
    }
}
