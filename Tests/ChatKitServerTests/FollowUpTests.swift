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
import Synchronization
import Testing

/// What a request does after its write commits (typing ends, presence changes) must neither hold back the routing
/// of what it wrote nor turn a committed write into an error.
@Suite("Follow-ups after a write")
struct FollowUpTests {
    /// The in-memory store; once armed, current member lists (`memberIDs` without a position, as typing and
    /// presence read them) wait for `gate`, and `memberCount` throws.
    final class SlowFollowUpStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsMemberLists = Atomic<Bool>(false)
        let failsCounts = Atomic<Bool>(false)
        let gate = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
            if position == nil, holdsMemberLists.load(ordering: .relaxed) { await gate.waitUntilOpen() }
            return try await base.memberIDs(of: id, at: position)
        }

        func memberCount(of id: ConversationID) async throws -> Int {
            if failsCounts.load(ordering: .relaxed) { throw ChatError(.storageFailure, "The count is unavailable.") }
            return try await base.memberCount(of: id)
        }
    }

    /// A send ended the sender's typing before its message was routed: the typing stop reads the member list,
    /// which waits for a free reader while searches or a backup hold them, and the message waited with it.
    @Test func aSentMessageIsRoutedBeforeTheTypingStopIsBroadcast() async throws {
        let inMemory = InMemoryChatStore()
        let store = SlowFollowUpStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            let chat = try await aliceClient.client.createDirectConversation(with: bob.user.id)
            try await aliceClient.client.setTyping(true, in: chat.id)
            try await bobClient.waitFor("alice typing") { events in
                events.contains { if case .typing(let update) = $0 { update.isTyping } else { false } }
            }
            store.holdsMemberLists.store(true, ordering: .relaxed)
            defer { store.gate.open() }  // also when the wait below fails, so that the server can stop
            let sent = Task { try await aliceClient.client.send("while the list waits", to: chat.id) }
            try await bobClient.waitFor("the message, while the typing stop waits") { events in
                events.contains {
                    if case .stored(let event) = $0 { event.message?.body == "while the list waits" } else { false }
                }
            }
            store.gate.open()
            _ = try await sent.value
            try await bobClient.waitFor("the typing stop, after the list") { events in
                events.contains { if case .typing(let update) = $0 { !update.isTyping } else { false } }
            }
        }
    }

    /// More events than a long poll's outbox holds, arriving while its first page was read, left the outbox
    /// holding (its hold overflowed, so it wakes no one): the poll slept to its deadline with events waiting. It
    /// reads again now.
    @Test func aLongPollWhoseHoldOverflowedReadsAgain() async throws {
        final class HeldReadStore: ChatStoreDecorator {
            let base: any ChatStore
            let isArmed = Atomic<Bool>(false)
            let gate = TestGate()
            let entered = TestGate()

            init(_ base: any ChatStore) { self.base = base }

            /// Once armed, the next read is made, then held until `gate` opens (what it read is kept).
            func events(for user: UserID, after cursor: StreamPosition, limit: Int) async throws -> SyncPage {
                let page = try await base.events(for: user, after: cursor, limit: limit)
                if isArmed.exchange(false, ordering: .relaxed) {
                    entered.open()
                    await gate.waitUntilOpen()
                }
                return page
            }
        }
        let inMemory = InMemoryChatStore()
        let store = HeldReadStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.limits.outboundQueueCapacity = 2
        try await LiveServer.run(store: inMemory, configuration: configuration, serverStore: store) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let sender = try await live.connect(alice.accessToken)
            let chat = try await sender.client.createDirectConversation(with: bob.user.id)
            let cursor = try await inMemory.latestPosition().rawValue
            store.isArmed.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            let poll = Task {
                try await live.http("GET", "/v1/sync?cursor=\(cursor)&wait=55", bearer: bob.accessToken)
            }
            // The poll listens, and has read an empty page.
            try await withTimeout("the store call held at store.entered") { await store.entered.wait() }
            for number in 1...5 { _ = try await sender.client.send("while the poll reads \(number)", to: chat.id) }
            // Routed to Alice's connection, so to the poll's outbox too (one routing pass serves every recipient).
            try await sender.waitForMessages(5, in: chat.id)
            store.gate.open()
            // Well before the poll's 55 s wait ends: the events answer it, not the end of its wait.
            let answer = try await withTimeout("the poll's answer", .seconds(40)) { try await poll.value }
            let page = try #require(try answer.decode(RequestResult.self).page)
            #expect(page.events.compactMap(\.message?.body).first == "while the poll reads 1")
        }
    }

    /// After addMembers committed, its presence follow-up read the conversation and its member count; a failure
    /// there answered the committed add as an error, and nothing nudged the router, so the new member's event
    /// reached no one until some other write. An add reads what it needs before it writes now: a failing count
    /// refuses it with nothing added, and an add that commits is answered and routed.
    @Test func anAdditionIsAnsweredAsWhatItDidAndRoutedWhenItCommits() async throws {
        let inMemory = InMemoryChatStore()
        let store = SlowFollowUpStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let aliceClient = try await live.connect(alice.accessToken)
            let bobClient = try await live.connect(bob.accessToken)
            let group = try await aliceClient.client.createGroup("Team")
            store.failsCounts.store(true, ordering: .relaxed)
            let refused = try await #require(throws: ChatError.self) {
                try await aliceClient.client.addMembers([bob.user.id], to: group.id)
            }
            #expect(refused.code == .storageFailure)
            #expect(try await inMemory.isMember(bob.user.id, of: group.id) == false)
            store.failsCounts.store(false, ordering: .relaxed)
            let added = try await aliceClient.client.addMembers([bob.user.id], to: group.id)
            #expect(added.map(\.userID) == [bob.user.id])
            try await bobClient.waitFor("bob's addition, routed") { events in
                events.contains { if case .stored(let event) = $0 { event.kind == .membersAdded } else { false } }
            }
        }
    }

    /// The in-memory store; once armed, the next current member list is read, then handed over only when `gate`
    /// opens (a read that returns a list older than what commits meanwhile).
    final class StaleMemberListStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsNextList = Atomic<Bool>(false)
        let gate = TestGate()
        let held = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
            let members = try await base.memberIDs(of: id, at: position)
            if position == nil, holdsNextList.exchange(false, ordering: .relaxed) {
                held.open()
                await gate.waitUntilOpen()
            }
            return members
        }
    }

    /// The in-memory store; once armed, the next current member list is read only when `listGate` opens (so that
    /// it sees what commits meanwhile), and the next contacts of `holdsContactsOf` are handed over only when
    /// `contactsGate` opens.
    final class DelayedReadsStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsNextList = Atomic<Bool>(false)
        let listGate = TestGate()
        let listHeld = TestGate()
        let holdsContactsOf = Locked<UserID?>(nil)
        let contactsGate = TestGate()
        let contactsHeld = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
            if position == nil, holdsNextList.exchange(false, ordering: .relaxed) {
                listHeld.open()
                await listGate.waitUntilOpen()
            }
            return try await base.memberIDs(of: id, at: position)
        }

        func contacts(of user: UserID) async throws -> [Contact] {
            let contacts = try await base.contacts(of: user)
            let holds = holdsContactsOf.withLock { held in
                guard held == user else { return false }
                held = nil
                return true
            }
            if holds {
                contactsHeld.open()
                await contactsGate.waitUntilOpen()
            }
            return contacts
        }
    }

    /// A typing refresh that read the members after its typer's removal committed, and took the typing's record
    /// before the removal's `endTyping` did, dropped the stop: the others went on showing the removed user typing.
    @Test func aTypingRefreshThatFindsItsTyperRemovedSendsTheStop() async throws {
        let inMemory = InMemoryChatStore()
        let store = DelayedReadsStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let carolTokens = try await live.signUp("carol")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let carol = try await live.connect(carolTokens.accessToken)
            let group = try await alice.client.createGroup("Three", members: [bobTokens.user.id, carolTokens.user.id])
            @Sendable func bobsTyping(_ events: [ClientEvent]) -> [Bool] {
                events.compactMap { event -> Bool? in
                    guard case .typing(let update) = event, update.userID == bobTokens.user.id else { return nil }
                    return update.isTyping
                }
            }
            try await bob.client.setTyping(true, in: group.id)
            try await carol.waitFor("bob typing") { bobsTyping($0) == [true] }

            store.holdsNextList.store(true, ordering: .relaxed)
            store.holdsContactsOf.withLock { $0 = bobTokens.user.id }
            defer {
                store.listGate.open()
                store.contactsGate.open()
            }
            let refresh = Task { try await bob.client.setTyping(true, in: group.id) }
            // The refresh replaced the shown start and waits to read the members.
            try await withTimeout("the store call held at store.listHeld") { await store.listHeld.wait() }
            let removal = Task { try await alice.client.removeMember(bobTokens.user.id, from: group.id) }
            // The removal committed and waits before its `endTyping`.
            try await withTimeout("the store call held at store.contactsHeld") { await store.contactsHeld.wait() }
            store.listGate.open()
            await #expect(throws: ChatError.self) { try await refresh.value }
            store.contactsGate.open()
            try await removal.value

            try await carol.settle()
            let seen = bobsTyping(carol.events)
            #expect(seen.last == false, "Carol is left seeing Bob typing: \(seen)")
        }
    }

    /// A typing start whose member list was read just before the typer was removed went out after the removal's
    /// stop: the others went on showing the removed user typing, with no stop to come.
    @Test func aTypingStartReadBeforeARemovalDoesNotOutliveItsStop() async throws {
        let inMemory = InMemoryChatStore()
        let store = StaleMemberListStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let carolTokens = try await live.signUp("carol")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let carol = try await live.connect(carolTokens.accessToken)
            let group = try await alice.client.createGroup("Three", members: [bobTokens.user.id, carolTokens.user.id])

            store.holdsNextList.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let typing: Void = bob.client.setTyping(true, in: group.id)
            // Bob's start has read the members (Bob among them) and waits.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            try await alice.client.removeMember(bobTokens.user.id, from: group.id)
            store.gate.open()
            // The start reads the members again (a removal committed meanwhile) and finds Bob gone.
            do {
                try await typing
                Issue.record("Bob's typing start was accepted after his removal")
            } catch let error as ChatError {
                #expect(error.code == .notFound)
            }

            try await carol.settle()
            let bobsTyping = carol.events.compactMap { event -> Bool? in
                guard case .typing(let update) = event, update.userID == bobTokens.user.id else { return nil }
                return update.isTyping
            }
            #expect(bobsTyping.last != true, "Carol is left seeing Bob typing: \(bobsTyping)")
        }
    }

    /// A typing start whose member list was read just before another member was removed reached the removed member
    /// (and its stop later too), against "a removed member receives nothing of the conversation afterwards". The
    /// start now reads the members again when a removal committed meanwhile.
    @Test func aTypingStartReadBeforeARemovalDoesNotReachTheRemovedMember() async throws {
        let inMemory = InMemoryChatStore()
        let store = StaleMemberListStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let carolTokens = try await live.signUp("carol")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let carol = try await live.connect(carolTokens.accessToken)
            let group = try await alice.client.createGroup("Three", members: [bobTokens.user.id, carolTokens.user.id])

            store.holdsNextList.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let typing: Void = bob.client.setTyping(true, in: group.id)
            // Bob's start has read the members (Carol among them) and waits.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            try await alice.client.removeMember(carolTokens.user.id, from: group.id)
            store.gate.open()
            try await typing
            // The members still there see it.
            try await alice.waitFor("bob typing") { events in
                events.contains { if case .typing(let update) = $0 { update.isTyping } else { false } }
            }
            try await bob.client.setTyping(false, in: group.id)
            try await alice.waitFor("bob's typing stopped") { events in
                events.contains { if case .typing(let update) = $0 { !update.isTyping } else { false } }
            }

            try await carol.settle()
            let carolsTyping = carol.events.filter { if case .typing = $0 { true } else { false } }
            #expect(carolsTyping.isEmpty, "Carol heard typing after her removal: \(carolsTyping)")
        }
    }

    /// The stop of a typing start shown to a member before their removal went to them afterwards too. The removal
    /// itself now tells them the typing shown to them stopped (added back, they would otherwise never hear a stop:
    /// TypingStopTests); what the typer does after the removal reaches them no more.
    @Test func aRemovedMemberHearsNoStopOfTypingAfterTheRemovalsOwn() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let carolTokens = try await live.signUp("carol")
            let alice = try await live.connect(aliceTokens.accessToken)
            let bob = try await live.connect(bobTokens.accessToken)
            let carol = try await live.connect(carolTokens.accessToken)
            let group = try await alice.client.createGroup("Three", members: [bobTokens.user.id, carolTokens.user.id])
            try await bob.client.setTyping(true, in: group.id)
            try await carol.waitFor("bob typing") { events in
                events.contains { if case .typing(let update) = $0 { update.isTyping } else { false } }
            }
            try await alice.client.removeMember(carolTokens.user.id, from: group.id)
            try await carol.waitFor("the removal's stop") { events in
                events.contains { if case .typing(let update) = $0 { !update.isTyping } else { false } }
            }
            try await bob.client.setTyping(false, in: group.id)
            try await alice.waitFor("bob's typing stopped") { events in
                events.contains { if case .typing(let update) = $0 { !update.isTyping } else { false } }
            }
            try await carol.settle()
            let stops = carol.events.filter { if case .typing(let update) = $0 { !update.isTyping } else { false } }
            #expect(stops.count == 1, "Carol heard Bob's typing stop after her removal: \(stops)")
        }
    }
}
