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

import ChatKitCore

extension ChatStoreConformance {
    static var contactCases: [Case] {
        [
            Case("contacts", "an accepted contact request shows as accepted on both lists") { store in
                let ids = try await StoreFixture(store).users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                let request = try await store.requestContact(from: alice, to: bob)
                try checkEqual(request.userID, bob, "other user of the returned request")
                try checkEqual(request.state, .outgoing, "state returned by requestContact")
                try await checkContactStates(store, alice, [bob: .outgoing], "alice's list after her request")
                try await checkContactStates(store, bob, [alice: .incoming], "bob's list after alice's request")

                let accepted = try await store.acceptContact(bob, from: alice)
                try checkEqual(accepted.userID, alice, "other user of the accepted contact")
                try checkEqual(accepted.state, .accepted, "state returned by acceptContact")
                try await checkContactStates(store, alice, [bob: .accepted], "alice's list after bob accepted")
                try await checkContactStates(store, bob, [alice: .accepted], "bob's list after he accepted")
            },

            Case("contacts", "asking back accepts the pending request") { store in
                let ids = try await StoreFixture(store).users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                _ = try await store.requestContact(from: alice, to: bob)
                let back = try await store.requestContact(from: bob, to: alice)
                try checkEqual(back.state, .accepted, "state returned when asking back")
                try await checkContactStates(store, alice, [bob: .accepted], "alice's list after bob asked back")
                try await checkContactStates(store, bob, [alice: .accepted], "bob's list after he asked back")
            },

            Case("contacts", "a repeated contact request changes nothing") { store in
                let ids = try await StoreFixture(store).users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                let first = try await store.requestContact(from: alice, to: bob)
                try await checkNoEvent(store, "a second request while one is pending") {
                    let again = try await store.requestContact(from: alice, to: bob)
                    try checkEqual(again.state, .outgoing, "state returned by a repeated request")
                    try checkEqual(again.since, first.since, "since of the pending request after asking again")
                }
                try await checkContactStates(store, bob, [alice: .incoming], "bob's list after a repeated request")

                let accepted = try await store.acceptContact(bob, from: alice)
                try await checkNoEvent(store, "requests and acceptances between accepted contacts") {
                    try checkEqual(try await store.requestContact(from: alice, to: bob).state, .accepted, "alice asks")
                    try checkEqual(try await store.requestContact(from: bob, to: alice).state, .accepted, "bob asks")
                    try checkEqual(try await store.acceptContact(bob, from: alice), accepted, "accepting again")
                }
                try await checkContactStates(store, alice, [bob: .accepted], "alice's list after the repeats")
            },

            Case("contacts", "declining or removing a relation clears it from both lists") { store in
                let ids = try await StoreFixture(store).users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                _ = try await store.requestContact(from: alice, to: bob)
                try await store.declineContact(bob, from: alice)
                try await checkContactStates(store, alice, [:], "alice's list after bob declined")
                try await checkContactStates(store, bob, [:], "bob's list after he declined")
                try await checkThrows(.notFound, "declining a request already declined") {
                    try await store.declineContact(bob, from: alice)
                }

                _ = try await store.requestContact(from: alice, to: bob)
                try await store.removeContact(alice, bob)  // withdraws her request
                try await checkContactStates(store, alice, [:], "alice's list after withdrawing her request")
                try await checkContactStates(store, bob, [:], "bob's list after alice withdrew her request")

                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                try await store.removeContact(bob, alice)
                try await checkContactStates(store, alice, [:], "alice's list after bob removed her")
                try await checkContactStates(store, bob, [:], "bob's list after he removed alice")
                try await checkThrows(.notFound, "removing a relation that does not exist") {
                    try await store.removeContact(alice, bob)
                }
            },

            Case("contacts", "a request to oneself is invalid and one to an unknown user is not found") { store in
                let alice = try await StoreFixture(store).user("alice")
                try await checkThrows(.invalidArgument, "requestContact from alice to herself") {
                    try await store.requestContact(from: alice, to: alice)
                }
                try await checkThrows(.notFound, "requestContact to an unknown user") {
                    try await store.requestContact(from: alice, to: .random())
                }
                try await checkThrows(.notFound, "requestContact from an unknown user") {
                    try await store.requestContact(from: .random(), to: alice)
                }
                try await checkContactStates(store, alice, [:], "alice's list after the refused requests")
            },

            Case("contacts", "accepting or declining a request that was not made is not found") { store in
                let ids = try await StoreFixture(store).users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                try await checkThrows(.notFound, "acceptContact without any request") {
                    try await store.acceptContact(bob, from: alice)
                }
                try await checkThrows(.notFound, "declineContact without any request") {
                    try await store.declineContact(bob, from: alice)
                }
                _ = try await store.requestContact(from: alice, to: bob)
                try await checkThrows(.notFound, "the requester accepting her own request") {
                    try await store.acceptContact(alice, from: bob)
                }
                try await checkThrows(.notFound, "the requester declining her own request") {
                    try await store.declineContact(alice, from: bob)
                }
                try await checkThrows(.notFound, "accepting a request sent to someone else") {
                    try await store.acceptContact(carol, from: alice)
                }
                try await checkContactStates(store, bob, [alice: .incoming], "bob's list after the refused calls")
            },

            Case("contacts", "contact lists are ordered by the other user's ID on both sides") { store in
                let ids = try await StoreFixture(store).users("u0", "u1", "u2", "u3").sorted()
                let hub = ids[3]
                // Ask in descending ID order, so a list kept in insertion order comes out wrong.
                _ = try await store.requestContact(from: hub, to: ids[2])
                _ = try await store.requestContact(from: hub, to: ids[1])
                _ = try await store.requestContact(from: ids[0], to: hub)
                let list = try await store.contacts(of: hub)
                try checkEqual(list.map(\.userID), Array(ids[0...2]), "order of the hub's contact list")
                try checkEqual(list.map(\.state), [.incoming, .outgoing, .outgoing], "states on the hub's list")

                _ = try await store.requestContact(from: ids[2], to: ids[0])
                _ = try await store.requestContact(from: ids[1], to: ids[0])
                let other = try await store.contacts(of: ids[0])
                try checkEqual(other.map(\.userID), Array(ids[1...3]), "order of a list holding incoming requests")
                try checkEqual(other.map(\.state), [.incoming, .incoming, .outgoing], "states on that list")
            },

            Case("contacts", "every contact change is an event for both users and no one else") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                try await store.removeContact(alice, bob)
                _ = try await store.requestContact(from: bob, to: alice)
                try await store.declineContact(alice, from: bob)

                for (viewer, name) in [(alice, "alice"), (bob, "bob")] {
                    let changes = try await fixture.allEvents(for: viewer).filter { $0.kind == .contactChanged }
                    try checkEqual(changes.map(\.actorID), [alice, bob, alice, bob, alice], "actors seen by \(name)")
                    for change in changes {
                        try checkEqual(Set(change.contactPair ?? []), [alice, bob], "contact pair seen by \(name)")
                        try checkEqual(change.conversationID, nil, "conversation of a contactChanged event")
                    }
                }
                let seenByCarol = try await fixture.allEvents(for: carol).filter { $0.kind == .contactChanged }
                try checkEqual(seenByCarol.count, 0, "contactChanged events seen by a third user")
            },

            Case("contacts", "a contactChanged event's contactPair is its actor, then the other user") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                try await store.removeContact(bob, alice)
                _ = try await store.requestContact(from: bob, to: alice)
                try await store.declineContact(alice, from: bob)
                _ = try await store.requestContact(from: alice, to: bob)
                try await store.removeContact(alice, bob)  // withdraws her request
                // Both orders occur, so a pair sorted by ID, or with the requester first, is caught whatever the IDs.
                let expected = [
                    [alice, bob], [bob, alice], [bob, alice], [bob, alice], [alice, bob], [alice, bob], [alice, bob],
                ]
                for (viewer, name) in [(alice, "alice"), (bob, "bob")] {
                    let changes = try await fixture.allEvents(for: viewer).filter { $0.kind == .contactChanged }
                    try checkEqual(changes.map { $0.contactPair ?? [] }, expected, "contact pairs seen by \(name)")
                    try checkEqual(changes.map(\.actorID), expected.map { $0[0] }, "actors seen by \(name)")
                }
                let logged = try await store.allEvents(after: .start, limit: 100).filter { $0.kind == .contactChanged }
                try checkEqual(logged.map { $0.contactPair ?? [] }, expected, "contact pairs in allEvents")
            },

