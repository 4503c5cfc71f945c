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
    static var markerCases: [Case] {
        [
            Case("markers", "markers only move forward") { store in
                let (_, sender, reader, group) = try await chatWithMessages(store, count: 4)
                try checkSeqs(try await store.markRead(group, upTo: 3, by: reader), delivered: 3, read: 3, "read 3")
                try checkSeqs(try await store.markRead(group, upTo: 1, by: reader), delivered: 3, read: 3, "read 1")
                try checkSeqs(try await store.markDelivered(group, upTo: 2, by: reader), delivered: 3, read: 3, "got 2")
                try checkSeqs(try await store.markDelivered(group, upTo: 4, by: reader), delivered: 4, read: 3, "got 4")
                try checkSeqs(try await store.markDelivered(group, upTo: 1, by: reader), delivered: 4, read: 3, "got 1")
                let stored = try await store.markers(of: group, as: sender).first { $0.userID == reader }
                try checkSeqs(try checkNotNil(stored, "the reader's marker"), delivered: 4, read: 3, "marker read back")
            },

            Case("markers", "a marker past the last message is clamped to it") { store in
                let (fixture, sender, reader, group) = try await chatWithMessages(store, count: 3)
                try checkSeqs(try await store.markDelivered(group, upTo: 9, by: reader), delivered: 3, read: 0, "got 9")
                try checkSeqs(try await store.markRead(group, upTo: 99, by: reader), delivered: 3, read: 3, "read 99")
                let empty = try await fixture.group(sender, [reader], title: "Empty")
                try checkSeqs(try await store.markRead(empty, upTo: 5, by: reader), delivered: 0, read: 0, "empty")
                // A message that arrives later is unread: the clamped marker did not run ahead of it.
                try await fixture.send("later", from: sender, to: group)
                let summary = try await store.conversations(of: reader).first { $0.conversation.id == group }
                try checkEqual(summary?.unreadCount, 1, "unread count after a message past the clamped marker")
            },

            Case("markers", "reading implies delivery and delivery does not imply reading") { store in
                let (_, _, reader, group) = try await chatWithMessages(store, count: 3)
                try checkSeqs(try await store.markRead(group, upTo: 2, by: reader), delivered: 2, read: 2, "read 2")
                try checkSeqs(try await store.markDelivered(group, upTo: 3, by: reader), delivered: 3, read: 2, "got 3")
            },

            Case("markers", "a marker call that moves nothing records no event") { store in
                let (fixture, sender, reader, group) = try await chatWithMessages(store, count: 3)
                _ = try await store.markRead(group, upTo: 2, by: reader)
                let before = try await store.latestPosition()
                try checkSeqs(try await store.markRead(group, upTo: 2, by: reader), delivered: 2, read: 2, "read 2")
                try checkSeqs(try await store.markRead(group, upTo: 1, by: reader), delivered: 2, read: 2, "read 1")
                try checkSeqs(try await store.markDelivered(group, upTo: 2, by: reader), delivered: 2, read: 2, "got 2")
                try checkSeqs(try await store.markDelivered(group, upTo: 0, by: reader), delivered: 2, read: 2, "got 0")
                try checkEqual(try await store.latestPosition(), before, "latest position after moving nothing")

                let empty = try await fixture.group(sender, [reader], title: "Empty")
                let created = try await store.latestPosition()
                _ = try await store.markRead(empty, upTo: 7, by: reader)
                try checkEqual(try await store.latestPosition(), created, "latest position after marking nothing")
            },

            Case("markers", "in a group, every marker move is an event all members see") { store in
                let (fixture, sender, reader, group) = try await chatWithMessages(store, count: 3)
                let ids = try await fixture.users("other", "stranger")
                let (other, stranger) = (ids[0], ids[1])
                _ = try await store.addMembers([other], to: group, role: .member, by: sender)
                _ = try await store.markDelivered(group, upTo: 3, by: reader)
                _ = try await store.markRead(group, upTo: 2, by: reader)
                for (viewer, name) in [(sender, "the sender"), (other, "another member"), (reader, "the reader")] {
                    let updates = try await fixture.allEvents(for: viewer).filter { $0.kind == .markerUpdated }
                    try checkEqual(updates.map { $0.marker?.userID }, [reader, reader], "markers seen by \(name)")
                    try checkEqual(updates.map { $0.marker?.readSeq }, [0, 2], "read seqs seen by \(name)")
                    try checkEqual(updates.map { $0.marker?.deliveredSeq }, [3, 3], "delivered seqs seen by \(name)")
                    try checkEqual(updates.map(\.conversationID), [group, group], "conversation of the events")
                }
                let strangers = try await fixture.allEvents(for: stranger).filter { $0.kind == .markerUpdated }
                try checkEqual(strangers.count, 0, "markerUpdated events seen by a non-member")
            },

            Case("markers", "in a channel or a group past the limit, a marker move is seen by its user alone") {
                store in
                let fixture = StoreFixture(store)
                let (owner, reader) = try await fixture.pair()
                let others = try await fixture.users(count: MembershipRules.maxMembersSharingMarkers - 1)
                let channel = try await fixture.channel(owner, [reader])
                // At the limit a group still shares its markers; one member more and it no longer does.
                let atLimit = try await fixture.group(owner, [reader] + others.dropLast())
                let pastLimit = try await fixture.group(owner, [reader] + others)
                for conversation in [channel, atLimit, pastLimit] {
                    try await fixture.send("hello", from: owner, to: conversation)
                    _ = try await store.markRead(conversation, upTo: 1, by: reader)
                }
                let seenByReader = try await fixture.allEvents(for: reader).filter { $0.kind == .markerUpdated }
                try checkEqual(seenByReader.map(\.conversationID), [channel, atLimit, pastLimit], "the reader's own")
                try checkEqual(seenByReader.map { $0.marker?.readSeq }, [1, 1, 1], "the reader's read seqs")
                for viewer in [owner, others[0]] {
                    let seen = try await fixture.allEvents(for: viewer).filter { $0.kind == .markerUpdated }
                    try checkEqual(seen.map(\.conversationID), [atLimit], "the reader's marker moves others see")
                }
                // Others still read the marker when they ask.
                let markers = try await store.markers(of: pastLimit, as: owner)
                try checkEqual(markers.first { $0.userID == reader }?.readSeq, 1, "the reader's marker, asked for")
            },

            Case("markers", "markers lists every member by user ID, including those who marked nothing") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("u0", "u1", "u2").sorted()
                let group = try await fixture.group(ids[2], [ids[1], ids[0]])
                try await fixture.send(count: 2, from: ids[2], to: group)
                _ = try await store.markRead(group, upTo: 2, by: ids[0])
                _ = try await store.markDelivered(group, upTo: 1, by: ids[1])
                let markers = try await store.markers(of: group, as: ids[1])
                try checkEqual(markers.map(\.userID), ids, "users of the markers, ordered by ID")
                try checkEqual(markers.map(\.deliveredSeq), [2, 1, 0], "delivered seqs")
                try checkEqual(markers.map(\.readSeq), [2, 0, 0], "read seqs")
                try check(markers.allSatisfy { $0.conversationID == group }, "a marker of another conversation")
            },

            Case("markers", "a non-member can neither move nor read markers") { store in
                let (fixture, sender, _, group) = try await chatWithMessages(store, count: 2)
                let stranger = try await fixture.user("stranger")
                let channel = try await fixture.channel(sender)
                for (id, name) in [(group, "a group"), (channel, "a channel"), (.random(), "an unknown conversation")] {
                    try await checkThrows(.notFound, "markDelivered in \(name) by a non-member") {
                        try await store.markDelivered(id, upTo: 1, by: stranger)
                    }
                    try await checkThrows(.notFound, "markRead in \(name) by a non-member") {
                        try await store.markRead(id, upTo: 1, by: stranger)
                    }
                    try await checkThrows(.notFound, "markers of \(name) as a non-member") {
                        try await store.markers(of: id, as: stranger)
                    }
                }
                let markers = try await store.markers(of: group, as: sender)
                try check(!markers.contains { $0.userID == stranger }, "a non-member got a marker")
            },
            Case("markers", "a conversation's markers are its current members' only") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let group = try await fixture.group(alice, [bob, carol])
                try await fixture.send("hello", from: alice, to: group)
                _ = try await store.markRead(group, upTo: 1, by: bob)
                try await store.removeMember(bob, from: group, by: alice)
                let markers = try await store.markers(of: group, as: alice)
                try checkEqual(markers.map(\.userID).sorted(), [alice, carol].sorted(), "whose markers are listed")
            },
            Case("markers", "a newcomer's markers start at the last message in markers(of:); lower moves do nothing") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "bob", "carol")
                let (owner, bob, carol) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(owner, [])
                let channel = try await fixture.channel(owner)
                for conversation in [group, channel] {
                    try await fixture.send(count: 4, from: owner, to: conversation)
                }
                _ = try await store.addMembers([bob], to: group, role: .member, by: owner)
                _ = try await store.joinChannel(channel, user: carol)
                for (conversation, newcomer) in [(group, bob), (channel, carol)] {
                    // Receipts read markers(of:): they count a newcomer as having read what came before.
                    let marker = try await store.markers(of: conversation, as: owner).first { $0.userID == newcomer }
                    try checkEqual(marker?.deliveredSeq, 4, "a newcomer's delivered seq in markers(of:)")
                    try checkEqual(marker?.readSeq, 4, "a newcomer's read seq in markers(of:)")
                    try await checkNoEvent(store, "a newcomer marking below where its markers start") {
                        try checkSeqs(
                            try await store.markRead(conversation, upTo: 2, by: newcomer), delivered: 4, read: 4,
                            "a newcomer reading up to 2"
                        )
                        try checkSeqs(
                            try await store.markDelivered(conversation, upTo: 3, by: newcomer), delivered: 4, read: 4,
                            "a newcomer getting up to 3"
                        )
                    }
                }
                // Back after leaving: the markers start at the last message again.
                try await store.removeMember(carol, from: channel, by: carol)
                try await fixture.send(count: 3, from: owner, to: channel)
                _ = try await store.joinChannel(channel, user: carol)
                let back = try await store.markers(of: channel, as: carol).first { $0.userID == carol }
                try checkEqual(
                    back.map { [$0.deliveredSeq, $0.readSeq] }, [7, 7], "markers of a member back after leaving"
                )
            },

            Case("markers", "reading from nothing records one event; joining records none") { store in
                let (fixture, sender, reader, group) = try await chatWithMessages(store, count: 3)
                let before = try await store.latestPosition()
                let marker = try await store.markRead(group, upTo: 2, by: reader)
                try checkSeqs(marker, delivered: 2, read: 2, "the marker")
                let moves = try await store.allEvents(after: before, limit: 10)
                try checkEqual(moves.map(\.kind), [.markerUpdated], "events of one read that also delivered")
                try checkEqual(moves.first?.marker, marker, "the event's marker")
                let ids = try await fixture.users("newcomer", "joiner")
                let beforeAdding = try await store.latestPosition()
                _ = try await store.addMembers([ids[0]], to: group, role: .member, by: sender)
                try checkEqual(
                    try await store.allEvents(after: beforeAdding, limit: 10).map(\.kind), [.membersAdded],
                    "events of an addition to a conversation with messages"
                )
                let channel = try await fixture.channel(sender)
                try await fixture.send(count: 2, from: sender, to: channel)
                let beforeJoining = try await store.latestPosition()
                _ = try await store.joinChannel(channel, user: ids[1])
                try checkEqual(
                    try await store.allEvents(after: beforeJoining, limit: 10).map(\.kind), [.membersAdded],
                    "events of a join of a channel with messages"
                )
            },
        ]
    }
}

/// A group of a sender and a reader with `count` messages from the sender.
private func chatWithMessages(_ store: any ChatStore, count: Int) async throws
    -> (fixture: StoreFixture, sender: UserID, reader: UserID, group: ConversationID)
{
    let fixture = StoreFixture(store)
    let ids = try await fixture.users("sender", "reader")
    let group = try await fixture.group(ids[0], [ids[1]])
    try await fixture.send(count: count, from: ids[0], to: group)
    return (fixture, ids[0], ids[1], group)
}

/// Checks a marker's delivered and read seqs.
private func checkSeqs(
    _ marker: Marker,
    delivered: Int64,
    read: Int64,
    _ what: String,
    file: String = #fileID,
    line: Int = #line
) throws {
    try checkEqual(marker.deliveredSeq, delivered, "\(what): delivered seq", file: file, line: line)
    try checkEqual(marker.readSeq, read, "\(what): read seq", file: file, line: line)
}
