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
    static var routingCases: [Case] {
        [
            Case("routing", "allEvents returns every event of every user in position order") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let chat = try await fixture.direct(alice, bob)
                let group = try await fixture.group(carol, [])
                try await fixture.send("ab", from: alice, to: chat)
                try await fixture.send("c", from: carol, to: group)
                _ = try await store.requestContact(from: alice, to: carol)
                let events = try await store.allEvents(after: .start, limit: 100)
                try checkEqual(
                    events.map(\.kind),
                    [.conversationCreated, .conversationCreated, .messageCreated, .messageCreated, .contactChanged],
                    "kinds of all events"
                )
                let positions = events.map(\.position)
                try checkEqual(positions, positions.sorted(), "positions of all events")
                try checkEqual(Set(positions).count, positions.count, "distinct positions (contact events once)")
                try checkEqual(positions.last, try await store.latestPosition(), "last position")
            },
            Case("routing", "allEvents pages by cursor and redacts deleted messages") { store in
                let (_, alice, group) = try await StoreFixture.conversationWithMessages(store, count: 9)
                let doomed = try await store.messages(in: group, .after(4, limit: 1), as: alice)[0]
                _ = try await store.deleteMessage(doomed.id, by: alice)
                var cursor = StreamPosition.start
                var all: [StoredEvent] = []
                while true {
                    let page = try await store.allEvents(after: cursor, limit: 4)
                    try check(page.count <= 4, "an allEvents page held \(page.count) events, limit 4")
                    guard let last = page.last else { break }
                    all += page
                    cursor = last.position
                }
                try checkEqual(all.count, 11, "events (creation, 9 messages, 1 delete)")
                try checkEqual(all.filter { $0.message?.id == doomed.id }.map { $0.message?.body ?? "-" }, ["", ""], "redacted")
                try checkEqual(try await store.allEvents(after: .start, limit: 0), [], "limit 0")
                try await checkThrows(.invalidArgument, "allEvents with a negative limit") {
                    try await store.allEvents(after: .start, limit: -1)
                }
            },
            Case("routing", "memberIDs lists current members without an access check") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let group = try await fixture.group(alice, [bob, carol])
                try checkEqual(try await store.memberIDs(of: group), [alice, bob, carol].sorted(), "members")
                try await store.removeMember(bob, from: group, by: alice)
                try checkEqual(try await store.memberIDs(of: group), [alice, carol].sorted(), "members after a removal")
                try checkEqual(try await store.memberIDs(of: "no-such-conversation"), [], "members of nothing")
            },
            Case("routing", "memberIDs at a position lists who could see the event stored there") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let channel = try await fixture.channel(alice, [bob])
                let before = try await fixture.send("before", from: alice, to: channel)
                try await store.removeMember(bob, from: channel, by: alice)
                _ = try await store.joinChannel(channel, user: carol)
                try await fixture.send("after", from: alice, to: channel)
                let events = try await store.allEvents(after: .start, limit: 100)
                func members(at kind: EventKind) async throws -> [UserID] {
                    let event = try checkNotNil(events.first { $0.kind == kind }, "the \(kind) event")
                    return try await store.memberIDs(of: channel, at: event.position)
                }
                let created = try checkNotNil(events.first, "the creation event")
                try checkEqual(try await store.memberIDs(of: channel, at: created.position), [alice, bob].sorted(), "at creation")
                let sent = try checkNotNil(events.first { $0.message?.id == before.id }, "the first message's event")
                try checkEqual(try await store.memberIDs(of: channel, at: sent.position), [alice, bob].sorted(), "at the first message")
                try checkEqual(try await members(at: .memberRemoved), [alice, bob].sorted(), "at bob's removal (he sees it)")
                try checkEqual(try await members(at: .membersAdded), [alice, carol].sorted(), "at carol's joining")
                try checkEqual(try await store.memberIDs(of: channel), [alice, carol].sorted(), "now")
            },
            Case("routing", "memberIDs at a position follows a member who left and came back") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let channel = try await fixture.channel(alice, [bob])
                let inside = try await fixture.send("while bob is in", from: alice, to: channel)
                try await store.removeMember(bob, from: channel, by: bob)
                let outside = try await fixture.send("while bob is out", from: alice, to: channel)
                _ = try await store.joinChannel(channel, user: bob)
                let back = try await fixture.send("bob is back", from: alice, to: channel)
                let events = try await store.allEvents(after: .start, limit: 100)
                func members(at message: Message) async throws -> [UserID] {
                    let event = try checkNotNil(
                        events.first { $0.kind == .messageCreated && $0.message?.id == message.id }, "\(message.body)"
                    )
                    return try await store.memberIDs(of: channel, at: event.position)
                }
                try checkEqual(try await members(at: inside), [alice, bob].sorted(), "members at the first message")
                try checkEqual(try await members(at: outside), [alice], "members while bob was out")
                try checkEqual(try await members(at: back), [alice, bob].sorted(), "members after bob came back")
            },
        ]
    }
}