            Case("contacts", "declining a contact already accepted is not found and keeps the contact") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                try await checkNoEvent(store, "declining an accepted contact") {
                    for (user, other) in [(bob, alice), (alice, bob)] {
                        try await checkThrows(.notFound, "declining an accepted contact") {
                            try await store.declineContact(user, from: other)
                        }
                    }
                }
                try checkEqual(try await store.contacts(of: alice).map(\.state), [.accepted], "alice's list after")
                try checkEqual(try await store.contacts(of: bob).map(\.state), [.accepted], "bob's list after")
            },
        ]
    }
}

/// Checks that `user`'s contact list holds exactly `expected` (other user to state).
private func checkContactStates(
    _ store: any ChatStore,
    _ user: UserID,
    _ expected: [UserID: ContactState],
    _ what: String,
    file: String = #fileID,
    line: Int = #line
) async throws {
    let list = try await store.contacts(of: user)
    let states = Dictionary(list.map { ($0.userID, $0.state) }, uniquingKeysWith: { first, _ in first })
    try checkEqual(list.count, states.count, "\(what): entries listed more than once", file: file, line: line)
    try checkEqual(states, expected, what, file: file, line: line)
}

/// Checks that `body` stores no event: the store's latest position does not move. (The message cases use it too.)
func checkNoEvent(
    _ store: any ChatStore,
    _ what: String,
    file: String = #fileID,
    line: Int = #line,
    _ body: () async throws -> Void
) async throws {
    let before = try await store.latestPosition()
    try await body()
    let after = try await store.latestPosition()
    try checkEqual(after, before, "\(what): latest stream position (no event may be stored)", file: file, line: line)
}
