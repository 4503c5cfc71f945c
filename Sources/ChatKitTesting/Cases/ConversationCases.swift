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
    static var conversationCases: [Case] {
        [
            Case("conversations", "a direct conversation is unique and the same from either side") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                let created = try await store.createConversation(.direct(between: alice, and: bob))
                try checkEqual(created.kind, .direct, "kind")
                try checkEqual(created.title, nil, "title of a direct conversation")
                let before = try await store.latestPosition()
                let again = try await store.createConversation(.direct(between: alice, and: bob))
                let fromBob = try await store.createConversation(.direct(between: bob, and: alice))
                try checkEqual(again.id, created.id, "ID when alice creates it again")
                try checkEqual(fromBob.id, created.id, "ID when bob creates it")
                try checkEqual(try await store.latestPosition(), before, "latest position after the repeats")
                let members = try await store.members(of: created.id, as: bob)
                try checkEqual(members.map(\.userID), ids.sorted(), "members of the direct conversation")
                try checkEqual(try await store.conversations(of: alice).count, 1, "alice's conversation count")
            },

            Case("conversations", "a direct conversation must name exactly one other user") { store in
                let ids = try await StoreFixture(store).users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                try await checkThrows(.invalidArgument, "a direct conversation with oneself") {
                    try await store.createConversation(.direct(between: alice, and: alice))
                }
                try await checkThrows(.invalidArgument, "a direct conversation naming two others") {
                    let new = NewConversation(kind: .direct, createdBy: alice, memberIDs: [bob, carol])
                    return try await store.createConversation(new)
                }
                try await checkThrows(.invalidArgument, "a direct conversation naming no one") {
                    try await store.createConversation(NewConversation(kind: .direct, createdBy: alice))
                }
                try checkEqual(try await store.conversations(of: alice), [], "alice's conversations after the refusals")
            },

            Case("conversations", "a group or channel needs a title and a known kind") { store in
                let ids = try await StoreFixture(store).users("alice", "bob")
                let (alice, bob) = (ids[0], ids[1])
                try await checkThrows(.invalidArgument, "a group without a title") {
                    let new = NewConversation(kind: .group, title: nil, createdBy: alice, memberIDs: [bob])
                    return try await store.createConversation(new)
                }
                try await checkThrows(.invalidArgument, "a group with an empty title") {
                    try await store.createConversation(.group("", createdBy: alice, members: [bob]))
                }
                try await checkThrows(.invalidArgument, "a channel without a title") {
                    try await store.createConversation(NewConversation(kind: .channel, createdBy: alice))
                }
                try await checkThrows(.invalidArgument, "a conversation of an unknown kind") {
                    let kind = ConversationKind(rawValue: "broadcast")
                    let new = NewConversation(kind: kind, title: "News", createdBy: alice)
                    return try await store.createConversation(new)
                }
                try checkEqual(try await store.conversations(of: alice), [], "alice's conversations after the refusals")
            },

            Case("conversations", "creating a conversation with an unknown user is not found") { store in
                let alice = try await StoreFixture(store).user("alice")
                try await checkThrows(.notFound, "a group with an unknown member") {
                    try await store.createConversation(.group("Team", createdBy: alice, members: [.random()]))
                }
                try await checkThrows(.notFound, "a direct conversation with an unknown user") {
                    try await store.createConversation(.direct(between: alice, and: .random()))
                }
                try await checkThrows(.notFound, "a channel created by an unknown user") {
                    try await store.createConversation(.channel("News", createdBy: .random()))
                }
                try checkEqual(try await store.conversations(of: alice), [], "alice's conversations after the refusals")
            },

            Case("conversations", "the creator owns a new group and the members are listed by user ID") { store in
                let ids = try await StoreFixture(store).users("u0", "u1", "u2").sorted()
                let creator = ids[2]
                // Name members in descending ID order (and one twice), so insertion order is not ID order.
                let created = try await store.createConversation(
                    .group("Team", createdBy: creator, members: [ids[1], ids[0], ids[1]])
                )
                try checkEqual(created.kind, .group, "kind")
                try checkEqual(created.title, "Team", "title")
                try checkEqual(created.createdBy, creator, "createdBy")
                try checkEqual(created.lastSeq, 0, "lastSeq of a conversation without messages")
                let members = try await store.members(of: created.id, as: ids[0])
                try checkEqual(members.map(\.userID), ids, "members, ordered by user ID, duplicates ignored")
                try checkEqual(members.map(\.role), [.member, .member, .owner], "roles (the creator is the owner)")
                try check(members.allSatisfy { $0.conversationID == created.id }, "a member of another conversation")
            },

            Case("conversations", "groups and direct chats are hidden from non-members, channels are not") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "stranger")
                let (alice, bob, stranger) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(alice, [bob], title: "Secret")
                let direct = try await fixture.direct(alice, bob)
                let channel = try await fixture.channel(alice, title: "News")

                try checkEqual(try await store.conversation(group, as: bob).title, "Secret", "the group as a member")
                try await checkThrows(.notFound, "a group as a non-member") {
                    try await store.conversation(group, as: stranger)
                }
                try await checkThrows(.notFound, "a direct conversation as a third user") {
                    try await store.conversation(direct, as: stranger)
                }
                try checkEqual(try await store.conversation(channel, as: stranger).title, "News", "a channel as anyone")
                try await checkThrows(.notFound, "an unknown conversation") {
                    try await store.conversation(.random(), as: alice)
                }
                for (id, name) in [(group, "group"), (direct, "direct conversation"), (channel, "channel")] {
                    try await checkThrows(.notFound, "members of a \(name) as a non-member") {
                        try await store.members(of: id, as: stranger)
                    }
                }
                try await checkThrows(.notFound, "members of an unknown conversation") {
                    try await store.members(of: .random(), as: alice)
                }
            },

            Case("conversations", "only owners and admins rename, and never a direct conversation") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "member", "stranger")
                let (owner, admin, member, stranger) = (ids[0], ids[1], ids[2], ids[3])
                let group = try await fixture.group(owner, [member], title: "Old")
                let direct = try await fixture.direct(owner, member)
                _ = try await store.addMembers([admin], to: group, role: .admin, by: owner)

                let renamed = try await store.renameConversation(group, to: "New", by: owner)
                try checkEqual(renamed.title, "New", "title returned by an owner's rename")
                try checkEqual(try await store.conversation(group, as: member).title, "New", "title read back")
                let byAdmin = try await store.renameConversation(group, to: "Newer", by: admin)
                try checkEqual(byAdmin.title, "Newer", "title returned by an admin's rename")
                try await checkThrows(.forbidden, "a plain member renaming") {
                    try await store.renameConversation(group, to: "Mine", by: member)
                }
                try await checkThrows(.notFound, "a non-member renaming") {
                    try await store.renameConversation(group, to: "Theirs", by: stranger)
                }
                try await checkThrows(.invalidArgument, "renaming to an empty title") {
                    try await store.renameConversation(group, to: "", by: owner)
                }
                try await checkThrows(.invalidArgument, "renaming a direct conversation") {
                    try await store.renameConversation(direct, to: "Us", by: owner)
                }
                try checkEqual(try await store.conversation(direct, as: member).title, nil, "direct title")
                try checkEqual(try await store.conversation(group, as: owner).title, "Newer", "title after refusals")
                // A retried rename (the title it has) changes nothing and records no event; a plain member is still
                // refused.
                let before = try await store.latestPosition()
                let again = try await store.renameConversation(group, to: "Newer", by: owner)
                try checkEqual(again, byAdmin, "renaming to the same title")
                try checkEqual(try await store.latestPosition(), before, "latest position after the same title")
                try await checkThrows(.forbidden, "a plain member renaming to the same title") {
                    try await store.renameConversation(group, to: "Newer", by: member)
                }
                let updates = try await fixture.allEvents(for: member).filter { $0.kind == .conversationUpdated }
                try checkEqual(updates.map { $0.conversation?.title }, ["New", "Newer"], "conversationUpdated events")
            },

            Case("conversations", "the conversation list puts the most recently active first") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let first = try await fixture.group(alice, [bob], title: "First")
                let second = try await fixture.direct(alice, bob)
                let third = try await fixture.channel(bob, [alice], title: "Third")
                _ = try await fixture.group(bob, [carol], title: "Not alice's")
                try checkEqual(try await listed(store, alice), [third, second, first], "newest creation first")
                try await fixture.send("hello", from: bob, to: first)
                try checkEqual(try await listed(store, alice), [first, third, second], "after a message in the first")
                try await fixture.send("hi", from: alice, to: second)
                try checkEqual(try await listed(store, alice), [second, first, third], "after a message in the second")
            },

            Case("conversations", "a conversation summary has the last message, unread and member counts") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(alice, [bob, carol])
                try await fixture.send("one", from: bob, to: group)
                let two = try await fixture.send("two", from: bob, to: group)
                try await fixture.send("mine", from: alice, to: group)
                try await fixture.send("four", from: bob, to: group)
                let five = try await fixture.send("five", from: carol, to: group)
                _ = try await store.deleteMessage(two.id, by: bob)

                var summary = try checkNotNil(try await store.conversations(of: alice).first, "alice's summary")
                try checkEqual(summary.conversation.id, group, "conversation of the summary")
                try checkEqual(summary.conversation.lastSeq, 5, "lastSeq in the summary")
                try checkEqual(summary.role, .owner, "alice's role")
                try checkEqual(summary.lastMessage?.id, five.id, "last message")
                try checkEqual(summary.memberCount, 3, "member count")
                try checkEqual(summary.marker.readSeq, 0, "alice's read marker")
                try checkEqual(summary.unreadCount, 2, "unread count (only others' messages after her own)")

                _ = try await store.markRead(group, upTo: 4, by: alice)
                summary = try checkNotNil(try await store.conversations(of: alice).first, "alice's summary")
                try checkEqual(summary.marker.readSeq, 4, "alice's read marker after markRead")
                try checkEqual(summary.unreadCount, 1, "unread count after reading the fourth message")
                let bobs = try checkNotNil(try await store.conversations(of: bob).first, "bob's summary")
                try checkEqual(bobs.role, .member, "bob's role")
                try checkEqual(bobs.unreadCount, 1, "bob's unread count (carol's message after his own)")
                let carols = try checkNotNil(try await store.conversations(of: carol).first, "carol's summary")
                try checkEqual(carols.unreadCount, 0, "carol's unread count (her message is the last)")
            },
            Case("conversations", "a member's own message reads what came before it, deleted or not") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                try await fixture.send(count: 3, from: alice, to: group)
                func bobsUnread() async throws -> Int? {
                    try await store.conversations(of: bob).first { $0.conversation.id == group }?.unreadCount
                }
                try checkEqual(try await bobsUnread(), 3, "bob's unread count before he replies")
                let reply = try await fixture.send("a reply, from his other device", from: bob, to: group)
                try checkEqual(try await bobsUnread(), 0, "bob's unread count after his reply")
                try await fixture.send(count: 2, from: alice, to: group)
                try checkEqual(try await bobsUnread(), 2, "bob's unread count after two more")
                _ = try await store.deleteMessage(reply.id, by: bob)
                try checkEqual(try await bobsUnread(), 2, "bob's unread count after deleting his reply")
                try checkEqual(
                    try await store.markers(of: group, as: alice).first { $0.userID == bob }?.readSeq, 0,
                    "bob's read marker (a reply moves no marker)"
                )
            },
            Case("conversations", "a member joining starts with nothing unread; later messages count") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let group = try await fixture.group(alice, [carol])
                let channel = try await fixture.channel(alice)
                for conversation in [group, channel] { try await fixture.send(count: 4, from: alice, to: conversation) }
                _ = try await store.addMembers([bob], to: group, role: .member, by: alice)
                _ = try await store.joinChannel(channel, user: bob)
                for (conversation, name) in [(group, "the group"), (channel, "the channel")] {
                    let summary = try await store.conversations(of: bob).first { $0.conversation.id == conversation }
                    try checkEqual(summary?.unreadCount, 0, "bob's unread count in \(name) when he joins")
                    try checkEqual(summary?.marker.readSeq, 4, "bob's read marker in \(name) when he joins")
                    try checkEqual(summary?.marker.deliveredSeq, 4, "bob's delivered marker in \(name)")
                    try await fixture.send("after", from: alice, to: conversation)
                }
                // Leaving and joining again: what was sent while away is not unread either.
                try await store.removeMember(bob, from: channel, by: bob)
                try await fixture.send(count: 3, from: alice, to: channel)
                _ = try await store.joinChannel(channel, user: bob)
                try await fixture.send("after the rejoin", from: alice, to: channel)
                let counts = try await store.conversations(of: bob).reduce(into: [ConversationID: Int]()) {
                    $0[$1.conversation.id] = $1.unreadCount
                }
                try checkEqual(counts, [group: 1, channel: 1], "bob's unread counts after one message each")
            },
            Case("conversations", "who shares presence: members of direct conversations and small groups, no channel") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
                let (alice, bob, carol, dave, erin, frank, grace, heidi) =
                    (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7])
                _ = try await fixture.direct(alice, bob)
                _ = try await fixture.group(carol, [alice, dave])  // three members: shared with a limit of 3
                _ = try await fixture.group(alice, [erin, frank, grace])  // four: past the limit
                _ = try await fixture.channel(heidi, [alice])  // a channel: never
                let left = try await fixture.group(grace, [alice])
                try await store.removeMember(alice, from: left, by: alice)  // left: no longer
                _ = try await fixture.group(heidi, [grace])  // not hers
                try checkEqual(
                    try await store.membersSharingPresence(with: alice, maxGroupSize: 3), [alice, bob, carol, dave],
                    "who shares presence with alice, groups of at most 3"
                )
                try checkEqual(
                    try await store.membersSharingPresence(with: alice, maxGroupSize: 4),
                    [alice, bob, carol, dave, erin, frank, grace], "who shares presence with alice, groups of at most 4"
                )
                try checkEqual(
                    try await store.membersSharingPresence(with: heidi, maxGroupSize: 100), [heidi, grace],
                    "who shares presence with heidi (her channel's members do not)"
                )
                try checkEqual(
                    try await store.membersSharingPresence(with: alice, maxGroupSize: 1), [alice, bob],
                    "who shares presence with alice, groups of at most 1 (a direct conversation is not a group)"
                )
                try checkEqual(try await store.membersSharingPresence(with: "nobody", maxGroupSize: 100), [], "nobody")
            },
            Case("conversations", "memberships name the conversations the list has, with kinds and member counts") { store in
                // The default membersSharingPresence reads memberships (who shares presence): they must agree
                // with the conversation list, left conversations excluded.
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let direct = try await fixture.direct(alice, bob)
                let group = try await fixture.group(alice, [bob, carol])
                let channel = try await fixture.channel(carol, [alice])
                let left = try await fixture.group(bob, [alice])
                try await store.removeMember(alice, from: left, by: alice)
                let expected: Set<ConversationMembership> = [
                    ConversationMembership(conversationID: direct, kind: .direct, memberCount: 2),
                    ConversationMembership(conversationID: group, kind: .group, memberCount: 3),
                    ConversationMembership(conversationID: channel, kind: .channel, memberCount: 2),
                ]
                try checkEqual(Set(try await store.memberships(of: alice)), expected, "alice's memberships")
                let fromList = try await store.conversations(of: alice).map {
                    ConversationMembership(
                        conversationID: $0.conversation.id, kind: $0.conversation.kind, memberCount: $0.memberCount
                    )
                }
                try checkEqual(Set(fromList), expected, "alice's conversation list")
                try checkEqual(try await store.memberships(of: "nobody"), [], "memberships of an unknown user")
            },
            Case("conversations", "a summary's activity is its newest message's position, or its creation's") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let quiet = try await fixture.group(alice, [bob])
                let created = try await store.latestPosition()
                let busy = try await fixture.group(alice, [bob])
                try await fixture.send("hello", from: bob, to: busy)
                let sent = try await store.latestPosition()
                let list = try await store.conversations(of: alice)
                try checkEqual(list.map(\.conversation.id), [busy, quiet], "alice's list, newest activity first")
                try checkEqual(list.map(\.activity), [sent, created], "the activities: the message's, the creation's")
            },
            Case("conversations", "a direct conversation's summary names its other member; a group's none") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let direct = try await fixture.direct(alice, bob)
                let group = try await fixture.group(alice, [bob, carol])
                for (user, other) in [(alice, bob), (bob, alice)] {
                    let list = try await store.conversations(of: user)
                    try checkEqual(
                        list.first { $0.conversation.id == direct }?.otherMemberID, other,
                        "the other member of the direct conversation, in \(user)'s list"
                    )
                    try checkEqual(
                        list.first { $0.conversation.id == group }?.otherMemberID, nil, "the group's, in \(user)'s list"
                    )
                }
                let page = try await store.conversations(of: bob, before: nil, limit: 10)
                try checkEqual(
                    page.first { $0.conversation.id == direct }?.otherMemberID, alice, "in a page of bob's list"
                )
            },
            Case("conversations", "isMember answers for members now: not for others, the removed or unknown IDs") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(alice, [bob])
                let channel = try await fixture.channel(alice)
                try check(try await store.isMember(alice, of: group), "the owner is a member")
                try check(try await store.isMember(bob, of: group), "bob is a member")
                try check(!(try await store.isMember(carol, of: group)), "carol is not a member")
                try check(!(try await store.isMember(carol, of: channel)), "carol has not joined the channel")
                _ = try await store.joinChannel(channel, user: carol)
                try check(try await store.isMember(carol, of: channel), "carol joined the channel")
                try await store.removeMember(bob, from: group, by: alice)
                try check(!(try await store.isMember(bob, of: group)), "bob was removed")
                try check(!(try await store.isMember(alice, of: "no-such-conversation")), "an unknown conversation")
            },
            Case("conversations", "unread counts stop at the limit") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let limit = ConversationSummary.unreadCountLimit
                try await fixture.send(count: limit + 5, from: alice, to: group)
                var summary = try checkNotNil(try await store.conversations(of: bob).first, "bob's summary")
                try checkEqual(summary.unreadCount, limit, "bob's unread count of \(limit + 5) messages")
                _ = try await store.markRead(group, upTo: 6, by: bob)
                summary = try checkNotNil(try await store.conversations(of: bob).first, "bob's summary")
                try checkEqual(summary.unreadCount, limit - 1, "bob's unread count after reading six")
            },
            Case("conversations", "pages of the list hold every conversation once, in the list's order") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                var groups: [ConversationID] = []
                for _ in 0..<7 { groups.append(try await fixture.group(bob, [alice])) }
                // Activity reorders them: the oldest two get messages; one alice left drops out.
                try await fixture.send("late", from: bob, to: groups[0])
                try await fixture.send("later", from: alice, to: groups[1])
                try await store.removeMember(alice, from: groups[3], by: alice)
                let whole = try await store.conversations(of: alice)
                try checkEqual(whole.count, 6, "alice's conversations")
                try checkEqual(
                    Array(whole.prefix(2).map(\.conversation.id)), [groups[1], groups[0]], "the active ones first"
                )
                try checkEqual(whole.map(\.activity), whole.map(\.activity).sorted(by: >), "activities, descending")

                var paged: [ConversationSummary] = []
                var before: StreamPosition?
                while true {
                    let page = try await store.conversations(of: alice, before: before, limit: 4)
                    guard let last = page.last else { break }
                    try check(page.count <= 4, "a page holds at most its limit (\(page.count))")
                    paged += page
                    before = last.activity
                }
                try checkEqual(paged, whole, "the pages, joined")
                try checkEqual(
                    try await store.conversations(of: alice, before: whole[2].activity, limit: 2),
                    Array(whole[3...4]), "the page before the third conversation"
                )
                try checkEqual(
                    try await store.conversations(of: alice, before: nil, limit: 0), [], "a page of none"
                )
                try checkEqual(
                    try await store.conversations(of: alice, before: .start, limit: 10), [], "a page before the start"
                )
                try checkEqual(try await store.conversations(of: "nobody", before: nil, limit: 10), [], "nobody's")
                try await checkThrows(.invalidArgument, "a negative limit") {
                    try await store.conversations(of: alice, before: nil, limit: -1)
                }
            },
            Case("conversations", "only messages move a conversation up the list: not receipts, reactions or renames") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let first = try await fixture.group(alice, [bob], title: "First")
                let second = try await fixture.group(alice, [bob], title: "Second")
                let message = try await fixture.send("in the first", from: alice, to: first)
                try await fixture.send("in the second", from: bob, to: second)
                let before = try await store.conversations(of: alice)
                try checkEqual(before.map(\.conversation.id), [second, first], "the list after the messages")
                _ = try await store.markRead(first, upTo: 1, by: bob)
                _ = try await store.addReaction("👍", to: message.id, by: bob)
                _ = try await store.renameConversation(first, to: "First, renamed", by: alice)
                let after = try await store.conversations(of: alice)
                try checkEqual(
                    after.map(\.conversation.id), [second, first], "the list after a receipt, a reaction, a rename"
                )
                try checkEqual(after.map(\.activity), before.map(\.activity), "the conversations' activity")
                let page = try await store.conversations(of: alice, before: after[0].activity, limit: 10)
                try checkEqual(page.map(\.conversation.id), [first], "the page after the first conversation")
            },

            Case("conversations", "a summary's last message is the newest message as it is now, edited or deleted") {
                store in
                // A store that copies the last message into the conversation when appending would go on showing its
                // old text, deleted text included.
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let older = try await fixture.group(alice, [bob], title: "Older")
                let olderNewest = try await fixture.send("older news", from: bob, to: older)
                let group = try await fixture.group(alice, [bob])
                _ = try await fixture.send("first", from: alice, to: group)
                let last = try await fixture.send("draft", from: alice, to: group)
                func summary() async throws -> ConversationSummary {
                    try checkNotNil(
                        try await store.conversations(of: alice).first { $0.conversation.id == group }, "the summary"
                    )
                }
                let before = try await summary()
                _ = try await store.editMessage(last.id, body: "final", by: alice)
                var now = try await summary()
                try checkEqual(now.lastMessage, try await store.message(last.id, as: alice), "the last message, edited")
                try checkEqual(now.lastMessage?.body, "final", "the edited last message's body")
                _ = try await store.addReaction("👍", to: last.id, by: bob)
                now = try await summary()
                try checkEqual(
                    now.lastMessage, try await store.message(last.id, as: alice), "the last message, reacted to"
                )
                _ = try await store.deleteMessage(last.id, by: alice)
                now = try await summary()
                try checkEqual(now.lastMessage?.id, last.id, "the last message once deleted: its tombstone")
                try check(now.lastMessage?.isDeleted == true, "the deleted last message is not a tombstone")
                try checkEqual(now.lastMessage?.body, "", "the deleted last message's body")
                try checkEqual(now.lastMessage?.reactions, [], "the deleted last message's reactions")
                try checkEqual(now.activity, before.activity, "activity after an edit, a reaction and a deletion")
                let page = try await store.conversations(of: alice, before: nil, limit: 10)
                try checkEqual(page.first { $0.conversation.id == group }, now, "the summary in a page of the list")
                // Nor do edits and deletions move an older conversation up.
                _ = try await store.editMessage(olderNewest.id, body: "older news, corrected", by: bob)
                _ = try await store.deleteMessage(olderNewest.id, by: bob)
                try checkEqual(try await listed(store, alice), [group, older], "the list after changes in the older")
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
        ]
    }
}

/// The IDs of `user`'s conversation list, in its order.
private func listed(_ store: any ChatStore, _ user: UserID) async throws -> [ConversationID] {
    try await store.conversations(of: user).map(\.conversation.id)
}
