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
    static var messageCases: [Case] {
        [
            Case("messages", "append assigns seq 1, 2, 3 and keeps every field") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let first = try await fixture.send("first", from: alice, to: chat)
                let attachment = Attachment(
                    id: "blob-1", fileName: "cat.png", contentType: "image/png", byteCount: 2048, width: 64, height: 48
                )
                let second = try await store.append(
                    NewMessage(
                        conversationID: chat, senderID: bob, clientMessageID: "bob-1", body: "second",
                        replyTo: first.id, mentions: [alice], attachments: [attachment]
                    )
                )
                let third = try await fixture.send("third", from: alice, to: chat)
                try checkEqual([first.seq, second.seq, third.seq], [1, 2, 3], "seqs of three appends")
                try checkEqual(second.conversationID, chat, "conversation ID")
                try checkEqual(second.senderID, bob, "sender")
                try checkEqual(second.clientMessageID, "bob-1", "client message ID")
                try checkEqual(second.body, "second", "body")
                try checkEqual(second.replyTo, first.id, "replyTo")
                try checkEqual(second.mentions, [alice], "mentions")
                try checkEqual(second.attachments, [attachment], "attachments")
                try check(second.editedAt == nil && second.deletedAt == nil, "a new message is neither edited nor deleted")
                try checkEqual(try await store.message(second.id, as: alice), second, "message(id) after append")
                try checkEqual(Set([first.id, second.id, third.id]).count, 3, "distinct message IDs")
            },
            Case("messages", "a resend with the same client message ID returns the first message") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let first = try await fixture.send("hello", from: alice, to: chat, clientMessageID: "c-1")
                let before = try await store.latestPosition()
                let again = try await fixture.send("hello, changed", from: alice, to: chat, clientMessageID: "c-1")
                try checkEqual(again, first, "the resend's result")
                try checkEqual(try await store.latestPosition(), before, "latest position after a resend (no new event)")
                let history = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(history.map(\.body), ["hello"], "history after a resend")
                let next = try await fixture.send("next", from: alice, to: chat)
                try checkEqual(next.seq, 2, "seq of the message after a resend")
            },
            Case("messages", "append(contentsOf:) appends in order with each message's own outcome") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let carol = try await fixture.user("carol")
                let elsewhere = try await fixture.direct(bob, carol)
                func new(_ body: String, _ key: String, to conversation: ConversationID? = nil) -> NewMessage {
                    NewMessage(
                        conversationID: conversation ?? chat, senderID: alice, clientMessageID: ClientMessageID(rawValue: key),
                        body: body
                    )
                }
                let outcomes = await store.append(contentsOf: [
                    new("one", "k-1"),
                    new("", "k-2"),  // no body and no attachment
                    new("two", "k-3"),
                    new("one, resent", "k-1"),  // a resend within the same call
                    new("not a member", "k-4", to: elsewhere),
                    new("three", "k-5"),
                ])
                try checkEqual(outcomes.count, 6, "one outcome per message")
                let stored = outcomes.compactMap { try? $0.get() }
                try checkEqual(stored.map(\.body), ["one", "two", "one", "three"], "the stored messages, in order")
                try checkEqual(stored.map(\.seq), [1, 2, 1, 3], "their seqs (the resend returns the first)")
                try checkEqual(stored[2], stored[0], "the resend's outcome")
                func code(_ outcome: Result<Message, any Error>) -> ChatError.Code? {
                    guard case .failure(let error) = outcome else { return nil }
                    return (error as? ChatError)?.code
                }
                try checkEqual(code(outcomes[1]), .invalidArgument, "the empty message's outcome")
                try checkEqual(code(outcomes[4]), .notFound, "the outcome of a message to a conversation not joined")
                let history = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(history.map(\.body), ["one", "two", "three"], "history")
                try checkEqual(await store.append(contentsOf: []).count, 0, "nothing appended for no messages")
            },
            Case("messages", "a resend after an edit returns the message as it is now") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let first = try await fixture.send("draft", from: alice, to: chat, clientMessageID: "c-1")
                let edited = try await store.editMessage(first.id, body: "final", by: alice)
                let again = try await fixture.send("draft", from: alice, to: chat, clientMessageID: "c-1")
                try checkEqual(again, edited, "the resend's result")
            },
            Case("messages", "a resend from a sender removed since returns the message; a new message is not found") {
                store in
                let fixture = StoreFixture(store)
                let ids = try await fixture.users("alice", "bob", "carol")
                let (alice, bob, carol) = (ids[0], ids[1], ids[2])
                let group = try await fixture.group(alice, [bob, carol])
                let other = try await fixture.group(alice, [bob])
                let sent = try await fixture.send("before", from: bob, to: group, clientMessageID: "b-1")
                let elsewhere = try await fixture.send("elsewhere", from: bob, to: other, clientMessageID: "b-2")
                try await store.removeMember(bob, from: group, by: alice)
                // What members do with it after is not bob's to see.
                _ = try await store.addReaction("👍", to: sent.id, by: carol)
                let reacted = try await store.addReaction("👍", to: elsewhere.id, by: alice)
                let before = try await store.latestPosition()
                // Its answer was lost: bob's client sends it again.
                let again = try await fixture.send("before", from: bob, to: group, clientMessageID: "b-1")
                try checkEqual(again, sent, "the resend's result (without carol's reaction)")
                let batch = await store.append(contentsOf: [
                    NewMessage(conversationID: group, senderID: bob, clientMessageID: "b-1", body: "before"),
                    NewMessage(conversationID: group, senderID: bob, clientMessageID: "b-3", body: "after"),
                    NewMessage(conversationID: group, senderID: bob, clientMessageID: "b-2", body: "reused"),
                ])
                try checkEqual(try batch[0].get(), sent, "the resend's result in a batch (without carol's reaction)")
                let member = try await fixture.send("elsewhere", from: bob, to: other, clientMessageID: "b-2")
                try checkEqual(member, reacted, "a member's resend, reactions and all")
                try await checkThrows(.notFound, "a new message from the removed sender") { try batch[1].get() }
                try await checkThrows(.notFound, "a key of another conversation from the removed sender") {
                    try batch[2].get()
                }
                try checkEqual(try await store.latestPosition(), before, "latest position after the resends")
                try checkEqual(
                    try await store.messages(in: group, .latest(), as: carol).map(\.body), ["before"], "the history"
                )
            },
            Case("messages", "the same client message ID from two senders makes two messages") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let fromAlice = try await fixture.send("a", from: alice, to: chat, clientMessageID: "same")
                let fromBob = try await fixture.send("b", from: bob, to: chat, clientMessageID: "same")
                try check(fromAlice.id != fromBob.id, "two senders' messages with one client ID got the same message")
                try checkEqual(fromBob.seq, 2, "seq of the second sender's message")
            },
            Case("messages", "reusing a client message ID in another conversation is a conflict") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let group = try await fixture.group(alice, [bob])
                try await fixture.send("one", from: alice, to: chat, clientMessageID: "c-1")
                try await checkThrows(.conflict, "append with a client ID used in another conversation") {
                    try await fixture.send("two", from: alice, to: group, clientMessageID: "c-1")
                }
                try checkEqual(try await store.messages(in: group, .latest(), as: alice), [], "the other conversation")
                // Refused in the store, after the conversation was found: it must not have used a seq.
                let next = try await fixture.send("three", from: alice, to: group)
                try checkEqual(next.seq, 1, "seq of the first message after the conflict (refusals use no seq)")
            },
            Case("messages", "a message needs a body or an attachment, and a client message ID") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await checkThrows(.invalidArgument, "append with an empty body and no attachment") {
                    try await fixture.send("", from: alice, to: chat)
                }
                try await checkThrows(.invalidArgument, "append with an empty client message ID") {
                    try await fixture.send("hi", from: alice, to: chat, clientMessageID: "")
                }
                let file = Attachment(id: "f", fileName: "a.pdf", contentType: "application/pdf", byteCount: 1)
                let onlyFile = try await store.append(
                    NewMessage(conversationID: chat, senderID: alice, body: "", attachments: [file])
                )
                try checkEqual(onlyFile.seq, 1, "seq of an attachment-only message (rejected sends use no seq)")
            },
            Case("messages", "appending to an unknown conversation or as a non-member is not found") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let mallory = try await fixture.user("mallory")
                let chat = try await fixture.direct(alice, bob)
                try await checkThrows(.notFound, "append to a conversation that does not exist") {
                    try await fixture.send("hi", from: alice, to: "no-such-conversation")
                }
                try await checkThrows(.notFound, "append by a non-member") {
                    try await fixture.send("let me in", from: mallory, to: chat)
                }
                try checkEqual(try await store.messages(in: chat, .latest(), as: alice), [], "history after refusals")
            },
            Case("messages", "a reply must refer to a message of the same conversation") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let group = try await fixture.group(alice, [bob])
                let elsewhere = try await fixture.send("elsewhere", from: alice, to: group)
                try await checkThrows(.invalidArgument, "a reply to a message of another conversation") {
                    try await fixture.send("re", from: alice, to: chat, replyTo: elsewhere.id)
                }
                try await checkThrows(.invalidArgument, "a reply to a message that does not exist") {
                    try await fixture.send("re", from: alice, to: chat, replyTo: "no-such-message")
                }
                // Refused in the store, after the conversation was found: neither may have used a seq.
                let first = try await fixture.send("first", from: alice, to: chat)
                let reply = try await fixture.send("re", from: bob, to: chat, replyTo: first.id)
                try checkEqual([first.seq, reply.seq], [1, 2], "seqs after the refused replies (refusals use no seq)")
                try checkEqual(reply.replyTo, first.id, "the reply's message")
            },
            Case("messages", "message(id) is not found for non-members and unknown IDs") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let mallory = try await fixture.user("mallory")
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("secret", from: alice, to: chat)
                try await checkThrows(.notFound, "message(id) as a non-member") {
                    try await store.message(message.id, as: mallory)
                }
                try await checkThrows(.notFound, "message(id) of an unknown ID") {
                    try await store.message("no-such-message", as: alice)
                }
            },
            Case("messages", "an edit replaces the body, sets editedAt and keeps the seq") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let original = try await fixture.send("teh typo", from: alice, to: chat)
                let edited = try await store.editMessage(original.id, body: "the typo", by: alice)
                try checkEqual(edited.body, "the typo", "edited body")
                try checkEqual(edited.seq, original.seq, "seq after an edit")
                try checkEqual(edited.id, original.id, "ID after an edit")
                try check(edited.editedAt != nil, "editedAt is not set after an edit")
                try checkEqual(try await store.message(original.id, as: bob), edited, "message(id) after an edit")
            },
            Case("messages", "an edit to the body the message has records nothing; another form of it is an edit") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let original = try await fixture.send("caf\u{E9}", from: alice, to: chat)
                let before = try await store.latestPosition()
                let same = try await store.editMessage(original.id, body: "caf\u{E9}", by: alice)
                try checkEqual(same, original, "the message after an edit to its own body")
                try checkEqual(try await store.latestPosition(), before, "latest position after an edit to the same")
                // "e" and a combining accent: equal as Swift strings, different bytes, stored as sent.
                let decomposed = try await store.editMessage(original.id, body: "cafe\u{301}", by: alice)
                try check(decomposed.editedAt != nil, "editedAt is not set after an edit to another form")
                try check(
                    Array(decomposed.body.utf8) == Array("cafe\u{301}".utf8), "the other form was not stored as sent"
                )
                try check(try await store.latestPosition() > before, "an edit to another form recorded no event")
            },
            Case("messages", "only the sender may edit, and not a deleted message") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let message = try await fixture.send("mine", from: bob, to: group)
                try await checkThrows(.forbidden, "an owner editing someone else's message") {
                    try await store.editMessage(message.id, body: "yours", by: alice)
                }
                try await checkThrows(.invalidArgument, "an edit to an empty body") {
                    try await store.editMessage(message.id, body: "", by: bob)
                }
                _ = try await store.deleteMessage(message.id, by: bob)
                try await checkThrows(.conflict, "editing a deleted message") {
                    try await store.editMessage(message.id, body: "back", by: bob)
                }
            },
            Case("messages", "a delete leaves a tombstone with the same ID and seq") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send("one", from: alice, to: chat)
                let file = Attachment(id: "f", fileName: "a.txt", contentType: "text/plain", byteCount: 3)
                let doomed = try await store.append(
                    NewMessage(conversationID: chat, senderID: alice, body: "two", mentions: [bob], attachments: [file])
                )
                _ = try await store.addReaction("👍", to: doomed.id, by: bob)
                try await fixture.send("three", from: alice, to: chat)
                let tombstone = try await store.deleteMessage(doomed.id, by: alice)
                try check(tombstone.isDeleted, "the deleted message is not marked deleted")
                try checkEqual(tombstone.body, "", "body of a tombstone")
                try checkEqual(tombstone.attachments, [], "attachments of a tombstone")
                try checkEqual(tombstone.mentions, [], "mentions of a tombstone")
                try checkEqual(tombstone.reactions, [], "reactions of a tombstone")
                try checkEqual(tombstone.seq, doomed.seq, "seq of a tombstone")
                let history = try await store.messages(in: chat, .latest(), as: bob)
                try checkEqual(history.map(\.seq), [1, 2, 3], "seqs in history after a delete (no gap)")
                try checkEqual(history[1], tombstone, "the tombstone in history")
            },
            Case("messages", "the sender, owners and admins may delete; other members may not") { store in
                let fixture = StoreFixture(store)
                let (owner, admin) = try await fixture.pair()
                let (member, other) = (try await fixture.user("member"), try await fixture.user("other"))
                let group = try await fixture.group(owner, [member, other])
                _ = try await store.addMembers([admin], to: group, role: .admin, by: owner)
                let first = try await fixture.send("1", from: member, to: group)
                let second = try await fixture.send("2", from: member, to: group)
                let third = try await fixture.send("3", from: member, to: group)
                try await checkThrows(.forbidden, "a plain member deleting another member's message") {
                    try await store.deleteMessage(first.id, by: other)
                }
                try check(try await store.deleteMessage(first.id, by: admin).isDeleted, "an admin's delete")
                try check(try await store.deleteMessage(second.id, by: owner).isDeleted, "an owner's delete")
                try check(try await store.deleteMessage(third.id, by: member).isDeleted, "the sender's delete")
            },
            Case("messages", "deleting a tombstone again returns it and records nothing") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("oops", from: alice, to: chat)
                let tombstone = try await store.deleteMessage(message.id, by: alice)
                let position = try await store.latestPosition()
                try checkEqual(try await store.deleteMessage(message.id, by: alice), tombstone, "the second delete")
                try checkEqual(try await store.latestPosition(), position, "latest position after a second delete")
            },
            Case("messages", "reactions are added once per user and emoji, and removed") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("party?", from: alice, to: chat)
                _ = try await store.addReaction("🎉", to: message.id, by: bob)
                _ = try await store.addReaction("👍", to: message.id, by: bob)
                _ = try await store.addReaction("🎉", to: message.id, by: alice)
                let position = try await store.latestPosition()
                let same = try await store.addReaction("🎉", to: message.id, by: bob)
                try checkEqual(try await store.latestPosition(), position, "latest position after a repeated reaction")
                try checkEqual(same.reactions.count, 3, "reaction count after a repeated reaction")
                try checkEqual(
                    same.reactions.map { "\($0.userID == alice ? "alice" : "bob") \($0.emoji)" },
                    ["bob 🎉", "bob 👍", "alice 🎉"], "reactions in the order they were added"
                )
                let removed = try await store.removeReaction("🎉", from: message.id, by: bob)
                try checkEqual(removed.reactions.map(\.emoji), ["👍", "🎉"], "reactions after a removal")
                let unchanged = try await store.removeReaction("😀", from: message.id, by: bob)
                try checkEqual(unchanged.reactions, removed.reactions, "removing a reaction that does not exist")
                try checkEqual(try await store.message(message.id, as: alice).reactions, removed.reactions, "stored")
            },
            Case("messages", "reactions need an emoji, a visible message that is not deleted") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let mallory = try await fixture.user("mallory")
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("hi", from: alice, to: chat)
                try await checkThrows(.invalidArgument, "an empty reaction") {
                    try await store.addReaction("", to: message.id, by: bob)
                }
                try await checkThrows(.notFound, "a reaction by a non-member") {
                    try await store.addReaction("👀", to: message.id, by: mallory)
                }
                _ = try await store.deleteMessage(message.id, by: alice)
                try await checkThrows(.conflict, "a reaction to a deleted message") {
                    try await store.addReaction("👍", to: message.id, by: bob)
                }
            },
            Case("messages", "a message holds reactions of at most 64 bytes, 50 kinds and 500 in all") { store in
                // Every reaction event carries the whole message to every member: its reactions must stay bounded.
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("react to me", from: alice, to: chat)
                let longest = String(repeating: "x", count: MembershipRules.maxReactionBytes)
                _ = try await store.addReaction(longest, to: message.id, by: bob)
                try await checkThrows(.invalidArgument, "a reaction of 65 bytes") {
                    try await store.addReaction(longest + "x", to: message.id, by: bob)
                }
                for kind in 1..<MembershipRules.maxDistinctReactions {
                    _ = try await store.addReaction("r\(kind)", to: message.id, by: alice)
                }
                try await checkThrows(.limitExceeded, "a 51st kind of reaction") {
                    try await store.addReaction("one more kind", to: message.id, by: bob)
                }
                // A kind the message holds is still taken, and adding a reaction again changes nothing.
                let again = try await store.addReaction("r1", to: message.id, by: bob)
                try checkEqual(again.reactions.count, MembershipRules.maxDistinctReactions + 1, "reactions")
                try checkEqual(
                    try await store.addReaction("r1", to: message.id, by: bob).reactions, again.reactions, "a repeat"
                )
                // Up to 500 in all: members beyond that cannot add any.
                let others = try await fixture.users(count: MembershipRules.maxReactions, prefix: "reactor")
                let group = try await fixture.group(alice, others)
                let popular = try await fixture.send("popular", from: alice, to: group)
                for user in others.prefix(MembershipRules.maxReactions) {
                    _ = try await store.addReaction("👍", to: popular.id, by: user)
                }
                try await checkThrows(.limitExceeded, "reaction 501") {
                    try await store.addReaction("👍", to: popular.id, by: alice)
                }
                try checkEqual(
                    try await store.message(popular.id, as: alice).reactions.count, MembershipRules.maxReactions,
                    "reactions kept"
                )
            },
            Case("messages", "every event carrying a deleted message carries its whole tombstone") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                let attachment = Attachment(
                    id: AttachmentID(rawValue: "blob-1"), fileName: "plan.pdf", contentType: "application/pdf",
                    byteCount: 2_048
                )
                let sent = try await store.append(
                    NewMessage(
                        conversationID: group, senderID: alice, body: "see the plan, @bob", mentions: [bob],
                        attachments: [attachment]
                    )
                )
                _ = try await store.addReaction("👍", to: sent.id, by: bob)
                _ = try await store.editMessage(sent.id, body: "see the new plan, @bob", by: alice)
                let tombstone = try await store.deleteMessage(sent.id, by: alice)
                try check(
                    tombstone.attachments.isEmpty && tombstone.mentions.isEmpty && tombstone.reactions.isEmpty,
                    "the tombstone keeps content: \(tombstone)"
                )
                for (reader, events) in [
                    ("bob's sync", try await fixture.allEvents(for: bob)),
                    ("allEvents", try await store.allEvents(after: .start, limit: 1000)),
                ] {
                    let carrying = events.filter { $0.message?.id == sent.id }
                    try checkEqual(carrying.count, 4, "events carrying the message in \(reader)")
                    for event in carrying {
                        try checkEqual(event.message, tombstone, "the message of the \(event.kind) event in \(reader)")
                    }
                }
            },
            Case("messages", "a resend of a deleted message returns its tombstone and stores nothing") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let sent = try await fixture.send("regretted", from: alice, to: chat, clientMessageID: "k-1")
                let tombstone = try await store.deleteMessage(sent.id, by: alice)
                try checkEqual(tombstone.clientMessageID, "k-1", "the tombstone's client message ID")
                let latest = try await store.latestPosition()
                // A client resending after the acknowledgement was lost: the deletion stands.
                let again = try await fixture.send("regretted", from: alice, to: chat, clientMessageID: "k-1")
                try checkEqual(again, tombstone, "what the resend returns")
                try checkEqual(try await store.messages(in: chat, .latest(), as: bob).count, 1, "messages in history")
                try checkEqual(try await store.latestPosition(), latest, "the latest position after the resend")
            },

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

            Case("messages", "removing a reaction that is not there records no event") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("react?", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: message.id, by: alice)
                try await checkNoEvent(store, "bob removing a 👍 only alice gave") {
                    let result = try await store.removeReaction("👍", from: message.id, by: bob)
                    try checkEqual(result.reactions.map(\.userID), [alice], "who reacted, after bob's removal")
                }
                try await checkNoEvent(store, "removing an emoji no one gave") {
                    let result = try await store.removeReaction("🎉", from: message.id, by: alice)
                    try checkEqual(result.reactions.map(\.emoji), ["👍"], "reactions after removing 🎉")
                }
                let bare = try await fixture.send("no reactions", from: alice, to: chat)
                try await checkNoEvent(store, "removing a reaction from a message without any") {
                    let result = try await store.removeReaction("👍", from: bare.id, by: bob)
                    try checkEqual(result.reactions, [], "reactions of a message without any")
                }
                _ = try await store.removeReaction("👍", from: message.id, by: alice)
                try await checkNoEvent(store, "removing the same reaction a second time") {
                    let result = try await store.removeReaction("👍", from: message.id, by: alice)
                    try checkEqual(result.reactions, [], "reactions after removing one twice")
                }
                let doomed = try await fixture.send("doomed", from: alice, to: chat)
                _ = try await store.addReaction("👍", to: doomed.id, by: bob)
                _ = try await store.deleteMessage(doomed.id, by: alice)
                try await checkNoEvent(store, "removing a reaction from a deleted message (it has none)") {
                    let result = try await store.removeReaction("👍", from: doomed.id, by: bob)
                    try check(result.isDeleted, "removing a reaction from a tombstone returned it undeleted")
                }
                let removals = try await fixture.allEvents(for: bob).filter { $0.kind == .reactionRemoved }
                try checkEqual(removals.map { $0.reaction?.emoji }, ["👍"], "emoji of the reactionRemoved events")
                try checkEqual(removals.map { $0.reaction?.userID }, [alice], "users of the reactionRemoved events")
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

            Case("messages", "a message with attachments may be edited to an empty body") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let file = Attachment(id: "f", fileName: "a.png", contentType: "image/png", byteCount: 3)
                let sent = try await store.append(
                    NewMessage(conversationID: chat, senderID: alice, clientMessageID: "c", body: "caption",
                        attachments: [file])
                )
                let before = try await store.latestPosition()
                let edited = try await store.editMessage(sent.id, body: "", by: alice)
                try checkEqual(edited.body, "", "the body after removing the caption")
                try checkEqual(edited.attachments, [file], "the attachments after the edit")
                try check(edited.editedAt != nil, "the edit set no editedAt")
                let events = try await store.allEvents(after: before, limit: 10)
                try checkEqual(events.map(\.kind), [.messageEdited], "events of the edit")
            },

            Case("messages", "reactions spelled differently but canonically equal are one, kept as first spelled") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("café?", from: alice, to: chat)
                let composed = "\u{E9}", decomposed = "e\u{301}"
                let reacted = try await store.addReaction(composed, to: message.id, by: bob)
                try checkEqual(reacted.reactions.count, 1, "reactions after the first")
                try await checkNoEvent(store, "the same reaction spelled decomposed") {
                    let again = try await store.addReaction(decomposed, to: message.id, by: bob)
                    try checkEqual(again.reactions.count, 1, "reactions after the same one, spelled decomposed")
                    try checkEqual(
                        again.reactions.first.map { Array($0.emoji.utf8) }, Array(composed.utf8),
                        "the stored reaction's bytes (the first spelling)"
                    )
                }
                let before = try await store.latestPosition()
                let removed = try await store.removeReaction(decomposed, from: message.id, by: bob)
                try checkEqual(removed.reactions, [], "reactions after removing it by the other spelling")
                try checkEqual(
                    try await store.allEvents(after: before, limit: 10).map(\.kind), [.reactionRemoved],
                    "events of the removal"
                )
            },

            Case("messages", "a batch across conversations numbers each one's own, and a key used in both conflicts") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let first = try await fixture.group(alice, [bob], title: "First")
                let second = try await fixture.group(alice, [bob], title: "Second")
                func message(_ conversation: ConversationID, _ key: ClientMessageID, _ body: String) -> NewMessage {
                    NewMessage(conversationID: conversation, senderID: alice, clientMessageID: key, body: body)
                }
                let outcomes = await store.append(contentsOf: [
                    message(first, "k1", "a1"), message(second, "k2", "b1"), message(first, "k3", "a2"),
                    message(second, "k1", "b-reused"), message(second, "k4", "b2"),
                ])
                try checkEqual(outcomes.count, 5, "outcomes of a batch of 5")
                let seqs = outcomes.map { try? $0.get().seq }
                try checkEqual(seqs, [1, 1, 2, nil, 2], "the seqs of the batch's messages")
                switch outcomes[3] {
                case .failure(let error as ChatError): try checkEqual(error.code, .conflict, "the reused key's error")
                case .failure(let error): throw ConformanceFailure("the reused key failed with \(error)")
                case .success(let message): throw ConformanceFailure("the reused key was stored: \(message)")
                }
                let firstHistory = try await store.messages(in: first, .latest(), as: bob)
                try checkEqual(firstHistory.map(\.body), ["a1", "a2"], "the first's history")
                let secondHistory = try await store.messages(in: second, .latest(), as: bob)
                try checkEqual(secondHistory.map(\.body), ["b1", "b2"], "the second's history")
            },
        ]
    }
}

extension StoreFixture {
    /// Creates the users `alice` and `bob`.
    func pair() async throws -> (UserID, UserID) {
        (try await user("alice"), try await user("bob"))
    }
}
