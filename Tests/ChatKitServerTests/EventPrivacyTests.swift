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
import Testing

@Suite("What events reveal to their receivers")
struct EventPrivacyTests {
    /// A profile change goes to the user's contacts; none of them may learn who else received it (the event's
    /// audience is the user's contact list).
    @Test func profileAndContactEventsReachClientsWithoutTheirAudience() async throws {
        try await ServerHarness.run { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            for other in [bob, carol] {
                _ = try await harness.store.requestContact(from: alice, to: other)
                _ = try await harness.store.acceptContact(other, from: alice)
            }
            let start = try await harness.store.latestPosition()
            let aliceClient = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            _ = try await aliceClient.client.updateProfile(ProfileUpdate(displayName: "Alice A."))
            try await bobClient.waitFor("alice's profile") { events in
                events.contains { if case .stored(let event) = $0 { event.kind == .profileUpdated } else { false } }
            }
            let live = bobClient.storedEvents.filter { $0.kind == .profileUpdated }
            #expect(live.count == 1)
            #expect(live.allSatisfy { $0.audience == nil }, "the live event lists its receivers")

            // Catch-up and sync pages carry no audience either.
            let page = try await bobClient.client.sync(after: .start)
            #expect(page.events.contains { $0.kind == .contactChanged })
            #expect(page.events.allSatisfy { $0.audience == nil }, "a sync page lists receivers")
            let caughtUp = try await harness.connect("bob", cursor: start)
            try await caughtUp.waitFor("alice's profile in catch-up") { events in
                events.contains { if case .stored(let event) = $0 { event.kind == .profileUpdated } else { false } }
            }
            #expect(caughtUp.storedEvents.allSatisfy { $0.audience == nil }, "catch-up lists receivers")
            await aliceClient.disconnect()
            await bobClient.disconnect()
            await caughtUp.disconnect()
        }
    }
}
