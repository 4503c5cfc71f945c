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
    /// Creations made again with their ``ChatKitCore/NewConversation/creationKey``: what a client does when the
    /// answer to a creation was lost.
    static var creationKeyCases: [Case] {
        [
            Case("creation keys", "a group created again with its key is the first one, and nothing is recorded") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let first = try await store.createConversation(
                    .group("Team", createdBy: alice, members: [bob], creationKey: "k1")
                )
                let before = try await store.latestPosition()
                let again = try await store.createConversation(
                    .group("Other title", createdBy: alice, members: [carol], creationKey: "k1")
                )
                try checkEqual(again.id, first.id, "the conversation of a creation made again with its key")
                try checkEqual(again.title, "Team", "its title (the first request's)")
                try checkEqual(try await store.latestPosition(), before, "latest position after the repeat")
                try checkEqual(
                    try await store.members(of: first.id, as: alice).map(\.userID), [alice, bob].sorted(),
                    "the members (the repeat's list changes nothing)"
                )
                try await checkThrows(.notFound, "carol, named only by the repeat, sees the group") {
                    try await store.conversation(first.id, as: carol)
                }
                let otherKey = try await store.createConversation(.group("Team", createdBy: alice, creationKey: "k2"))
                let noKey = try await store.createConversation(.group("Team", createdBy: alice))
                let bobsKey = try await store.createConversation(.group("Team", createdBy: bob, creationKey: "k1"))
                try checkEqual(
                    Set([first.id, otherKey.id, noKey.id, bobsKey.id]).count, 4,
                    "conversations made by another key, by no key and by another creator with the same key"
                )
                // Keys are compared as their bytes: "é" composed and decomposed are two keys.
                let composed = try await store.createConversation(
                    .channel("News", createdBy: carol, creationKey: "caf\u{E9}")
                )
                let decomposed = try await store.createConversation(
                    .channel("News", createdBy: carol, creationKey: "cafe\u{301}")
                )
                try check(composed.id != decomposed.id, "keys that differ in their bytes made one conversation")
                try checkEqual(
                    try await store.createConversation(.channel("News", createdBy: carol, creationKey: "caf\u{E9}")).id,
                    composed.id, "the composed key made again"
                )
                let beforeConflict = try await store.latestPosition()
                try await checkThrows(.conflict, "a group's key used again for a channel") {
                    try await store.createConversation(.channel("Team", createdBy: alice, creationKey: "k1"))
                }
                try checkEqual(try await store.latestPosition(), beforeConflict, "latest position after the conflict")
            },

            Case("creation keys", "a key finds its conversation as it is now; a group its creator left is not found") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await store.createConversation(
                    .group("Team", createdBy: alice, members: [bob], creationKey: "team")
                )
                _ = try await store.renameConversation(group.id, to: "Renamed", by: alice)
                let renamed = try await store.createConversation(.group("Team", createdBy: alice, creationKey: "team"))
                try checkEqual(renamed.id, group.id, "the renamed group found by its key")
                try checkEqual(renamed.title, "Renamed", "its title now")
                _ = try await store.setRole(.owner, of: bob, in: group.id, by: alice)
                try await store.removeMember(alice, from: group.id, by: alice)
                let before = try await store.latestPosition()
                try await checkThrows(.notFound, "the key of a group its creator has left") {
                    try await store.createConversation(.group("Team", createdBy: alice, creationKey: "team"))
                }
                try checkEqual(try await store.latestPosition(), before, "latest position after the refusal")
                try checkEqual(try await store.conversations(of: alice), [], "alice's conversations after the refusal")
                let channel = try await store.createConversation(
                    .channel("News", createdBy: alice, creationKey: "news")
                )
                _ = try await store.joinChannel(channel.id, user: bob)
                _ = try await store.setRole(.owner, of: bob, in: channel.id, by: alice)
                try await store.removeMember(alice, from: channel.id, by: alice)
                try checkEqual(
                    try await store.createConversation(.channel("News", createdBy: alice, creationKey: "news")).id,
                    channel.id, "the key of a channel its creator has left (anyone may see a channel)"
                )
            },

            Case("creation keys", "20 concurrent creations with one key make one group") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let ids = try await withThrowingTaskGroup(of: ConversationID.self) { tasks in
                    for attempt in 0..<20 {
                        tasks.addTask {
                            try await store.createConversation(
                                .group("Attempt \(attempt)", createdBy: alice, members: [bob], creationKey: "once")
                            ).id
                        }
                    }
                    return try await tasks.reduce(into: Set<ConversationID>()) { $0.insert($1) }
                }
                try checkEqual(ids.count, 1, "distinct conversations from 20 creations with one key")
                try checkEqual(try await store.conversations(of: bob).count, 1, "bob's conversations")
            },

            Case("creation keys", "an empty, over-long or unstorable key is refused") { store in
                let alice = try await StoreFixture(store).user("alice")
                let longest = String(repeating: "k", count: NewConversation.maxCreationKeyBytes)
                let accepted = try await store.createConversation(
                    .group("Team", createdBy: alice, creationKey: longest)
                )
                try checkEqual(
                    try await store.createConversation(.group("Team", createdBy: alice, creationKey: longest)).id,
                    accepted.id, "the longest key made again"
                )
                let refused = [("", "an empty key"), (longest + "k", "a key one byte too long"), ("a\u{0}b", "NUL")]
                for (key, what) in refused {
                    try await checkThrows(.invalidArgument, what) {
                        try await store.createConversation(.group("Team", createdBy: alice, creationKey: key))
                    }
                }
                try checkEqual(try await store.conversations(of: alice).count, 1, "alice's conversations")
            },
        ]
    }
}
