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
    static var membershipCases: [Case] {
        [
            Case("membership", "owners add members and admins, admins add members") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "member", "newcomer")
                let (owner, admin, member, newcomer) = (ids[0], ids[1], ids[2], ids[3])
                let group = try await fixture.group(owner, [])
                let added = try await store.addMembers([admin], to: group, role: .admin, by: owner)
                try checkEqual(added.map(\.userID), [admin], "users in the owner's addMembers result")
                try checkEqual(added.map(\.role), [.admin], "role given by the owner")
                let byAdmin = try await store.addMembers([member, newcomer], to: group, role: .member, by: admin)
                try checkEqual(Set(byAdmin.map(\.userID)), [member, newcomer], "users in the admin's result")
                try check(byAdmin.allSatisfy { $0.role == .member }, "the admin's additions are not all members")
                try checkEqual(try await roles(store, group, as: newcomer), [
                    owner: .owner, admin: .admin, member: .member, newcomer: .member,
                ], "members after the additions")
            },

            Case("membership", "the member count follows additions, joins and removals") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "member", "joiner")
                let (owner, member, joiner) = (ids[0], ids[1], ids[2])
                let missing = ConversationID(rawValue: "missing")
                try checkEqual(try await store.memberCount(of: missing), 0, "members of no conversation")
                let group = try await fixture.group(owner, [member])
                try checkEqual(try await store.memberCount(of: group), 2, "members of a new group")
                let channel = try await store.createConversation(
                    NewConversation(kind: .channel, title: "Open", createdBy: owner, memberIDs: [])
                ).id
                try checkEqual(try await store.memberCount(of: channel), 1, "members of a new channel")
                _ = try await store.joinChannel(channel, user: joiner)
                _ = try await store.joinChannel(channel, user: joiner)
                _ = try await store.addMembers([member, joiner], to: channel, role: .member, by: owner)
                try checkEqual(try await store.memberCount(of: channel), 3, "after two joins and an addition")
                try await store.removeMember(joiner, from: channel, by: joiner)
                try checkEqual(try await store.memberCount(of: channel), 2, "after a member left")
                try checkEqual(
                    try await store.memberCount(of: channel), try await store.memberIDs(of: channel).count,
                    "the count against the member IDs"
                )
            },

            Case("membership", "plain members add no one, admins add no admins, and no one adds owners") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "member", "newcomer", "stranger")
                let (owner, admin, member, newcomer, stranger) = (ids[0], ids[1], ids[2], ids[3], ids[4])
                let group = try await fixture.group(owner, [member])
                _ = try await store.addMembers([admin], to: group, role: .admin, by: owner)
                try await checkThrows(.forbidden, "a plain member adding a member") {
                    try await store.addMembers([newcomer], to: group, role: .member, by: member)
                }
                try await checkThrows(.forbidden, "an admin adding an admin") {
                    try await store.addMembers([newcomer], to: group, role: .admin, by: admin)
                }
                try await checkThrows(.invalidArgument, "an owner adding an owner") {
                    try await store.addMembers([newcomer], to: group, role: .owner, by: owner)
                }
                try await checkThrows(.notFound, "a non-member adding a member") {
                    try await store.addMembers([newcomer], to: group, role: .member, by: stranger)
                }
                try await checkThrows(.notFound, "adding an unknown user") {
                    try await store.addMembers([.random()], to: group, role: .member, by: owner)
                }
                try await checkThrows(.notFound, "adding to an unknown conversation") {
                    try await store.addMembers([newcomer], to: .random(), role: .member, by: owner)
                }
                try checkEqual(try await roles(store, group, as: owner).count, 3, "member count after the refusals")
            },
            Case("membership", "an addition naming one unknown user among others adds no one and records nothing") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "newcomer", "other")
                let (owner, newcomer, other) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(owner, [])
                _ = try await fixture.send("before", from: owner, to: group)
                let before = try await store.latestPosition()
                // The server answers the whole request with the error: it must not have added anyone (their
                // presence would not be introduced, nor the addition answered).
                try await checkThrows(.notFound, "adding two users and one unknown user") {
                    try await store.addMembers([newcomer, .random(), other], to: group, role: .member, by: owner)
                }
                try checkEqual(try await store.latestPosition(), before, "the stream after the refused addition")
                try checkEqual(try await roles(store, group, as: owner).count, 1, "members after the refused addition")
                try checkEqual(try await store.memberCount(of: group), 1, "memberCount after the refused addition")
                for user in [newcomer, other] {
                    try await checkThrows(.notFound, "history read by a user the refused addition named") {
                        try await store.messages(in: group, .latest(), as: user)
                    }
                }
            },

            Case("membership", "adding existing members leaves them unchanged and records nothing for them") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "member", "newcomer")
                let (owner, member, newcomer) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(owner, [member])
                let added = try await store.addMembers([member, newcomer, owner], to: group, role: .admin, by: owner)
                let returned = Dictionary(added.map { ($0.userID, $0.role) }, uniquingKeysWith: { first, _ in first })
                try checkEqual(returned, [owner: .owner, member: .member, newcomer: .admin], "returned memberships")
                let events = try await fixture.allEvents(for: owner).filter { $0.kind == .membersAdded }
                try checkEqual(events.count, 1, "membersAdded events")
                try checkEqual(events.first?.members?.map(\.userID), [newcomer], "users in the membersAdded event")

                let before = try await store.latestPosition()
                let again = try await store.addMembers([member, newcomer], to: group, role: .member, by: owner)
                try checkEqual(Set(again.map(\.role)), [.member, .admin], "roles after adding everyone again")
                try checkEqual(try await store.latestPosition(), before, "latest position after a no-op addMembers")
                try checkEqual(try await roles(store, group, as: owner), [
                    owner: .owner, member: .member, newcomer: .admin,
                ], "members after the repeated addition")
            },

            Case("membership", "anyone may join a channel but not a group") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "joiner")
                let (owner, joiner) = (ids[0], ids[1])
                let channel = try await fixture.channel(owner)
                let group = try await fixture.group(owner, [])
                let joined = try await store.joinChannel(channel, user: joiner)
                try checkEqual(joined.userID, joiner, "user of the new membership")
                try checkEqual(joined.role, .member, "role of a user who joined")
                try checkEqual(try await roles(store, channel, as: joiner), [owner: .owner, joiner: .member], "members")

                let before = try await store.latestPosition()
                try checkEqual(try await store.joinChannel(channel, user: joiner), joined, "joining again")
                try checkEqual(try await store.joinChannel(channel, user: owner).role, .owner, "the owner joining")
                try checkEqual(try await store.latestPosition(), before, "latest position after joining again")

                try await checkThrows(.notFound, "joining a group") {
                    try await store.joinChannel(group, user: joiner)
                }
                try await checkThrows(.notFound, "joining an unknown conversation") {
                    try await store.joinChannel(.random(), user: joiner)
                }
                try await checkThrows(.notFound, "reading a group one tried to join") {
                    try await store.members(of: group, as: joiner)
                }
            },

            Case("membership", "admins remove plain members but not owners or other admins") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "admin2", "member", "member2", "stranger")
                let (owner, admin, admin2, member, member2, stranger) = (ids[0], ids[1], ids[2], ids[3], ids[4], ids[5])
                let group = try await fixture.group(owner, [member, member2])
                _ = try await store.addMembers([admin, admin2], to: group, role: .admin, by: owner)

                try await store.removeMember(member, from: group, by: admin)
                try await checkThrows(.forbidden, "an admin removing an admin") {
                    try await store.removeMember(admin2, from: group, by: admin)
                }
                try await checkThrows(.forbidden, "an admin removing the owner") {
                    try await store.removeMember(owner, from: group, by: admin)
                }
                try await checkThrows(.forbidden, "a plain member removing another") {
                    try await store.removeMember(admin, from: group, by: member2)
                }
                try await checkThrows(.notFound, "a non-member removing a member") {
                    try await store.removeMember(member2, from: group, by: stranger)
                }
                try await checkThrows(.notFound, "removing a user who is not a member") {
                    try await store.removeMember(stranger, from: group, by: owner)
                }
                try await store.removeMember(admin2, from: group, by: owner)
                try checkEqual(try await roles(store, group, as: owner), [
                    owner: .owner, admin: .admin, member2: .member,
                ], "members after the removals")
            },

            Case("membership", "the last owner cannot leave, other members can") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "member")
                let (owner, admin, member) = (ids[0], ids[1], ids[2])
                let channel = try await fixture.channel(owner, [member])
                _ = try await store.addMembers([admin], to: channel, role: .admin, by: owner)

                try await checkThrows(.conflict, "the last owner leaving") {
                    try await store.removeMember(owner, from: channel, by: owner)
                }
                try await store.removeMember(member, from: channel, by: member)
                try await store.removeMember(admin, from: channel, by: admin)
                try checkEqual(try await roles(store, channel, as: owner), [owner: .owner], "members after two left")

                _ = try await store.joinChannel(channel, user: member)
                _ = try await store.setRole(.owner, of: member, in: channel, by: owner)
                try await store.removeMember(owner, from: channel, by: owner)
                try checkEqual(try await roles(store, channel, as: member), [member: .owner], "after the owner left")
            },

            Case("membership", "a direct conversation's membership never changes") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let direct = try await fixture.direct(alice, bob)
                try await checkThrows(.invalidArgument, "adding a member to a direct conversation") {
                    try await store.addMembers([carol], to: direct, role: .member, by: alice)
                }
                try await checkThrows(.invalidArgument, "removing the other user of a direct conversation") {
                    try await store.removeMember(bob, from: direct, by: alice)
                }
                try await checkThrows(.invalidArgument, "leaving a direct conversation") {
                    try await store.removeMember(alice, from: direct, by: alice)
                }
                try await checkThrows(.invalidArgument, "changing a role in a direct conversation") {
                    try await store.setRole(.admin, of: bob, in: direct, by: alice)
                }
                try await checkThrows(.notFound, "a third user joining a direct conversation") {
                    try await store.joinChannel(direct, user: carol)
                }
                let members = try await store.members(of: direct, as: alice)
                try checkEqual(members.map(\.userID), [alice, bob].sorted(), "members after the refusals")
            },

            Case("membership", "only owners change roles, and setting the same role records nothing") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "admin", "member")
                let (owner, admin, member) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(owner, [member])
                _ = try await store.addMembers([admin], to: group, role: .admin, by: owner)

                try await checkThrows(.forbidden, "an admin changing a role") {
                    try await store.setRole(.admin, of: member, in: group, by: admin)
                }
                try await checkThrows(.forbidden, "a plain member promoting themselves") {
                    try await store.setRole(.owner, of: member, in: group, by: member)
                }
                try await checkThrows(.invalidArgument, "an unknown role") {
                    try await store.setRole(MemberRole(rawValue: "moderator"), of: member, in: group, by: owner)
                }
                try await checkThrows(.notFound, "the role of a non-member") {
                    try await store.setRole(.admin, of: .random(), in: group, by: owner)
                }
                let promoted = try await store.setRole(.admin, of: member, in: group, by: owner)
                try checkEqual(promoted.userID, member, "user of the returned membership")
                try checkEqual(promoted.role, .admin, "role returned by setRole")
                let before = try await store.latestPosition()
                try checkEqual(try await store.setRole(.admin, of: member, in: group, by: owner), promoted, "same role")
                try checkEqual(try await store.latestPosition(), before, "latest position after setting the same role")
                let changes = try await fixture.allEvents(for: admin).filter { $0.kind == .memberRoleChanged }
                try checkEqual(changes.count, 1, "memberRoleChanged events")
                try checkEqual(changes.first?.members?.map(\.role), [.admin], "role in the memberRoleChanged event")
                try checkEqual(try await roles(store, group, as: member), [
                    owner: .owner, admin: .admin, member: .admin,
                ], "members after the role change")
            },

            Case("membership", "the last owner cannot be demoted") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "member")
                let (owner, member) = (ids[0], ids[1])
                let group = try await fixture.group(owner, [member])
                try await checkThrows(.conflict, "the last owner demoting themselves") {
                    try await store.setRole(.member, of: owner, in: group, by: owner)
                }
                _ = try await store.setRole(.owner, of: member, in: group, by: owner)
                let steppedDown = try await store.setRole(.admin, of: owner, in: group, by: owner)
                try checkEqual(steppedDown.role, .admin, "an owner stepping down while another owner remains")
                try await checkThrows(.conflict, "the new last owner demoting themselves") {
                    try await store.setRole(.member, of: member, in: group, by: member)
                }
                try checkEqual(try await roles(store, group, as: member), [owner: .admin, member: .owner], "roles")
            },

            Case("membership", "a removed member reads, posts and receives nothing more") { store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "member")
                let (owner, member) = (ids[0], ids[1])
                let group = try await fixture.group(owner, [member])
                try await fixture.send("before", from: owner, to: group)
                try await store.removeMember(member, from: group, by: owner)
                try await fixture.send("after", from: owner, to: group)
                _ = try await store.renameConversation(group, to: "Renamed", by: owner)

                try await checkThrows(.notFound, "members as a removed member") {
                    try await store.members(of: group, as: member)
                }
                try await checkThrows(.notFound, "the conversation as a removed member") {
                    try await store.conversation(group, as: member)
                }
                try await checkThrows(.notFound, "history as a removed member") {
                    try await store.messages(in: group, .latest(), as: member)
                }
                try await checkThrows(.notFound, "posting as a removed member") {
                    try await fixture.send("let me in", from: member, to: group)
                }
                try checkEqual(try await store.conversations(of: member), [], "a removed member's conversation list")

                let seen = try await fixture.allEvents(for: member).filter { $0.conversationID == group }
                try checkEqual(seen.map(\.kind), [.conversationCreated, .messageCreated, .memberRemoved], "events seen")
                try checkEqual(seen.last?.members?.map(\.userID), [member], "user in the memberRemoved event")
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

            Case("membership", "both users of a direct conversation are plain members, who delete only their own") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let roles = try await store.members(of: chat, as: bob).map(\.role)
                try checkEqual(roles, [.member, .member], "the roles of its members")
                let creation = try await fixture.allEvents(for: bob).first { $0.kind == .conversationCreated }
                try checkEqual(
                    creation?.members?.map(\.role), [.member, .member], "the roles in its conversationCreated event"
                )
                let summary = try await store.conversations(of: alice).first
                try checkEqual(summary?.role, .member, "the creator's summary role")
                let fromBob = try await fixture.send("mine", from: bob, to: chat)
                try await checkThrows(.forbidden, "the creator deleting the other user's message") {
                    try await store.deleteMessage(fromBob.id, by: alice)
                }
            },

            Case("membership", "role changes, removals, renames of an unknown or hidden conversation are not found") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("owner", "member", "stranger")
                let (owner, member, stranger) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(owner, [member])
                try await checkThrows(.notFound, "a role change by a non-member of a group") {
                    try await store.setRole(.admin, of: member, in: group, by: stranger)
                }
                try await checkThrows(.notFound, "a removal by a non-member of a group") {
                    try await store.removeMember(member, from: group, by: stranger)
                }
                try await checkThrows(.notFound, "a rename by a non-member of a group") {
                    try await store.renameConversation(group, to: "Mine", by: stranger)
                }
                let unknown: ConversationID = "no-such-conversation"
                try await checkThrows(.notFound, "a role change in an unknown conversation") {
                    try await store.setRole(.admin, of: member, in: unknown, by: owner)
                }
                try await checkThrows(.notFound, "a removal from an unknown conversation") {
                    try await store.removeMember(member, from: unknown, by: owner)
                }
                try await checkThrows(.notFound, "a rename of an unknown conversation") {
                    try await store.renameConversation(unknown, to: "x", by: owner)
                }
                try await checkThrows(.notFound, "an unknown user joining a channel") {
                    try await store.joinChannel(try await fixture.channel(owner), user: "no-such-user")
                }
                try checkEqual(
                    Set(try await store.members(of: group, as: owner).map(\.role)), [.member, .owner], "roles after"
                )
            },

            Case("membership", "titles and reactions of white space alone are refused like empty ones") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                for blank in ["   ", "\n\t"] {
                    try await checkThrows(.invalidArgument, "a group titled \(blank.debugDescription)") {
                        try await store.createConversation(.group(blank, createdBy: alice, members: [bob]))
                    }
                    try await checkThrows(.invalidArgument, "a channel titled \(blank.debugDescription)") {
                        try await store.createConversation(.channel(blank, createdBy: alice))
                    }
                }
                let group = try await fixture.group(alice, [bob])
                let message = try await fixture.send("hello", from: alice, to: group)
                for blank in ["   ", "\n\t"] {
                    try await checkNoEvent(store, "a rename to \(blank.debugDescription)") {
                        try await checkThrows(.invalidArgument, "a rename to \(blank.debugDescription)") {
                            try await store.renameConversation(group, to: blank, by: alice)
                        }
                    }
                    try await checkNoEvent(store, "a reaction \(blank.debugDescription)") {
                        try await checkThrows(.invalidArgument, "a reaction \(blank.debugDescription)") {
                            try await store.addReaction(blank, to: message.id, by: bob)
                        }
                    }
                }
                try checkEqual(try await store.conversation(group, as: bob).title, "Group", "the title after")
            },
        ]
    }
}

/// The members of a conversation as `user` sees them, as user ID to role.
private func roles(_ store: any ChatStore, _ id: ConversationID, as user: UserID) async throws
    -> [UserID: MemberRole]
{
    let members = try await store.members(of: id, as: user)
    return Dictionary(members.map { ($0.userID, $0.role) }, uniquingKeysWith: { first, _ in first })
}
