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
    static var syncCases: [Case] {
        [
            Case("sync", "an empty store has no events and the start position") { store in
                let alice = try await StoreFixture(store).user("alice")
                let page = try await store.events(for: alice, after: .start, limit: 10)
                try checkEqual(page.events, [], "events of an empty store")
                try checkEqual(page.cursor, .start, "cursor of an empty page")
                try check(!page.hasMore, "an empty page says hasMore")
                try checkEqual(try await store.latestPosition(), .start, "latest position of an empty store")
            },
            Case("sync", "a limit of Int.max reads every event") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send(count: 3, from: alice, to: chat)
                _ = try await store.requestContact(from: alice, to: bob)
                let page = try await store.events(for: bob, after: .start, limit: .max)
                try checkEqual(page.events.count, 5, "events of bob: the creation, 3 messages, the contact request")
                try check(!page.hasMore, "a page of every event says hasMore")
                let all = try await store.allEvents(after: .start, limit: .max)
                try checkEqual(all.map(\.position), page.events.map(\.position), "every event, in order")
            },
            Case("sync", "a conversation's events come in order: creation, then messages by seq") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let sent = try await fixture.send(count: 5, from: alice, to: chat)
                for user in [alice, bob] {
                    let events = try await fixture.allEvents(for: user)
                    try checkEqual(
                        events.map(\.kind), [.conversationCreated] + Array(repeating: .messageCreated, count: 5),
                        "kinds of events"
                    )
                    try checkEqual(events.compactMap(\.message), sent, "messages carried by the events")
                    try checkEqual(events[0].conversation?.id, chat, "conversation of the creation event")
                    try checkEqual(
                        events[0].members?.map(\.userID).sorted(), [alice, bob].sorted(), "members of the creation event"
                    )
                    try check(events.allSatisfy { $0.conversationID == chat }, "an event lacks its conversation ID")
                }
            },
            Case("sync", "a group's or channel's creation event lists every member once, the creator as owner") {
                store in
                // The server's router takes a new conversation's members from this event, without asking the store:
                // a creator left out would get none of the conversation's events live.
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("u0", "u1", "u2")
                for new in [
                    NewConversation.group("T", createdBy: ids[2], members: [ids[1], ids[0], ids[1], ids[2]]),
                    NewConversation.channel("C", createdBy: ids[2], members: [ids[1], ids[0], ids[1], ids[2]]),
                ] {
                    let conversation = try await store.createConversation(new)
                    let expected: [UserID: MemberRole] = [ids[0]: .member, ids[1]: .member, ids[2]: .owner]
                    let stored = try await store.members(of: conversation.id, as: ids[2])
                    try checkEqual(
                        Dictionary(stored.map { ($0.userID, $0.role) }, uniquingKeysWith: { first, _ in first }),
                        expected, "the \(new.kind) conversation's members and roles"
                    )
                    let logged = try await store.allEvents(after: .start, limit: 1000)
                    var creations = logged.filter {
                        $0.kind == .conversationCreated && $0.conversationID == conversation.id
                    }
                    for user in ids {
                        creations += try await fixture.allEvents(for: user).filter {
                            $0.kind == .conversationCreated && $0.conversationID == conversation.id
                        }
                    }
                    try checkEqual(creations.count, 4, "the \(new.kind) conversation's creation event, in each stream")
                    for event in creations {
                        let members = event.members ?? []
                        try checkEqual(members.count, 3, "members in the \(new.kind) creation event (each once)")
                        try checkEqual(
                            Dictionary(members.map { ($0.userID, $0.role) }, uniquingKeysWith: { first, _ in first }),
                            expected, "members and roles in the \(new.kind) creation event"
                        )
                    }
                }
            },
            Case("sync", "positions strictly increase and the latest position is the last event's") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("one", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: message.id, by: bob)
                _ = try await store.markRead(chat, upTo: 1, by: bob)
                let events = try await fixture.allEvents(for: alice)
                let positions = events.map(\.position)
                try check(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }, "positions \(positions)")
                try check(positions.first.map { $0 > .start } ?? false, "the first position is not after start")
                try checkEqual(try await store.latestPosition(), positions.last, "latest position")
            },
            Case("sync", "a cursor returns exactly the events after it") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send(count: 3, from: alice, to: chat)
                let cursor = try await store.events(for: bob, after: .start, limit: 100).cursor
                try checkEqual(cursor, try await store.latestPosition(), "cursor after reading everything")
                try await fixture.send(count: 2, from: alice, to: chat, prefix: "later")
                let page = try await store.events(for: bob, after: cursor, limit: 100)
                try checkEqual(page.events.compactMap(\.message?.body), ["later 1", "later 2"], "events after the cursor")
                try check(!page.hasMore, "the final page says hasMore")
                try checkEqual(page.cursor, page.events.last?.position, "cursor of the final page")
            },
            Case("sync", "paging through many conversations returns every event exactly once, in order") { store in
                let fixture = StoreFixture(store)
                let users = try await fixture.users(count: 3)
                var groups: [ConversationID] = []
                for index in 0..<20 { groups.append(try await fixture.group(users[index % 3], users, title: "g\(index)")) }
                for round in 0..<5 {
                    for (index, group) in groups.enumerated() {
                        try await fixture.send("r\(round) g\(index)", from: users[(round + index) % 3], to: group)
                    }
                }
                let whole = try await store.events(for: users[1], after: .start, limit: 10_000)
                try checkEqual(whole.events.count, 120, "events in one big page (20 creations + 100 messages)")
                for pageSize in [1, 3, 7, 50] {
                    let paged = try await fixture.allEvents(for: users[1], pageSize: pageSize)
                    try checkEqual(paged, whole.events, "events read in pages of \(pageSize)")
                }
                for group in groups {
                    let seqs = whole.events.filter { $0.conversationID == group }.compactMap(\.message?.seq)
                    try checkEqual(seqs, [1, 2, 3, 4, 5], "seqs of one conversation in the stream")
                }
            },
            Case("sync", "a user sees nothing of conversations they are not in") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let private1 = try await fixture.direct(alice, bob)
                let private2 = try await fixture.group(alice, [bob])
                _ = try await fixture.channel(alice, [bob])
                try await fixture.send("secret", from: alice, to: private1)
                try await fixture.send("secret", from: bob, to: private2)
                try checkEqual(try await fixture.allEvents(for: carol), [], "an outsider's events")
            },
            Case("sync", "a member added later sees events from their addition on") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [])
                try await fixture.send("before bob", from: alice, to: group)
                _ = try await store.addMembers([bob], to: group, role: .member, by: alice)
                try await fixture.send("after bob", from: alice, to: group)
                let events = try await fixture.allEvents(for: bob)
                try checkEqual(events.map(\.kind), [.membersAdded, .messageCreated], "kinds of bob's events")
                try checkEqual(events[0].members?.map(\.userID), [bob], "members of the membersAdded event")
                try checkEqual(events[1].message?.body, "after bob", "the message bob sees")
                let history = try await store.messages(in: group, .latest(), as: bob)
                try checkEqual(history.map(\.body), ["before bob", "after bob"], "history a new member may read")
            },
            Case("sync", "a removed member sees their removal and nothing after it") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                try await fixture.send("while bob is in", from: alice, to: group)
                try await store.removeMember(bob, from: group, by: alice)
                try await fixture.send("after bob left", from: alice, to: group)
                _ = try await store.renameConversation(group, to: "Without Bob", by: alice)
                let events = try await fixture.allEvents(for: bob)
                try checkEqual(
                    events.map(\.kind), [.conversationCreated, .messageCreated, .memberRemoved], "kinds of bob's events"
                )
                try checkEqual(events.last?.members?.map(\.userID), [bob], "who the removal event removes")
                try check(!events.contains { $0.message?.body == "after bob left" }, "bob saw a message after removal")
            },
            Case("sync", "rejoining a channel resumes events from the new membership") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let channel = try await fixture.channel(alice, [bob])
                try await fixture.send("1", from: alice, to: channel)
                try await store.removeMember(bob, from: channel, by: bob)
                try await fixture.send("2", from: alice, to: channel)
                _ = try await store.joinChannel(channel, user: bob)
                try await fixture.send("3", from: alice, to: channel)
                let bodies = try await fixture.allEvents(for: bob).compactMap(\.message?.body)
                try checkEqual(bodies, ["1", "3"], "messages bob saw across leaving and rejoining")
            },
            Case("sync", "pages of one event cross leaving and rejoining, several times, in several conversations") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let channels = [
                    try await fixture.channel(alice, [bob], title: "one"),
                    try await fixture.channel(alice, [bob], title: "two"),
                ]
                var seen: [String] = []
                for round in 1...3 {
                    for (index, channel) in channels.enumerated() {
                        try await fixture.send("in \(round)-\(index)", from: alice, to: channel)
                        try await store.removeMember(bob, from: channel, by: bob)
                        try await fixture.send("out \(round)-\(index)", from: alice, to: channel)
                        seen.append("in \(round)-\(index)")
                    }
                    for channel in channels { _ = try await store.joinChannel(channel, user: bob) }
                }
                for (index, channel) in channels.enumerated() {
                    try await fixture.send("last \(index)", from: alice, to: channel)
                    seen.append("last \(index)")
                }
                let whole = try await fixture.allEvents(for: bob, pageSize: 1000)
                let paged = try await fixture.allEvents(for: bob, pageSize: 1)
                try checkEqual(paged, whole, "events read in pages of one")
                try checkEqual(
                    whole.compactMap(\.message?.body).sorted(), seen.sorted(), "messages bob saw while a member"
                )
                let positions = whole.map(\.position)
                try check(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }, "positions \(positions)")
            },
            Case("sync", "edits, deletes and reactions are events of their own, and deleted content is gone") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let kept = try await fixture.send("keep me", from: alice, to: chat)
                let doomed = try await fixture.send("delete me", from: alice, to: chat)
                let cursor = try await store.latestPosition()
                _ = try await store.editMessage(kept.id, body: "kept and edited", by: alice)
                _ = try await store.addReaction("👍", to: kept.id, by: bob)
                _ = try await store.deleteMessage(doomed.id, by: alice)
                let later = try await fixture.allEvents(for: bob, after: cursor)
                try checkEqual(later.map(\.kind), [.messageEdited, .reactionAdded, .messageDeleted], "kinds after edits")
                try checkEqual(later[0].message?.body, "kept and edited", "body in the edit event")
                try checkEqual(later[1].reaction?.emoji, "👍", "reaction in the reaction event")
                try checkEqual(later[1].reaction?.userID, bob, "who reacted, in the reaction event")
                try check(later[2].message?.isDeleted == true, "the delete event does not carry a tombstone")
                let all = try await fixture.allEvents(for: bob)
                try checkEqual(
                    all.filter { $0.message?.id == doomed.id }.map { $0.message?.body ?? "-" }, ["", ""],
                    "bodies of the deleted message in every event that carries it"
                )
                let created = all.first { $0.kind == .messageCreated && $0.message?.id == kept.id }
                try checkEqual(created?.message?.body, "keep me", "an edited message's creation event keeps its body")
                try checkEqual(created?.message, kept, "an edited, reacted-to message's creation event (sync)")
                let logged = try await store.allEvents(after: .start, limit: 1000)
                    .first { $0.kind == .messageCreated && $0.message?.id == kept.id }
                try checkEqual(logged?.message, kept, "an edited, reacted-to message's creation event (allEvents)")
            },
            Case("sync", "the sender's own messages are in their stream, for their other devices") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let sent = try await fixture.send("from my phone", from: alice, to: chat)
                let events = try await fixture.allEvents(for: alice)
                try checkEqual(events.last?.message, sent, "the sender's own message in their stream")
            },
            Case("sync", "limit 0 returns an empty page and a negative limit is invalid") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                _ = try await fixture.direct(alice, bob)
                let page = try await store.events(for: alice, after: .start, limit: 0)
                try checkEqual(page.events, [], "events with limit 0")
                try checkEqual(page.cursor, .start, "cursor with limit 0")
                try check(page.hasMore, "a limit-0 page with events waiting says hasMore false")
                try await checkThrows(.invalidArgument, "sync with a negative limit") {
                    try await store.events(for: alice, after: .start, limit: -1)
                }
            },
            Case("sync", "an unknown user or a cursor past the end has an empty stream") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send("hi", from: alice, to: chat)
                let unknown = try await store.events(for: "nobody", after: .start, limit: 10)
                try checkEqual(unknown.events, [], "events of an unknown user")
                let far = StreamPosition(try await store.latestPosition().rawValue + 1_000_000)
                let page = try await store.events(for: alice, after: far, limit: 10)
                try checkEqual(page.events, [], "events after a cursor past the end")
                try checkEqual(page.cursor, far, "cursor after a cursor past the end")
            },
            Case("sync", "resumePosition keeps every cursor the store gave, and caps one past its end") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                try await fixture.send(count: 3, from: alice, to: group)
                _ = try await store.markRead(group, upTo: 2, by: bob)
                let positions = [StreamPosition.start] + (try await store.allEvents(after: .start, limit: 100)).map(\.position)
                for position in positions {
                    try checkEqual(
                        try await store.resumePosition(after: position), position, "the resume position of \(position)"
                    )
                }
                let latest = try await store.latestPosition()
                let beyond = try await store.resumePosition(after: StreamPosition(latest.rawValue + 1_000_000))
                try check(beyond <= latest, "a cursor past the end resumes at \(beyond), past the latest \(latest)")
            },
            Case("sync", "pages over messages mostly changed since (reactions, edits) return every event once") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let sent = try await fixture.send(count: 30, from: alice, to: group)
                for (index, message) in sent.enumerated() where index % 10 != 4 {
                    _ = try await store.addReaction("👍", to: message.id, by: bob)
                }
                _ = try await store.editMessage(sent[7].id, body: "seven, edited", by: alice)
                let whole = try await fixture.allEvents(for: bob, pageSize: 1000)
                try checkEqual(whole.count, 1 + 30 + 27 + 1, "events: the creation, messages, reactions, the edit")
                for pageSize in [1, 2, 3, 7] {
                    try checkEqual(
                        try await fixture.allEvents(for: bob, pageSize: pageSize), whole, "bob's events in pages of \(pageSize)"
                    )
                    var cursor = StreamPosition.start
                    var routed: [StoredEvent] = []
                    while true {
                        let page = try await store.allEvents(after: cursor, limit: pageSize)
                        guard let last = page.last else { break }
                        routed += page
                        cursor = last.position
                    }
                    try checkEqual(
                        routed.filter { $0.conversationID == group }, whole.filter { $0.conversationID == group },
                        "allEvents in pages of \(pageSize)"
                    )
                }
            },

            Case("sync", "a last page that is exactly full says hasMore false") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                // Alice's five events come from three places: a direct conversation (its creation and two
                // messages), her contact request (outside conversations) and a group (its creation).
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send(count: 2, from: bob, to: chat)
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await fixture.group(bob, [alice])
                let whole = try await store.events(for: alice, after: .start, limit: 5)
                try checkEqual(whole.events.count, 5, "events on a page of exactly every event")
                try check(!whole.hasMore, "a page holding exactly every event says hasMore")
                let first = try await store.events(for: alice, after: .start, limit: 3)
                try checkEqual(first.events.count, 3, "events on the first page of 3")
                try check(first.hasMore, "a page with two events after it says hasMore false")
                let last = try await store.events(for: alice, after: first.cursor, limit: 2)
                try checkEqual(last.events, Array(whole.events.suffix(2)), "the exactly full last page")
                try check(!last.hasMore, "an exactly full last page says hasMore")
                let after = try await store.events(for: alice, after: last.cursor, limit: 2)
                try checkEqual(after.events, [], "events after the last page")
                try check(!after.hasMore, "an empty page at the end says hasMore")
                try checkEqual(after.cursor, last.cursor, "cursor of an empty page at the end")

                // One conversation alone: its creation and five messages, in two pages of three.
                let carol = try await fixture.user("carol")
                let solo = try await fixture.group(carol, [])
                try await fixture.send(count: 5, from: carol, to: solo)
                let opening = try await store.events(for: carol, after: .start, limit: 3)
                try checkEqual(opening.events.count, 3, "events on carol's first page")
                try check(opening.hasMore, "carol's first page says hasMore false")
                let closing = try await store.events(for: carol, after: opening.cursor, limit: 3)
                try checkEqual(closing.events.compactMap(\.message?.seq), [3, 4, 5], "seqs on carol's last page")
                try check(!closing.hasMore, "carol's exactly full last page says hasMore")
            },
        ]
    }
}
