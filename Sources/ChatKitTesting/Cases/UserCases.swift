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
    static var userCases: [Case] {
        [
            Case("users", "createUser assigns an ID and keeps the profile") { store in
                let user = try await store.createUser(
                    NewUser(username: "alice", displayName: "Alice", statusText: "hi"),
                    passwordHash: "h"
                )
                try check(!user.id.rawValue.isEmpty, "the new user has an empty ID")
                let fetched = try checkNotNil(try await store.user(user.id), "user(id) after createUser")
                try checkEqual(fetched.username, "alice", "username")
                try checkEqual(fetched.displayName, "Alice", "display name")
                try checkEqual(fetched.statusText, "hi", "status text")
                try checkEqual(try await store.user(username: "alice")?.id, user.id, "user(username:)")
                // No name holds U+0000: one that does names no one (SQLite reads text only up to it).
                try checkEqual(try await store.user(username: "alice\u{0}x"), nil, "user(username:) with U+0000")
            },

            Case("users", "usernames are non-empty and unique, compared exactly") { store in
                let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil)
                try await checkThrows(.conflict, "createUser with a taken username") {
                    try await store.createUser(NewUser(username: "alice", displayName: "Other"), passwordHash: nil)
                }
                try await checkThrows(.invalidArgument, "createUser with an empty username") {
                    try await store.createUser(NewUser(username: "", displayName: "Nobody"), passwordHash: "h")
                }
                try checkEqual(try await store.user(username: ""), nil, "user(username: \"\") after the refusal")
                let upper = try await store.createUser(NewUser(username: "Alice"), passwordHash: nil)
                try check(upper.id != alice.id, "'Alice' and 'alice' got the same ID")
                try checkEqual(try await store.user(username: "alice")?.id, alice.id, "user(username: \"alice\")")
                try checkEqual(try await store.user(username: "Alice")?.id, upper.id, "user(username: \"Alice\")")
                try checkEqual(try await store.user(username: "ALICE")?.id, nil, "user(username: \"ALICE\")")
            },

            Case("users", "an empty display name becomes the username") { store in
                let created = try await store.createUser(NewUser(username: "bob", displayName: ""), passwordHash: nil)
                try checkEqual(created.displayName, "bob", "display name returned by createUser")
                try checkEqual(try await store.user(created.id)?.displayName, "bob", "display name read back")
            },

            Case("users", "user lookups skip unknown users") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob")
                try checkEqual(try await store.user(username: "carol"), nil, "user(username:) of an unknown name")
                try checkEqual(try await store.user(UserID.random()), nil, "user(_:) of an unknown ID")
                let found = try await store.users([ids[0], .random(), ids[1], .random()])
                try checkEqual(Set(found.map(\.id)), Set(ids), "users(_:) with two unknown IDs among them")
                try checkEqual(found.count, 2, "number of profiles users(_:) returned")
                try checkEqual(try await store.users([.random()]), [], "users(_:) of an unknown ID only")
            },

            Case("users", "updateProfile changes only the given fields and can clear the status") { store in
                let id = try await store.createUser(
                    NewUser(username: "alice", displayName: "Alice", statusText: "busy"),
                    passwordHash: nil
                ).id
                var profile = try await store.updateProfile(of: id, ProfileUpdate(displayName: "Al"))
                try checkEqual(profile.displayName, "Al", "display name after changing it")
                try checkEqual(profile.statusText, "busy", "status text after changing only the display name")
                profile = try await store.updateProfile(of: id, ProfileUpdate(statusText: "away"))
                try checkEqual(profile.displayName, "Al", "display name after changing only the status")
                try checkEqual(profile.statusText, "away", "status text after changing it")
                profile = try await store.updateProfile(of: id, ProfileUpdate(statusText: "x", clearsStatusText: true))
                try checkEqual(profile.statusText, nil, "status text after clearing it (clearing wins)")
                let stored = try checkNotNil(try await store.user(id), "user(id) after the updates")
                try checkEqual(stored, profile, "stored profile versus the last updateProfile result")
                try checkEqual(stored.username, "alice", "username after profile updates")
            },

            Case("users", "updateProfile refuses an unknown user and an empty display name") { store in
                let id = try await StoreFixture(store).user("alice")
                try await checkThrows(.notFound, "updateProfile of an unknown user") {
                    try await store.updateProfile(of: .random(), ProfileUpdate(displayName: "Ghost"))
                }
                try await checkThrows(.invalidArgument, "updateProfile to an empty display name") {
                    try await store.updateProfile(of: id, ProfileUpdate(displayName: ""))
                }
                try checkEqual(try await store.user(id)?.displayName, "ALICE", "display name after the refusal")
            },

            Case("users", "credentials are kept apart and a new password hash bumps their version") { store in
                let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: "hash-1")
                let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil)
                let first = try checkNotNil(try await store.credentials(of: alice.id), "credentials given at creation")
                try checkEqual(first.userID, alice.id, "credentials' user ID")
                try checkEqual(first.passwordHash, "hash-1", "stored password hash")
                try checkEqual(first.version, 1, "version of the credentials given at creation")
                try checkEqual(try await store.credentials(of: bob.id), nil, "credentials of a user created without")

                _ = try await store.updateProfile(of: alice.id, ProfileUpdate(displayName: "Alice"))
                try checkEqual(try await store.credentials(of: alice.id), first, "credentials after a profile update")

                let second = try await store.setPasswordHash("hash-2", of: alice.id)
                try checkEqual(second.passwordHash, "hash-2", "password hash returned by setPasswordHash")
                try checkEqual(second.version, 2, "version after setPasswordHash")
                try checkEqual(try await store.credentials(of: alice.id), second, "credentials read back")
                try checkEqual(try await store.user(alice.id)?.displayName, "Alice", "profile after setPasswordHash")
                try await checkThrows(.notFound, "setPasswordHash of an unknown user") {
                    try await store.setPasswordHash("hash", of: .random())
                }
                // The first password of a user created without one.
                let bobs = try await store.setPasswordHash("hash-b", of: bob.id)
                try checkEqual(bobs.version, 1, "version of a first password hash set after creation")
                try checkEqual(try await store.credentials(of: bob.id), bobs, "bob's credentials read back")
            },

            Case("users", "a profile update reaches the user and accepted contacts but no one else") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol", "dave")
                let (alice, bob, carol, dave) = (ids[0], ids[1], ids[2], ids[3])
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                _ = try await store.requestContact(from: carol, to: alice)  // pending: not a contact yet
                _ = try await store.updateProfile(of: alice, ProfileUpdate(displayName: "Alice A."))

                for (viewer, name) in [(alice, "alice herself"), (bob, "her accepted contact bob")] {
                    let updates = try await fixture.allEvents(for: viewer).filter { $0.kind == .profileUpdated }
                    try checkEqual(updates.count, 1, "profileUpdated events seen by \(name)")
                    try checkEqual(updates[0].user?.id, alice, "profile in the event seen by \(name)")
                    try checkEqual(updates[0].user?.displayName, "Alice A.", "display name in the event")
                    try checkEqual(updates[0].conversationID, nil, "conversation of a profileUpdated event")
                }
                for (viewer, name) in [(carol, "carol, whose request is pending"), (dave, "the stranger dave")] {
                    let updates = try await fixture.allEvents(for: viewer).filter { $0.kind == .profileUpdated }
                    try checkEqual(updates.count, 0, "profileUpdated events seen by \(name)")
                }
            },
        ]
    }
}
