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
    static var concurrencyCases: [Case] {
        [
            Case("concurrency", "50 concurrent senders get gapless, unique seqs") { store in
                let fixture = StoreFixture(store)
                let senders = try await fixture.users(count: 50)
                let group = try await fixture.group(senders[0], Array(senders.dropFirst()))
                let messages = try await withThrowingTaskGroup(of: [Message].self) { tasks in
                    for (index, sender) in senders.enumerated() {
                        tasks.addTask {
                            var sent: [Message] = []
                            for number in 1...10 {
                                sent.append(try await fixture.send("\(index)-\(number)", from: sender, to: group))
                            }
                            return sent
                        }
                    }
                    return try await tasks.reduce(into: []) { $0 += $1 }
                }
                try checkEqual(messages.map(\.seq).sorted(), Array(1...500), "seqs of 500 concurrent appends")
                try checkEqual(Set(messages.map(\.id)).count, 500, "distinct message IDs")
                let history = try await store.messages(in: group, .after(0, limit: 1000), as: senders[0])
                try checkEqual(history.map(\.seq), Array(1...500), "seqs in history")
                try checkEqual(history, messages.sorted { $0.seq < $1.seq }, "history equals what the appends returned")
                for (index, _) in senders.enumerated() {
                    let own = history.filter { $0.body.hasPrefix("\(index)-") }.map(\.body)
                    try checkEqual(own, (1...10).map { "\(index)-\($0)" }, "order of sender \(index)'s messages")
                }
            },
            Case("concurrency", "50 concurrent resends of one client message ID make one message") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let results = try await withThrowingTaskGroup(of: Message.self) { tasks in
                    for attempt in 0..<50 {
                        tasks.addTask {
                            try await fixture.send("attempt \(attempt)", from: alice, to: chat, clientMessageID: "once")
                        }
                    }
                    return try await tasks.reduce(into: []) { $0.append($1) }
                }
                try checkEqual(Set(results.map(\.id)).count, 1, "distinct messages from 50 resends")
                try checkEqual(Set(results.map(\.body)).count, 1, "distinct bodies returned to the resends")
                let history = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(history.count, 1, "messages in history after 50 resends")
                try checkEqual(history.first?.seq, 1, "seq of the one message")
            },
            Case("concurrency", "concurrent appends to many conversations keep each one gapless") { store in
                let fixture = StoreFixture(store)
                let alice = try await fixture.user("alice")
                var groups: [ConversationID] = []
                for index in 0..<10 { groups.append(try await fixture.group(alice, [], title: "g\(index)")) }
                let allGroups = groups
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for group in allGroups {
                        for _ in 0..<3 {
                            tasks.addTask { try await fixture.send(count: 10, from: alice, to: group) }
                        }
                    }
                    try await tasks.waitForAll()
                }
                for group in allGroups {
                    let history = try await store.messages(in: group, .after(0, limit: 100), as: alice)
                    try checkEqual(history.map(\.seq), Array(1...30), "seqs of one of ten conversations")
                }
            },
            Case("concurrency", "concurrent creations of one direct conversation make one") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let ids = try await withThrowingTaskGroup(of: ConversationID.self) { tasks in
                    for attempt in 0..<20 {
                        tasks.addTask {
                            attempt.isMultiple(of: 2) ? try await fixture.direct(alice, bob) : try await fixture.direct(bob, alice)
                        }
                    }
                    return try await tasks.reduce(into: Set()) { $0.insert($1) }
                }
                try checkEqual(ids.count, 1, "distinct direct conversations between two users")
                try checkEqual(try await store.conversations(of: alice).count, 1, "alice's conversation list")
            },
            Case("concurrency", "concurrent marker moves end at the highest seq") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send(count: 40, from: alice, to: chat)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for seq in Int64(1)...40 {
                        tasks.addTask { _ = try await store.markRead(chat, upTo: seq, by: bob) }
                        tasks.addTask { _ = try await store.markDelivered(chat, upTo: seq, by: bob) }
                    }
                    try await tasks.waitForAll()
                }
                let marker = try await store.markers(of: chat, as: alice).first { $0.userID == bob }
                try checkEqual(marker?.readSeq, 40, "read marker after concurrent moves")
                try checkEqual(marker?.deliveredSeq, 40, "delivered marker after concurrent moves")
            },
            Case("concurrency", "concurrent reactions from 20 users are all kept") { store in
                let fixture = StoreFixture(store)
                let users = try await fixture.users(count: 20)
                let group = try await fixture.group(users[0], Array(users.dropFirst()))
                let message = try await fixture.send("react!", from: users[0], to: group)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for user in users {
                        tasks.addTask { _ = try await store.addReaction("❤️", to: message.id, by: user) }
                    }
                    try await tasks.waitForAll()
                }
                let reactions = try await store.message(message.id, as: users[0]).reactions
                try checkEqual(Set(reactions.map(\.userID)), Set(users), "users who reacted")
                try checkEqual(reactions.count, 20, "reaction count")
            },
            Case("concurrency", "syncing while others append sees every event once, in order") { store in
                let fixture = StoreFixture(store)
                let users = try await fixture.users(count: 4)
                let group = try await fixture.group(users[0], Array(users.dropFirst()))
                let reader = users[3]
                let seen = try await withThrowingTaskGroup(of: [StoredEvent].self) { tasks in
                    for sender in users.prefix(3) {
                        tasks.addTask {
                            try await fixture.send(count: 50, from: sender, to: group)
                            return []
                        }
                    }
                    tasks.addTask {
                        // Poll while the writers run, then once more after they are done.
                        var events: [StoredEvent] = []
                        var cursor = StreamPosition.start
                        for _ in 0..<200 {
                            let page = try await store.events(for: reader, after: cursor, limit: 7)
                            events += page.events
                            cursor = page.cursor
                            await Task.yield()
                        }
                        return events
                    }
                    var all: [StoredEvent] = []
                    for try await events in tasks { all += events }
                    return all
                }
                let rest = try await fixture.allEvents(for: reader, after: seen.last?.position ?? .start)
                let events = seen + rest
                let positions = events.map(\.position)
                try checkEqual(positions, positions.sorted(), "event positions in sync order")
                try checkEqual(Set(positions).count, positions.count, "distinct event positions")
                let seqs = events.compactMap { $0.kind == .messageCreated ? $0.message?.seq : nil }
                try checkEqual(seqs, Array(1...150), "message seqs in sync order")
            },
            Case("concurrency", "appends racing the sender's removal are stored before it or refused") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let outcomes = try await withThrowingTaskGroup(of: Message?.self) { tasks in
                    for number in 0..<20 {
                        tasks.addTask { try? await fixture.send("racing \(number)", from: bob, to: group) }
                    }
                    tasks.addTask {
                        try await store.removeMember(bob, from: group, by: alice)
                        return nil
                    }
                    return try await tasks.reduce(into: [Message]()) { if let message = $1 { $0.append(message) } }
                }
                let events = try await store.allEvents(after: .start, limit: 1000)
                let removal = try checkNotNil(events.first { $0.kind == .memberRemoved }, "the removal event")
                let stored = events.filter { $0.kind == .messageCreated }
                try checkEqual(stored.count, outcomes.count, "messages stored, against appends that returned one")
                for event in stored {
                    try check(
                        event.position < removal.position,
                        "a message of the removed member was stored at \(event.position), after the removal at "
                            + "\(removal.position)"
                    )
                }
            },

            Case("concurrency", "createdAt never decreases along the seqs of 300 concurrent appends") { store in
                let fixture = StoreFixture(store)
                let senders = try await fixture.users(count: 30)
                let group = try await fixture.group(senders[0], Array(senders.dropFirst()))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for (index, sender) in senders.enumerated() {
                        tasks.addTask {
                            for number in 1...10 {
                                try await fixture.send("\(index)-\(number)", from: sender, to: group)
                            }
                        }
                    }
                    try await tasks.waitForAll()
                }
                let history = try await store.messages(in: group, .after(0, limit: 1000), as: senders[0])
                try checkEqual(history.map(\.seq), Array(1...300), "seqs of 300 concurrent appends")
                for (earlier, later) in zip(history, history.dropFirst()) {
                    try check(
                        later.createdAt >= earlier.createdAt,
                        "message \(later.seq) was created at \(later.createdAt), before message \(earlier.seq) "
                            + "(\(earlier.createdAt)): its time was taken before its seq was assigned"
                    )
                }
            },

            Case("concurrency", "two owners leaving at once: one leaves, the other is the last owner and stays") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("first", "second", "member")
                let (first, second, member) = (ids[0], ids[1], ids[2])
                for round in 1...5 {
                    let group = try await fixture.group(first, [second, member], title: "Round \(round)")
                    _ = try await store.setRole(.owner, of: second, in: group, by: first)
                    let outcomes = try await removalsAtOnce(store, group, [(first, first), (second, second)])
                    try checkEqual(outcomes.filter { $0 == nil }.count, 1, "round \(round): leaves that succeeded")
                    try checkEqual(outcomes.compactMap { $0 }, [.conflict], "round \(round): the refused leave's error")
                    let members = try await store.members(of: group, as: member)
                    try checkEqual(members.filter { $0.role == .owner }.count, 1, "round \(round): owners left")
                    try checkEqual(members.count, 2, "round \(round): members left")
                }
            },

            Case("concurrency", "two owners removing each other at once: one is removed, the other stays owner") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("first", "second", "member")
                let (first, second, member) = (ids[0], ids[1], ids[2])
                for round in 1...5 {
                    let group = try await fixture.group(first, [second, member], title: "Round \(round)")
                    _ = try await store.setRole(.owner, of: second, in: group, by: first)
                    let outcomes = try await removalsAtOnce(store, group, [(second, first), (first, second)])
                    try checkEqual(outcomes.filter { $0 == nil }.count, 1, "round \(round): removals that succeeded")
                    // The loser's call runs after it was removed: its actor is no longer a member.
                    try checkEqual(
                        outcomes.compactMap { $0 }, [.notFound], "round \(round): the refused removal's error"
                    )
                    let members = try await store.members(of: group, as: member)
                    let owners = members.filter { $0.role == .owner }.map(\.userID)
                    try checkEqual(owners.count, 1, "round \(round): owners left")
                    try check(owners.allSatisfy { [first, second].contains($0) }, "round \(round): a new owner")
                    try checkEqual(members.count, 2, "round \(round): members left")
                }
            },

            Case("concurrency", "20 concurrent joins by one user make one membership and one membersAdded event") {
                store in
                let fixture = StoreFixture(store)
                let (owner, joiner) = try await fixture.pair()
                let channel = try await fixture.channel(owner)
                let joined = try await withThrowingTaskGroup(of: Member.self) { tasks in
                    for _ in 0..<20 {
                        tasks.addTask { try await store.joinChannel(channel, user: joiner) }
                    }
                    return try await tasks.reduce(into: [Member]()) { $0.append($1) }
                }
                try checkEqual(Set(joined.map(\.userID)), [joiner], "users of the returned memberships")
                try checkEqual(Set(joined.map(\.role)), [.member], "roles of the returned memberships")
                let members = try await store.members(of: channel, as: owner)
                try checkEqual(members.map(\.userID), [owner, joiner].sorted(), "members after the joins")
                try checkEqual(try await store.memberCount(of: channel), members.count, "memberCount against members")
                try checkEqual(try await store.memberIDs(of: channel), members.map(\.userID), "memberIDs after joining")
                let summary = try checkNotNil(try await store.conversations(of: joiner).first, "the joiner's summary")
                try checkEqual(summary.memberCount, members.count, "member count in the joiner's summary")
                for (viewer, name) in [(joiner, "the joiner"), (owner, "the owner")] {
                    let additions = try await fixture.allEvents(for: viewer).filter { $0.kind == .membersAdded }
                    try checkEqual(additions.count, 1, "membersAdded events \(name) sees")
                    try checkEqual(additions.first?.members?.map(\.userID), [joiner], "who the event \(name) sees adds")
                }
            },

            Case("concurrency", "a reader's concurrent marker moves, out of order, end at the highest and only rise") {
                store in
                let fixture = StoreFixture(store)
                let (sender, reader) = try await fixture.pair()
                let group = try await fixture.group(sender, [reader])
                try await fixture.send(count: 40, from: sender, to: group)
                // Delivery up to 40 in a fixed shuffle (17 is prime to 40), reading up to 30 in descending order.
                let delivered = (0..<40).map { Int64($0 * 17 % 40 + 1) }
                let read = (1...30).reversed().map { Int64($0) }
                let returned = try await withThrowingTaskGroup(of: Marker.self) { tasks in
                    for seq in delivered {
                        tasks.addTask { try await store.markDelivered(group, upTo: seq, by: reader) }
                    }
                    for seq in read {
                        tasks.addTask { try await store.markRead(group, upTo: seq, by: reader) }
                    }
                    return try await tasks.reduce(into: [Marker]()) { $0.append($1) }
                }
                for marker in returned {
                    try check(
                        marker.deliveredSeq >= marker.readSeq,
                        "a call returned a marker delivered up to \(marker.deliveredSeq), read up to \(marker.readSeq)"
                    )
                }
                let current = try checkNotNil(
                    try await store.markers(of: group, as: sender).first { $0.userID == reader }, "the reader's marker"
                )
                try checkEqual(current.deliveredSeq, 40, "delivered seq after the moves")
                try checkEqual(current.readSeq, 30, "read seq after the moves")
                // The reader's own stream only: who else sees a marker move is not what this case is about.
                let moves = try await fixture.allEvents(for: reader)
                    .filter { $0.kind == .markerUpdated && $0.marker?.userID == reader }
                    .compactMap(\.marker)
                for marker in moves {
                    try check(
                        marker.deliveredSeq >= marker.readSeq,
                        "a marker event delivered up to \(marker.deliveredSeq), read up to \(marker.readSeq)"
                    )
                }
                for (earlier, later) in zip(moves, moves.dropFirst()) {
                    try check(
                        later.readSeq >= earlier.readSeq && later.deliveredSeq >= earlier.deliveredSeq,
                        "a marker event went back: from \(earlier) to \(later)"
                    )
                    try check(later != earlier, "a marker event moved nothing: \(later)")
                }
                try checkEqual(moves.last, current, "the last marker event against the marker")
            },
            Case("concurrency", "reading the stream while many conversations and contacts are written skips nothing") {
                store in
                // Positions must become visible in order: a store that draws them from a sequence while locking only
                // the conversation lets 8 commit before 7, and a reader at 8 (the server's router, a syncing client)
                // never sees 7. One conversation's lock hides that; writers in many conversations do not.
                let fixture = StoreFixture(store)
                let writers = try await fixture.users(count: 8, prefix: "writer")
                let reader = try await fixture.user("reader")
                let contacts = try await fixture.users(count: 4, prefix: "contact")
                var groups: [ConversationID] = []
                for writer in writers { groups.append(try await fixture.group(writer, [reader])) }
                let conversations = groups
                for round in 0..<3 {
                    let start = try await store.latestPosition()
                    typealias Seen = (log: [StreamPosition], sync: [StreamPosition])
                    let seen = try await withThrowingTaskGroup(of: Seen.self) { tasks in
                        for (writer, group) in zip(writers, conversations) {
                            tasks.addTask {
                                try await fixture.send(count: 20, from: writer, to: group, prefix: "round \(round)")
                                return ([], [])
                            }
                        }
                        tasks.addTask {
                            // Events outside the conversations, racing theirs.
                            for (number, contact) in contacts.enumerated() {
                                _ = try await store.updateProfile(
                                    of: reader, ProfileUpdate(statusText: "round \(round), \(number)")
                                )
                                _ = try await store.requestContact(from: contact, to: reader)
                                try await store.declineContact(reader, from: contact)
                            }
                            return ([], [])
                        }
                        tasks.addTask {
                            // As the router reads: the whole log, on from the last position it got.
                            var cursor = start
                            var positions: [StreamPosition] = []
                            for _ in 0..<100 {
                                let page = try await store.allEvents(after: cursor, limit: 5)
                                positions += page.map(\.position)
                                cursor = page.last?.position ?? cursor
                                await Task.yield()
                            }
                            return (positions, [])
                        }
                        tasks.addTask {
                            var cursor = start
                            var positions: [StreamPosition] = []
                            for _ in 0..<100 {
                                let page = try await store.events(for: reader, after: cursor, limit: 5)
                                positions += page.events.map(\.position)
                                cursor = page.cursor
                                await Task.yield()
                            }
                            return ([], positions)
                        }
                        var seen: Seen = ([], [])
                        for try await part in tasks {
                            seen.log += part.log
                            seen.sync += part.sync
                        }
                        return seen
                    }
                    // Read on to the end, then compare with one read of everything made after the writes.
                    let log = try await store.allEvents(after: start, limit: 10_000).map(\.position)
                    let restOfLog = try await store.allEvents(after: seen.log.last ?? start, limit: 10_000)
                    try checkEqual(
                        seen.log + restOfLog.map(\.position), log, "the log read during the writes, round \(round)"
                    )
                    let stream = try await fixture.allEvents(for: reader, after: start).map(\.position)
                    let restOfStream = try await fixture.allEvents(for: reader, after: seen.sync.last ?? start)
                    try checkEqual(
                        seen.sync + restOfStream.map(\.position), stream,
                        "the reader's stream read during the writes, round \(round)"
                    )
                }
            },
            Case("concurrency", "an edit or a reaction racing a deletion never outlives it") { store in
                // A store that checks "not deleted" and then writes, without a lock or a condition in the write, can
                // put an edit's body (or a reaction) on the tombstone: deleted text back in history, sync and search.
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                for round in 0..<10 {
                    let message = try await fixture.send("draft \(round)", from: alice, to: group)
                    try await withThrowingTaskGroup(of: Void.self) { tasks in
                        tasks.addTask {
                            do {
                                _ = try await store.editMessage(message.id, body: "hidden\(round) words", by: alice)
                            } catch let error as ChatError where error.code == .conflict {}
                        }
                        tasks.addTask {
                            do {
                                _ = try await store.addReaction("👍", to: message.id, by: bob)
                            } catch let error as ChatError where error.code == .conflict {}
                        }
                        tasks.addTask { _ = try await store.deleteMessage(message.id, by: alice) }
                        try await tasks.waitForAll()
                    }
                    let now = try await store.message(message.id, as: bob)
                    try check(now.isDeleted, "round \(round): the message is not deleted after the race")
                    try checkEqual(now.body, "", "round \(round): the tombstone's body")
                    try checkEqual(now.reactions, [], "round \(round): the tombstone's reactions")
                    try checkEqual(now.mentions, [], "round \(round): the tombstone's mentions")
                    try checkEqual(
                        try await store.search("hidden\(round)", as: bob, in: nil, limit: 10), [],
                        "round \(round): search for the edit's words"
                    )
                    let carrying = try await fixture.allEvents(for: bob).filter { $0.message?.id == message.id }
                    try check(
                        carrying.allSatisfy { $0.message?.body == "" && $0.message?.isDeleted == true },
                        "round \(round): an event still carries the deleted message's content"
                    )
                }
            },
            Case("concurrency", "a call from a cancelled task completes, or throws CancellationError having changed "
                + "nothing") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 3)
                for round in 1...3 {
                    let position = try await store.latestPosition()
                    let before = try await store.markers(of: chat, as: alice)
                    let call = Task { try await store.markRead(chat, upTo: Int64(round), by: alice) }
                    call.cancel()
                    switch await call.result {
                    case .success(let marker):
                        try checkEqual(marker.readSeq, Int64(round), "round \(round): the marker returned")
                        try check(
                            try await store.latestPosition() > position, "round \(round): the move left no event"
                        )
                    case .failure(let error):
                        try check(error is CancellationError, "round \(round): failed with \(error), not cancellation")
                        try checkEqual(
                            try await store.latestPosition(), position, "round \(round): the stream after the refusal"
                        )
                        try checkEqual(
                            try await store.markers(of: chat, as: alice), before,
                            "round \(round): the markers after the refusal"
                        )
                    }
                }
            },
        ]
    }
}

/// Runs `calls` at once and returns each one's error code, `nil` for a call that succeeded (in the order they
/// ended). An error other than a ``ChatKitCore/ChatError`` is thrown.
func errorCodesOfCallsAtOnce(_ calls: [@Sendable () async throws -> Void]) async throws -> [ChatError.Code?] {
    try await withThrowingTaskGroup(of: ChatError.Code?.self) { tasks in
        for call in calls {
            tasks.addTask {
                do {
                    try await call()
                    return nil
                } catch let error as ChatError {
                    return error.code
                }
            }
        }
        return try await tasks.reduce(into: [ChatError.Code?]()) { $0.append($1) }
    }
}

/// Runs the removals (user, actor) of a conversation's members at once; see `errorCodesOfCallsAtOnce(_:)`.
private func removalsAtOnce(
    _ store: any ChatStore,
    _ conversation: ConversationID,
    _ removals: [(UserID, UserID)]
) async throws -> [ChatError.Code?] {
    try await errorCodesOfCallsAtOnce(
        removals.map { user, actor in { try await store.removeMember(user, from: conversation, by: actor) } }
    )
}
