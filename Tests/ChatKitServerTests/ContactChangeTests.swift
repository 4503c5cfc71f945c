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

/// Contact changes between two users run one at a time, so presence shared by an acceptance is always withdrawn by
/// the removal that follows it.
@Suite("Contact changes")
struct ContactChangeTests {
    /// The in-memory store; once armed, the next contact list read waits for `gate` after reading (a removal reads
    /// whether the contact was accepted before it removes it). Counts the acceptances that reach the store.
    final class HeldContactListStore: ChatStoreDecorator {
        let base: any ChatStore
        let holdsNextList = Atomic<Bool>(false)
        let acceptances = Atomic<Int>(0)
        let gate = TestGate()
        let held = TestGate()

        init(_ base: any ChatStore) { self.base = base }

        func contacts(of user: UserID) async throws -> [Contact] {
            let contacts = try await base.contacts(of: user)
            if holdsNextList.exchange(false, ordering: .relaxed) {
                held.open()
                await gate.waitUntilOpen()
            }
            return contacts
        }

        /// Reads of who shares presence through conversations (the last read of an audience).
        let membershipReads = Atomic<Int>(0)
        /// Once set, the read of who shares presence with `user` that fails, after `reads` more have gone through.
        let failsAfter = Locked<(user: UserID, reads: Int)?>(nil)

        func membersSharingPresence(with user: UserID, maxGroupSize: Int) async throws -> Set<UserID> {
            defer { membershipReads.add(1, ordering: .relaxed) }
            let fails = failsAfter.withLock { armed -> Bool in
                guard let failing = armed, failing.user == user else { return false }
                armed = failing.reads == 0 ? nil : (user, failing.reads - 1)
                return failing.reads == 0
            }
            if fails { throw ChatError(.storageFailure, "The memberships are unavailable.") }
            return try await base.membersSharingPresence(with: user, maxGroupSize: maxGroupSize)
        }

        func acceptContact(_ user: UserID, from requester: UserID) async throws -> Contact {
            acceptances.add(1, ordering: .relaxed)
            return try await base.acceptContact(user, from: requester)
        }
    }

    /// Alice withdraws her request to Bob while Bob accepts it. A removal that read the request as pending, then
    /// removed the contact Bob's acceptance had just made, withdrew nothing: the acceptance had shown each of them
    /// the other online, and they went on seeing it with no relation left.
    @Test func anAcceptanceCannotFallBetweenARemovalsCheckAndItsWrite() async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldContactListStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let (alice, bob) = (aliceTokens.user.id, bobTokens.user.id)
            let aliceClient = try await live.connect(aliceTokens.accessToken)
            let bobClient = try await live.connect(bobTokens.accessToken)
            _ = try await aliceClient.client.requestContact(bob)

            store.holdsNextList.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let removal: Void = aliceClient.client.removeContact(bob)
            // The removal has read the request as pending, and waits.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            async let acceptance = bobClient.client.acceptContact(alice)
            // The acceptance either reached the store (nothing held it) or waits for the removal to finish.
            try await waitUntil("the acceptance to reach the store or wait for the removal") {
                store.acceptances.load(ordering: .relaxed) > 0
                    || live.server.contactChanges.waitingCount(UserPair(alice, bob)) > 0
            }
            store.gate.open()
            try await removal
            let accepted = try? await acceptance

            try await aliceClient.settle()
            try await bobClient.settle()
            let contacts = try await inMemory.contacts(of: alice)
            let sharesPresence = contacts.contains { $0.userID == bob && $0.state == .accepted }
            #expect(accepted == nil, "The acceptance came after the request was withdrawn: there was none to accept")
            #expect(!sharesPresence)
            Self.expectNeitherShownOnline((aliceClient, alice), (bobClient, bob))
        }
    }

    /// Bob opens a session while Alice removes him from her contacts. The session read Bob's audience (Alice in it)
    /// before the removal, and the removal's "offline" came before the session's "online": each went on seeing
    /// the other online. The session now sees that a withdrawal came between, and withdraws what it showed.
    @Test func aSessionWhoseAudienceWasReadBeforeARemovalTakesBackWhatItShowed() async throws {
        try await Self.withBobConnectingWhileAliceRemovesHim { alice, bob in
            // Bob's requests are served once his session has opened (and corrected what it showed): Bob first.
            try await bob.client.settle()
            try await alice.client.settle()
            Self.expectNeitherShownOnline(alice, bob)
        }
    }

    /// The session's correction read its user's audience once; a store failure then dropped it, and both sides went on
    /// showing each other online with no relation left. It is now tried again, as a withdrawal is.
    @Test func aCorrectionWhoseAudienceCannotBeReadIsTriedAgain() async throws {
        // The session's own read of the rest of its audience goes through; its correction's read fails.
        try await Self.withBobConnectingWhileAliceRemovesHim(afterTheRemoval: { store, bob in
            store.failsAfter.withLock { $0 = (bob, 1) }
        }) { alice, bob in
            try await bob.client.waitFor("alice taken back") { Self.lastShown(alice.user, $0) != true }
            try await alice.client.waitFor("bob taken back") { Self.lastShown(bob.user, $0) != true }
        }
    }

    /// Alice and Bob are contacts, Alice connected; Bob's session reads his contacts (Alice among them) and is held
    /// there while Alice removes him, then `afterTheRemoval` runs, and his session goes on to open.
    private static func withBobConnectingWhileAliceRemovesHim(
        afterTheRemoval: @escaping @Sendable (HeldContactListStore, UserID) -> Void = { _, _ in },
        _ body: @escaping @Sendable (
            _ alice: (client: TestClient, user: UserID), _ bob: (client: TestClient, user: UserID)
        ) async throws -> Void
    ) async throws {
        let inMemory = InMemoryChatStore()
        let store = HeldContactListStore(inMemory)
        try await LiveServer.run(store: inMemory, serverStore: store) { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let (alice, bob) = (aliceTokens.user.id, bobTokens.user.id)
            _ = try await inMemory.requestContact(from: alice, to: bob)
            _ = try await inMemory.acceptContact(bob, from: alice)
            let aliceClient = try await live.connect(aliceTokens.accessToken)

            store.holdsNextList.store(true, ordering: .relaxed)
            defer { store.gate.open() }
            async let bobConnecting = live.connect(bobTokens.accessToken)
            // Bob's session has read his contacts (Alice among them), and waits.
            try await withTimeout("the store call held at store.held") { await store.held.wait() }
            try await aliceClient.client.removeContact(bob)
            afterTheRemoval(store, bob)
            store.gate.open()
            let bobClient = try await bobConnecting
            try await body((aliceClient, alice), (bobClient, bob))
        }
    }

    /// Whether `events` last showed `user` online (`nil`: never shown).
    static func lastShown(_ user: UserID, _ events: [ClientEvent]) -> Bool? {
        events.compactMap { event -> Bool? in
            guard case .presence(let update) = event, update.userID == user else { return nil }
            return update.isOnline
        }.last
    }

    /// Expects each of two users' clients to end showing the other offline (or never online): no relation is left.
    static func expectNeitherShownOnline(
        _ one: (client: TestClient, user: UserID), _ other: (client: TestClient, user: UserID)
    ) {
        for (client, shownUser) in [(one.client, other.user), (other.client, one.user)] {
            let shown = client.events.compactMap { event -> Bool? in
                guard case .presence(let update) = event, update.userID == shownUser else { return nil }
                return update.isOnline
            }
            #expect(shown.last != true, "Left showing \(shownUser) online with no relation: \(shown)")
        }
    }
}
