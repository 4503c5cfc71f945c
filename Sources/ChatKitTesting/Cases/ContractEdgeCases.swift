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
    /// Edges of the contract the other cases pass by: posting to a channel one has not joined, races on one
    /// conversation's membership, markers and a session, history and search after rejoining a channel, pages that
    /// end exactly full or ask for `Int.max`, calls that change nothing, and the order of a contact pair.
    static var contractEdgeCases: [Case] {
        [
            Case("messages", "a non-member of a channel cannot post to it, alone or in a batch") { store in
                let fixture = StoreFixture(store)
                let (owner, outsider) = try await fixture.pair()
                let channel = try await fixture.channel(owner)
                // Anyone may look a channel up; posting to it takes membership all the same.
                try checkEqual(try await store.conversation(channel, as: outsider).id, channel, "the channel looked up")
                let before = try await store.latestPosition()
                try await checkThrows(.notFound, "append by a non-member of a channel") {
                    try await fixture.send("let me in", from: outsider, to: channel)
                }
                let outcomes = await store.append(contentsOf: [
                    NewMessage(conversationID: channel, senderID: outsider, clientMessageID: "out-1", body: "one"),
                    NewMessage(conversationID: channel, senderID: owner, clientMessageID: "own-1", body: "the owner's"),
                    NewMessage(conversationID: channel, senderID: outsider, clientMessageID: "out-2", body: "two"),
                ])
                try checkEqual(outcomes.count, 3, "one outcome per message of the batch")
                try await checkThrows(.notFound, "the non-member's first message in a batch") { try outcomes[0].get() }
                try await checkThrows(.notFound, "the non-member's second message in a batch") { try outcomes[2].get() }
                try checkEqual(try outcomes[1].get().seq, 1, "seq of the member's message between the refused ones")
                let history = try await store.messages(in: channel, .latest(), as: owner)
                try checkEqual(history.map(\.body), ["the owner's"], "the channel's history")
                try checkEqual(try await store.memberIDs(of: channel), [owner], "the members (posting joins no one)")
                let stored = try await store.allEvents(after: before, limit: 100)
                try checkEqual(stored.map(\.kind), [.messageCreated], "events stored since the refused posts")
                try checkEqual(try await fixture.allEvents(for: outsider), [], "the non-member's events")
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

            Case("sessions", "the same rotation sent 10 times at once succeeds every time and revokes nothing") {
                store in
                let alice = try await StoreFixture(store).user("alice")
                let session = makeSession(for: alice)
                try await store.createSession(session)
                let later = session.expiresAt.addingTimeInterval(3600)
                let outcomes = try await withThrowingTaskGroup(of: Result<AuthSession, ChatError>.self) { tasks in
                    for _ in 0..<10 {
                        tasks.addTask {
                            do {
                                return .success(
                                    try await store.rotateRefreshToken(
                                        of: session.id, from: "hash-1", to: "hash-2", expiresAt: later
                                    )
                                )
                            } catch let error as ChatError {
                                return .failure(error)
                            }
                        }
                    }
                    return try await tasks.reduce(into: [Result<AuthSession, ChatError>]()) { $0.append($1) }
                }
                let refusals = outcomes.compactMap { outcome -> ChatError.Code? in
                    guard case .failure(let error) = outcome else { return nil }
                    return error.code
                }
                try checkEqual(refusals, [], "errors of the same rotation sent at once")
                let stored = try checkNotNil(try await store.session(session.id), "the session after the rotations")
                try check(stored.revokedAt == nil, "the same rotation sent at once revoked the session")
                try checkEqual(stored.refreshTokenHash, "hash-2", "the stored hash")
                for outcome in outcomes {
                    let rotated = try outcome.get()
                    try checkEqual(rotated.id, session.id, "the session a rotation returned")
                    try checkEqual(rotated.refreshTokenHash, "hash-2", "the hash a rotation returned")
                    try check(rotated.revokedAt == nil, "a rotation returned the session revoked")
                    try check(abs(rotated.expiresAt.timeIntervalSince(later)) < 0.002, "the expiry a rotation returned")
                    try check(
                        isSameTime(rotated.refreshedAt, stored.refreshedAt),
                        "a rotation returned refreshedAt \(String(describing: rotated.refreshedAt)), the store holds "
                            + String(describing: stored.refreshedAt)
                    )
                }
                let next = try await store.rotateRefreshToken(
                    of: session.id, from: "hash-2", to: "hash-3", expiresAt: later
                )
                try checkEqual(next.refreshTokenHash, "hash-3", "the hash after rotating on")
            },

            Case("membership", "a member who rejoins a channel reads its whole history, the time away included") {
                store in
                let fixture = StoreFixture(store)
                let (owner, bob) = try await fixture.pair()
                let channel = try await fixture.channel(owner, [bob])
                try await fixture.send("before leaving", from: owner, to: channel)
                try await store.removeMember(bob, from: channel, by: bob)
                let away = try await fixture.send("while away", from: owner, to: channel)
                try await checkThrows(.notFound, "history while away") {
                    try await store.messages(in: channel, .latest(), as: bob)
                }
                _ = try await store.joinChannel(channel, user: bob)
                try await fixture.send("after rejoining", from: owner, to: channel)
                let history = try await store.messages(in: channel, .latest(), as: bob)
                try checkEqual(
                    history.map(\.body), ["before leaving", "while away", "after rejoining"], "history after rejoining"
                )
                try checkEqual(history.map(\.seq), [1, 2, 3], "seqs after rejoining")
                let back = try await store.messages(in: channel, .before(3, limit: 1), as: bob)
                try checkEqual(back.map(\.body), ["while away"], "paging back into the time away")
                try checkEqual(try await store.message(away.id, as: bob), away, "a message sent while away, by its ID")
            },

            Case("search", "a member who rejoins a channel finds what was said while they were away") { store in
                let fixture = StoreFixture(store)
                let (owner, bob) = try await fixture.pair()
                let channel = try await fixture.channel(owner, [bob])
                try await fixture.send("zanzibar before", from: owner, to: channel)
                try await store.removeMember(bob, from: channel, by: bob)
                try await fixture.send("zanzibar while away", from: owner, to: channel)
                try checkEqual(
                    try await store.search("zanzibar", as: bob, in: nil, limit: 10), [], "bob's search while away"
                )
                _ = try await store.joinChannel(channel, user: bob)
                let expected: Set<String> = ["zanzibar before", "zanzibar while away"]
                let everywhere = try await store.search("zanzibar", as: bob, in: nil, limit: 10)
                try checkEqual(Set(everywhere.map(\.message.body)), expected, "bob's search after rejoining")
                try checkEqual(everywhere.count, 2, "hits of bob's search after rejoining")
                let inChannel = try await store.search("zanzibar", as: bob, in: channel, limit: 10)
                try checkEqual(Set(inChannel.map(\.message.body)), expected, "bob's search in the channel")
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

            Case("search", "a search with limit Int.max finds every match") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let other = try await fixture.group(alice, [], title: "Other")
                try await fixture.send(count: 20, from: alice, to: chat, prefix: "weekly digest")
                try await fixture.send(count: 5, from: alice, to: other, prefix: "weekly digest")
                try await fixture.send("something else", from: alice, to: chat)
                let everywhere = try await store.search("digest", as: alice, in: nil, limit: .max)
                try checkEqual(everywhere.count, 25, "hits everywhere with limit Int.max")
                try checkEqual(Set(everywhere.map(\.message.id)).count, 25, "distinct hits everywhere")
                let inChat = try await store.search("digest", as: alice, in: chat, limit: .max)
                try checkEqual(inChat.count, 20, "hits in one conversation with limit Int.max")
                try checkEqual(
                    Set(inChat.map(\.message.body)), Set((1...20).map { "weekly digest \($0)" }),
                    "bodies found in one conversation with limit Int.max"
                )
            },

            Case("conversations", "a page of the list with limit Int.max holds every conversation") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                for index in 0..<5 { _ = try await fixture.group(bob, [alice], title: "g\(index)") }
                _ = try await fixture.direct(alice, bob)
                let whole = try await store.conversations(of: alice)
                try checkEqual(whole.count, 6, "alice's conversations")
                try checkEqual(
                    try await store.conversations(of: alice, before: nil, limit: .max), whole, "a page of Int.max"
                )
                try checkEqual(
                    try await store.conversations(of: alice, before: whole[1].activity, limit: .max),
                    Array(whole[2...]), "a page of Int.max before the second conversation"
                )
            },

            Case("messages", "removing a reaction that is not there records no event") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("react?", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: message.id, by: alice)
                try await checkStoresNoEvent(store, "bob removing a 👍 only alice gave") {
                    let result = try await store.removeReaction("👍", from: message.id, by: bob)
                    try checkEqual(result.reactions.map(\.userID), [alice], "who reacted, after bob's removal")
                }
                try await checkStoresNoEvent(store, "removing an emoji no one gave") {
                    let result = try await store.removeReaction("🎉", from: message.id, by: alice)
                    try checkEqual(result.reactions.map(\.emoji), ["👍"], "reactions after removing 🎉")
                }
                let bare = try await fixture.send("no reactions", from: alice, to: chat)
                try await checkStoresNoEvent(store, "removing a reaction from a message without any") {
                    let result = try await store.removeReaction("👍", from: bare.id, by: bob)
                    try checkEqual(result.reactions, [], "reactions of a message without any")
                }
                _ = try await store.removeReaction("👍", from: message.id, by: alice)
                try await checkStoresNoEvent(store, "removing the same reaction a second time") {
                    let result = try await store.removeReaction("👍", from: message.id, by: alice)
                    try checkEqual(result.reactions, [], "reactions after removing one twice")
                }
                let doomed = try await fixture.send("doomed", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: doomed.id, by: bob)
                _ = try await store.deleteMessage(doomed.id, by: alice)
                try await checkStoresNoEvent(store, "removing a reaction from a deleted message (it has none)") {
                    let result = try await store.removeReaction("👍", from: doomed.id, by: bob)
                    try check(result.isDeleted, "removing a reaction from a tombstone returned it undeleted")
                }
                let removals = try await fixture.allEvents(for: bob).filter { $0.kind == .reactionRemoved }
                try checkEqual(removals.map { $0.reaction?.emoji }, ["👍"], "emoji of the reactionRemoved events")
                try checkEqual(removals.map { $0.reaction?.userID }, [alice], "users of the reactionRemoved events")
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

            Case("messages", "editing, deleting or reacting to an unknown message ID is not found") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let real = try await fixture.send("the only message", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: real.id, by: bob)
                let before = try await store.latestPosition()
                let unknown: [MessageID] = [.random(), "no-such-message"]
                for id in unknown {
                    try await checkThrows(.notFound, "editMessage of the unknown ID \(id)") {
                        try await store.editMessage(id, body: "changed", by: alice)
                    }
                    try await checkThrows(.notFound, "deleteMessage of the unknown ID \(id)") {
                        try await store.deleteMessage(id, by: alice)
                    }
                    try await checkThrows(.notFound, "addReaction to the unknown ID \(id)") {
                        try await store.addReaction("🎉", to: id, by: alice)
                    }
                    try await checkThrows(.notFound, "removeReaction from the unknown ID \(id)") {
                        try await store.removeReaction("👍", from: id, by: bob)
                    }
                }
                try checkEqual(try await store.latestPosition(), before, "latest position after the refused calls")
                let kept = try await store.message(real.id, as: alice)
                try checkEqual(kept.body, "the only message", "the real message's body")
                try checkEqual(kept.reactions.map(\.userID), [bob], "the real message's reactions")
            },
        ]
    }
}

/// Runs the removals (user, actor) of a conversation's members at once and returns each one's error code, `nil` for
/// a removal that succeeded.
private func removalsAtOnce(
    _ store: any ChatStore,
    _ conversation: ConversationID,
    _ removals: [(UserID, UserID)]
) async throws -> [ChatError.Code?] {
    try await withThrowingTaskGroup(of: ChatError.Code?.self) { tasks in
        for (user, actor) in removals {
            tasks.addTask {
                do {
                    try await store.removeMember(user, from: conversation, by: actor)
                    return nil
                } catch let error as ChatError {
                    return error.code
                }
            }
        }
        return try await tasks.reduce(into: [ChatError.Code?]()) { $0.append($1) }
    }
}

/// Whether two times a store returned are the same, to the millisecond it keeps (or both absent).
private func isSameTime(_ lhs: Date?, _ rhs: Date?) -> Bool {
    guard let lhs, let rhs else { return lhs == nil && rhs == nil }
    return abs(lhs.timeIntervalSince(rhs)) < 0.002
}

/// Checks that `body` stores no event: the store's latest position does not move.
private func checkStoresNoEvent(
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
