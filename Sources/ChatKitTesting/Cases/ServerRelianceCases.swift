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
import Foundation

extension ChatStoreConformance {
    /// Guarantees the server relies on that the other cases reach only in part: paging one busy conversation,
    /// batches racing resends, the fields the event router reads, tombstones in every event, message calls by
    /// former members and outsiders, and refresh-token rotation under concurrency.
    static var serverRelianceCases: [Case] {
        [
            Case("sync", "one busy conversation pages with hasMore until its end") { store in
                // The conversation's creation and 10 messages: 11 events, in pages of 3.
                let (_, alice, _) = try await StoreFixture.conversationWithMessages(store, count: 10)
                var cursor = StreamPosition.start
                var seen = 0
                for expected in [3, 3, 3, 2] {
                    let page = try await store.events(for: alice, after: cursor, limit: 3)
                    seen += page.events.count
                    try checkEqual(page.events.count, expected, "events in page \(seen)")
                    try checkEqual(page.hasMore, seen < 11, "hasMore after \(seen) of 11 events")
                    cursor = page.cursor
                }
            },
            Case("concurrency", "batches racing resends stay gapless, one message per key") { store in
                let fixture = StoreFixture(store)
                let users = try await fixture.users(count: 6)
                let group = try await fixture.group(users[0], Array(users.dropFirst()))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for (index, user) in users.enumerated() {
                        tasks.addTask {
                            // Ten messages of five keys: each key twice in one batch.
                            let batch = (0..<10).map { number in
                                NewMessage(
                                    conversationID: group, senderID: user,
                                    clientMessageID: ClientMessageID(rawValue: "\(index)-\(number % 5)"),
                                    body: "\(number)"
                                )
                            }
                            for outcome in await store.append(contentsOf: batch) { _ = try outcome.get() }
                        }
                        tasks.addTask {
                            try await fixture.send(
                                "again", from: user, to: group, clientMessageID: ClientMessageID(rawValue: "\(index)-0")
                            )
                        }
                    }
                    try await tasks.waitForAll()
                }
                let stored = try await store.messages(in: group, .after(0, limit: 1000), as: users[0])
                try checkEqual(stored.map(\.seq), (1...30).map { Int64($0) }, "one message per key, gapless seqs")
                let other = try await fixture.group(users[0], [], title: "Other")
                let late = await store.append(contentsOf: [
                    NewMessage(
                        conversationID: other, senderID: users[0], clientMessageID: ClientMessageID(rawValue: "0-1"),
                        body: "x"
                    )
                ])
                try await checkThrows(.conflict, "a key used in another conversation, in a batch") { try late[0].get() }
            },
            Case("routing", "allEvents carries the audience and the members the router reads") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                try await fixture.send("hi", from: alice, to: try await fixture.direct(alice, bob))
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.acceptContact(bob, from: alice)
                _ = try await store.updateProfile(of: alice, ProfileUpdate(statusText: "away"))
                let channel = try await fixture.channel(alice)
                _ = try await store.joinChannel(channel, user: bob)
                var joined = false
                for event in try await store.allEvents(after: .start, limit: 1000) {
                    if event.conversationID == nil {
                        try checkEqual(Set(event.audience ?? []), [alice, bob], "audience of \(event.kind)")
                    } else if event.kind != .markerUpdated {
                        // Only a marker move may have an audience of its own (its user's, in large conversations).
                        try checkEqual(event.audience, nil, "audience of the conversation event \(event.kind)")
                    }
                    if event.kind == .membersAdded, event.conversationID == channel {
                        try checkEqual(event.members?.map(\.userID), [bob], "who joined the channel")
                        joined = true
                    }
                }
                try check(joined, "joining a channel recorded no membersAdded event")
            },
            Case("routing", "allEvents returns full pages until the end") { store in
                // The router reads on only after a full page: a short one would leave events unrouted.
                let (_, _, _) = try await StoreFixture.conversationWithMessages(store, count: 6)
                let all = try await store.allEvents(after: .start, limit: 1000)
                var cursor = StreamPosition.start
                var read: [StreamPosition] = []
                for _ in 0...all.count {
                    let page = try await store.allEvents(after: cursor, limit: 3)
                    read += page.map(\.position)
                    if page.count < 3 {
                        try checkEqual(read, all.map(\.position), "events read in pages of 3 before a short page")
                        return
                    }
                    cursor = page[2].position
                }
                throw ConformanceFailure("paging allEvents in pages of 3 never came to a short page")
            },
            Case("sync", "a deleted message is a tombstone in every event that carries it") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.group(alice, [bob])
                let message = try await fixture.send("secret plan", from: alice, to: chat)
                _ = try await store.editMessage(message.id, body: "secret plan, edited", by: alice)
                _ = try await store.addReaction("👍", to: message.id, by: bob)
                _ = try await store.removeReaction("👍", from: message.id, by: bob)
                _ = try await store.deleteMessage(message.id, by: alice)
                let forBob = try await fixture.allEvents(for: bob).filter { $0.message?.id == message.id }
                let all = try await store.allEvents(after: .start, limit: 1000).filter { $0.message?.id == message.id }
                for (events, source) in [(forBob, "sync"), (all, "allEvents")] {
                    try checkEqual(
                        events.count, 5, "\(source): events of the message (created, edited, 2 reactions, deleted)"
                    )
                    for event in events {
                        try check(
                            event.message?.isDeleted == true, "\(source): \(event.kind) shows the message undeleted"
                        )
                        try checkEqual(event.message?.body, "", "\(source): body in \(event.kind)")
                    }
                }
            },
            Case("membership", "former members and outsiders get notFound for every message call") { store in
                let fixture = StoreFixture(store)
                let (owner, gone) = try await fixture.pair()
                let outsider = try await fixture.user("outsider")
                let group = try await fixture.group(owner, [gone])
                let old = try await fixture.send("before leaving", from: gone, to: group)
                try await store.removeMember(gone, from: group, by: owner)
                let channel = try await fixture.channel(owner)
                let news = try await fixture.send("news", from: owner, to: channel)
                for (user, conversation, message) in [(gone, group, old), (outsider, channel, news)] {
                    try await checkThrows(.notFound, "message(_:as:)") {
                        try await store.message(message.id, as: user)
                    }
                    try await checkThrows(.notFound, "editMessage") {
                        try await store.editMessage(message.id, body: "changed", by: user)
                    }
                    try await checkThrows(.notFound, "deleteMessage") {
                        try await store.deleteMessage(message.id, by: user)
                    }
                    try await checkThrows(.notFound, "addReaction") {
                        try await store.addReaction("👍", to: message.id, by: user)
                    }
                    try await checkThrows(.notFound, "removeReaction") {
                        try await store.removeReaction("👍", from: message.id, by: user)
                    }
                    try await checkThrows(.notFound, "messages(in:)") {
                        try await store.messages(in: conversation, .latest(), as: user)
                    }
                    try await checkThrows(.notFound, "markRead") {
                        try await store.markRead(conversation, upTo: 1, by: user)
                    }
                }
                try checkEqual(
                    try await store.message(old.id, as: owner).body, "before leaving", "the former member's message"
                )
            },
            Case("sessions", "rotations racing from one token: one succeeds, then the session is revoked") { store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                let successes = try await withThrowingTaskGroup(of: Bool.self) { tasks in
                    for attempt in 0..<10 {
                        tasks.addTask {
                            do {
                                _ = try await store.rotateRefreshToken(
                                    of: session.id, from: "hash-1", to: "next-\(attempt)", expiresAt: session.expiresAt
                                )
                                return true
                            } catch let error as ChatError where error.code == .conflict || error.code == .notFound {
                                return false
                            }
                        }
                    }
                    return try await tasks.reduce(0) { $0 + ($1 ? 1 : 0) }
                }
                try checkEqual(successes, 1, "rotations that succeeded from the same token")
                try check(
                    try await store.session(session.id)?.revokedAt != nil, "the copied token did not revoke the session"
                )
            },
        ]
    }
}
