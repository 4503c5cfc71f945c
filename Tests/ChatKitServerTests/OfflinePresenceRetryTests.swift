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

/// A user's "offline" reaches their audience even when the store fails to read the audience at first.
@Suite("Offline presence after store failures")
struct OfflinePresenceRetryTests {
    /// The in-memory store; while `failures` is above zero, each contact list read fails and takes one off.
    final class FailingContactsStore: ChatStoreDecorator {
        let base: any ChatStore
        let failures = Atomic<Int>(0)
        let failedReads = Atomic<Int>(0)

        init(_ base: any ChatStore) { self.base = base }

        func contacts(of user: UserID) async throws -> [Contact] {
            if failures.load(ordering: .relaxed) > 0 {
                failures.subtract(1, ordering: .relaxed)
                failedReads.add(1, ordering: .relaxed)
                throw ChatError(.storageFailure, "The contact list is unavailable.")
            }
            return try await base.contacts(of: user)
        }
    }

    /// The in-memory store; while `failures` is above zero, each read of the members sharing presence with a user
    /// fails and takes one off.
    final class FailingAudienceStore: ChatStoreDecorator {
        let base: any ChatStore
        let failures = Atomic<Int>(0)

        init(_ base: any ChatStore) { self.base = base }

        func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
            if failures.load(ordering: .relaxed) > 0 {
                failures.subtract(1, ordering: .relaxed)
                throw ChatError(.storageFailure, "The memberships are unavailable.")
            }
            return try await base.membersSharingPresence(with: user, maxGroupSize: maxGroupSize)
        }
    }

    /// A session that failed to read its audience (the store failed once) left its user counted online, with nobody
    /// told: a reconnect within the grace period found them online already and told nobody either, so their
    /// contacts showed them offline for the whole session. The reconnect now tells them.
    @Test func aSessionThatFailedBeforeAnnouncingLeavesTheAnnouncementToTheNext() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingContactsStore(inMemory)
        var configuration = ChatServerConfiguration()
        configuration.presenceGracePeriod = .seconds(30)
        try await ServerHarness.run(configuration: configuration, store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            _ = try await inMemory.requestContact(from: alice, to: bob)
            _ = try await inMemory.acceptContact(bob, from: alice)
            let bobClient = try await harness.connect("bob")

            store.failures.store(1, ordering: .relaxed)
            let failing = TestClient(
                ChatClient(transport: harness.transport, token: "token-alice", configuration: .singleSession)
            )
            _ = await failing.runResult()
            #expect(store.failedReads.load(ordering: .relaxed) == 1, "alice's first session read no audience")
            let aliceClient = try await harness.connect("alice")
            defer { withExtendedLifetime(aliceClient) {} }
            try await bobClient.waitFor("alice online") { events in
                events.contains { event in
                    if case .presence(let update) = event { update.userID == alice && update.isOnline } else { false }
                }
            }
        }
    }

    /// Removing a contact read the remover's audience once to tell both sides they no longer see each other; a store
    /// failure then dropped it, and both went on showing the other online for good. It is now tried again.
    @Test func aWithdrawalWhoseAudienceCannotBeReadIsTriedAgain() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingAudienceStore(inMemory)
        try await Self.withContacts(inMemory, store) { server, clock, _, alice, aliceClient, bobClient in
            let bob = try #require(try await inMemory.user(username: "bob")).id
            store.failures.store(1, ordering: .relaxed)
            let retryAt = server.clock.now + ChatServer.offlineRetryDelays[0]
            try await aliceClient.client.removeContact(bob)
            try await waitUntil("the withdrawal's retry") { server.timers.hasTimer(at: retryAt) }
            #expect(!Self.offline(alice)(bobClient.events))
            await clock.waitForSleepers(1)
            clock.advance(by: retryAt - server.clock.now)
            try await bobClient.waitFor("alice offline", Self.offline(alice))
            try await aliceClient.waitFor("bob offline", Self.offline(bob))
        }
    }

    /// A retried withdrawal told only the side that was online at the retry: a remover who went offline before it
    /// had been announced to the audience of then, without the removed contact, who showed them online for good.
    @Test func aRetriedWithdrawalReachesTheOtherSideOfAUserWhoWentOfflineMeanwhile() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingAudienceStore(inMemory)
        try await Self.withContacts(inMemory, store, gracePeriod: .milliseconds(100)) {
            server, clock, _, alice, aliceClient, bobClient in
            let bob = try #require(try await inMemory.user(username: "bob")).id
            store.failures.store(1, ordering: .relaxed)
            let retryAt = server.clock.now + ChatServer.offlineRetryDelays[0]
            try await aliceClient.client.removeContact(bob)
            try await waitUntil("the withdrawal's retry") { server.timers.hasTimer(at: retryAt) }
            // Alice goes offline before the retry: her offline update reads her audience, which lacks Bob.
            let offlineAt = server.clock.now + .milliseconds(100)
            await aliceClient.disconnect()
            try await waitUntil("the offline timer") { server.timers.hasTimer(at: offlineAt) }
            await clock.waitForSleepers(1)
            clock.advance(by: offlineAt - server.clock.now)
            try await waitUntil("alice's offline update") { !server.timers.hasTimer(at: offlineAt) }
            await clock.waitForSleepers(1)
            clock.advance(by: retryAt - server.clock.now)
            try await bobClient.waitFor("alice offline", Self.offline(alice))
        }
    }

    /// The in-memory store; once armed with a user, the next read of who shares presence with them waits for `gate`
    /// (after `held` opens).
    final class HeldAudienceStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsFor = Locked<UserID?>(nil)
        let gate = TestGate()
        let held = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
            let holds = holdsFor.withLock { armed -> Bool in
                guard armed == user else { return false }
                armed = nil
                return true
            }
            if holds {
                held.open()
                await gate.waitUntilOpen()
            }
            return try await base.membersSharingPresence(with: user, maxGroupSize: maxGroupSize)
        }
    }

    /// Bob removes Alice as her grace period ends: her "offline" went to her audience read after the removal (no
    /// Bob), and the withdrawal, finding her offline by then, told Bob nothing: he showed her online for good. The
    /// withdrawal now tells both sides, online or not.
    @Test func aContactWhoseGracePeriodEndsDuringARemovalIsShownOffline() async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldAudienceStore(inMemory)
        try await Self.withContacts(inMemory, store, gracePeriod: .milliseconds(100)) {
            server, clock, _, alice, aliceClient, bobClient in
            let bob = try #require(try await inMemory.user(username: "bob")).id
            let offlineAt = server.clock.now + .milliseconds(100)
            await aliceClient.disconnect()
            try await waitUntil("the offline timer") { server.timers.hasTimer(at: offlineAt) }
            // The removal commits, and its withdrawal waits in Bob's audience read.
            store.holdsFor.withLock { $0 = bob }
            let removal = Task { try await bobClient.client.removeContact(alice) }
            defer { removal.cancel() }
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            // Alice's grace period ends meanwhile.
            await clock.waitForSleepers(1)
            clock.advance(by: offlineAt - server.clock.now)
            try await waitUntil("alice offline on the server") { !server.presence.isOnline(alice) }
            store.gate.open()
            try await withTimeout("the removal") { try await removal.value }
            try await bobClient.settle()
            #expect(ContactChangeTests.lastShown(alice, bobClient.events) == false)
        }
    }

    /// Bob leaves a group he shares with Alice while she accepts his contact request: the leave's withdrawal read
    /// Bob's audience before the acceptance (no contact yet), the acceptance introduced them, and the withdrawal then
    /// told both the other was offline: two online contacts shown offline. It reads the audience again now.
    @Test func aWithdrawalDoesNotTakeBackAnIntroductionMadeDuringItsRead() async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldAudienceStore(inMemory)
        try await ServerHarness.run(store: inMemory, serverStore: store) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let group = try await inMemory.createConversation(.group("G", createdBy: carol, members: [alice, bob]))
            _ = try await inMemory.requestContact(from: bob, to: alice)
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            try await bobClient.waitFor("alice online") { ContactChangeTests.lastShown(alice, $0) == true }

            store.holdsFor.withLock { $0 = bob }
            let leaving = Task { try await bobClient.client.leave(group.id) }
            defer { leaving.cancel() }
            // The leave's withdrawal reads Bob's audience: no contact yet.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            _ = try await aliceClient.client.acceptContact(bob)
            store.gate.open()
            try await withTimeout("the leave") { try await leaving.value }
            try await aliceClient.settle()
            try await bobClient.settle()
            #expect(ContactChangeTests.lastShown(alice, bobClient.events) == true)
            #expect(ContactChangeTests.lastShown(bob, aliceClient.events) == true)
        }
    }

    private static func offline(_ user: UserID) -> @Sendable ([ClientEvent]) -> Bool {
        { events in
            events.contains { event in
                if case .presence(let update) = event { update.userID == user && !update.isOnline } else { false }
            }
        }
    }

    /// The offline update read the user's audience once; a store failure at that moment dropped it, and their
    /// contacts went on showing them online for good. It is now tried again, later each time.
    @Test func anOfflineUpdateWhoseAudienceCannotBeReadIsTriedAgain() async throws {
        let inMemory = InMemoryChatStore()
        let store = FailingContactsStore(inMemory)
        try await Self.withContacts(inMemory, store) { server, clock, _, alice, aliceClient, bobClient in
            store.failures.store(2, ordering: .relaxed)
            var due = server.clock.now + .seconds(30)
            await aliceClient.disconnect()
            try await waitUntil("the offline timer") { server.timers.hasTimer(at: due) }
            // The grace period ends, and the audience cannot be read; nor can it a second later.
            for (failed, delay) in [(1, Duration.seconds(1)), (2, .seconds(2))] {
                await clock.waitForSleepers(1)
                clock.advance(by: due - server.clock.now)
                let retryAt = due + delay
                try await waitUntil("failed read \(failed) and the retry after it") {
                    store.failedReads.load(ordering: .relaxed) == failed && server.timers.hasTimer(at: retryAt)
                }
                due = retryAt
            }
            #expect(!bobClient.events.contains { event in
                if case .presence(let update) = event { !update.isOnline } else { false }
            })
            await clock.waitForSleepers(1)
            clock.advance(by: due - server.clock.now)
            try await bobClient.waitFor("alice offline", Self.offline(alice))
            let offline = bobClient.events.compactMap { event -> PresenceUpdate? in
                if case .presence(let update) = event, !update.isOnline { update } else { nil }
            }
            #expect(offline.count == 1)
            #expect(offline.first?.lastSeenAt != nil)
        }
    }

    /// The offline update checked that the user was offline, then read their audience: a user who came back during
    /// the read (a slow store) was announced offline after their session had announced them online.
    @Test func anOfflineUpdateWhoseUserCameBackDuringItsReadIsNotSent() async throws {
        let inMemory = InMemoryChatStore()
        let store = ContactChangeTests.HeldContactListStore(inMemory)
        try await Self.withContacts(inMemory, store) { server, clock, transport, alice, aliceClient, bobClient in
            store.holdsNextList.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            let due = server.clock.now + .seconds(30)
            await aliceClient.disconnect()
            try await waitUntil("the offline timer") { server.timers.hasTimer(at: due) }
            await clock.waitForSleepers(1)
            clock.advance(by: due - server.clock.now)
            // The offline update has read Alice's contacts, and waits.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            let back = try await Self.connect("alice", transport)
            let reads = store.membershipReads.load(ordering: .relaxed)
            store.gate.open()
            // The held update reads the rest of the audience, then decides (no wait in between): after a round trip
            // to the server, Bob has had any "offline" it sent.
            try await waitUntil("the held update to finish its read") {
                store.membershipReads.load(ordering: .relaxed) > reads
            }
            try await bobClient.settle()
            #expect(!bobClient.events.contains { event in
                if case .presence(let update) = event { update.userID == alice && !update.isOnline } else { false }
            }, "Alice was back, yet Bob was told she had gone offline")
            // Alice leaves again, and her next offline update is delivered: Bob must hear "offline" once, from it.
            let next = server.clock.now + .seconds(30)
            await back.disconnect()
            try await waitUntil("the second offline timer") { server.timers.hasTimer(at: next) }
            await clock.waitForSleepers(1)
            clock.advance(by: next - server.clock.now)
            try await bobClient.waitFor("alice offline", Self.offline(alice))
            try await bobClient.settle()
            let shown = bobClient.events.compactMap { event -> Bool? in
                guard case .presence(let update) = event, update.userID == alice else { return nil }
                return update.isOnline
            }
            #expect(shown == [true, true, false], "Alice was back, yet Bob was told she had gone offline: \(shown)")
        }
    }

    /// A server on `store` (a decorator of `inMemory`) with a manual clock and a grace period of 30 s (not the hello
    /// deadline's 10 s: each offline timer must be the only one at its time), where alice and bob are contacts,
    /// both connected, and bob has seen alice online.
    private static func withContacts(
        _ inMemory: InMemoryChatStore,
        _ store: any ChatStore,
        gracePeriod: Duration = .seconds(30),
        _ body: (_ server: ChatServer, _ clock: ManualClock, _ transport: InProcessTransport, _ alice: UserID,
            _ aliceClient: TestClient, _ bobClient: TestClient) async throws -> Void
    ) async throws {
        let transport = InProcessTransport()
        let authenticator = InMemoryAuthenticator()
        let clock = ManualClock()
        var configuration = ChatServerConfiguration()
        configuration.presenceGracePeriod = gracePeriod
        let server = ChatServer(
            store: store, transports: [transport], authenticators: [authenticator], configuration: configuration,
            clock: clock
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            var users: [UserID] = []
            for name in ["alice", "bob"] {
                let user = try await inMemory.createUser(NewUser(username: name), passwordHash: nil).id
                authenticator.register(token: "token-\(name)", for: user)
                users.append(user)
            }
            let (alice, bob) = (users[0], users[1])
            _ = try await inMemory.requestContact(from: alice, to: bob)
            _ = try await inMemory.acceptContact(bob, from: alice)
            let bobClient = try await Self.connect("bob", transport)
            let aliceClient = try await connect("alice", transport)
            try await bobClient.waitFor("alice online") { events in
                events.contains { event in
                    if case .presence(let update) = event { update.userID == alice && update.isOnline } else { false }
                }
            }
            try await body(server, clock, transport, alice, aliceClient, bobClient)
        }
    }

    private static func connect(_ name: String, _ transport: InProcessTransport) async throws -> TestClient {
        let client = TestClient(
            ChatClient(transport: transport, token: "token-\(name)", configuration: .singleSession)
        )
        try await client.client.connected()
        try await client.waitFor("synced") { events in
            events.contains { if case .synced = $0 { true } else { false } }
        }
        return client
    }
}
