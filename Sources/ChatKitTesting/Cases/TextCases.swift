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
    /// Bodies that stores must keep byte for byte: emoji sequences, right-to-left scripts, combining marks.
    static let unicodeBodies = [
        "👩‍👩‍👧‍👦 family, 🏳️‍🌈 flag, 👍🏽 tone",
        "مرحبا بالعالم",
        "שלום עולם",
        "e\u{301} (combining) vs \u{E9} (precomposed)",
        "Z\u{335}\u{30C}a\u{336}\u{31B}l\u{334}\u{35D}g\u{338}\u{306}o\u{337}\u{30A}",
        "日本語のテキスト、中文，한국어",
        "tab\tnew\nline \"quotes\" 'single' \\ backslash % _ ; -- /* */",
    ]

    static var textCases: [Case] {
        [
            Case("text", "client message IDs are compared byte for byte, not as canonically equal text") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let precomposed = try await fixture.send(
                    "one", from: alice, to: chat, clientMessageID: ClientMessageID(rawValue: "\u{C5}")
                )
                let decomposed = try await fixture.send(
                    "two", from: alice, to: chat, clientMessageID: ClientMessageID(rawValue: "A\u{30A}")
                )
                try check(decomposed.id != precomposed.id, "an ID that only looks the same was taken for a resend")
                try checkEqual(decomposed.body, "two", "body of the second message")
                try checkEqual(
                    Array(decomposed.clientMessageID.rawValue.utf8), Array("A\u{30A}".utf8), "its client message ID"
                )
            },
            Case("text", "an ID that is a conversation's followed by U+0000 and more names no conversation") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let longer = ConversationID(rawValue: chat.rawValue + "\u{0}x")
                do {
                    _ = try await fixture.send("to the longer ID", from: alice, to: longer)
                    throw ConformanceFailure("a message to \"\(chat.rawValue)\\0x\" was stored")
                } catch let error as ChatError {
                    try check(error.code == .notFound || error.code == .invalidArgument, "refused as \(error.code)")
                }
                let stored = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(stored, [], "messages in the conversation")
            },
            Case("text", "an ID followed by U+0000 and more names nothing, in reads and writes alike") { store in
                // A store that binds IDs as C strings would read "C\0x" as "C" (SQLite compares bound text up to its
                // first NUL) and act on C.
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 1)
                let bob = try await fixture.user("bob")
                let channel = try await fixture.channel(alice)
                guard let message = try await store.messages(in: chat, .latest(), as: alice).first else {
                    throw ConformanceFailure("the conversation's message was not read back")
                }
                let position = try await store.latestPosition()
                try await refused("reading history") {
                    _ = try await store.messages(in: longer(chat), .latest(), as: alice)
                }
                try await refused("reading history as a longer user") {
                    _ = try await store.messages(in: chat, .latest(), as: longer(alice))
                }
                try await refused("moving a marker") { _ = try await store.markRead(longer(chat), upTo: 1, by: alice) }
                try await refused("joining a channel") { _ = try await store.joinChannel(longer(channel), user: bob) }
                try await refused("adding a member") {
                    _ = try await store.addMembers([bob], to: longer(chat), role: .member, by: alice)
                }
                try await refused("adding a longer user") {
                    _ = try await store.addMembers([longer(bob)], to: chat, role: .member, by: alice)
                }
                try await refused("editing") {
                    _ = try await store.editMessage(longer(message.id), body: "edited", by: alice)
                }
                try await refused("reacting") {
                    _ = try await store.addReaction("👍", to: longer(message.id), by: alice)
                }
                try await refused("asking for a contact") {
                    _ = try await store.requestContact(from: alice, to: longer(alice))
                }
                try await refused("a direct conversation") {
                    _ = try await store.createConversation(.direct(between: alice, and: longer(alice)))
                }
                try checkEqual(try await store.isMember(alice, of: longer(chat)), false, "isMember")
                try checkEqual(try await store.memberCount(of: longer(chat)), 0, "memberCount")
                try checkEqual(try await store.memberIDs(of: longer(chat), at: nil), [], "memberIDs")
                try checkEqual(try await store.users([longer(alice)]), [], "users")
                try checkEqual(try await store.contacts(of: alice), [], "alice's contacts")
                try checkEqual(try await store.latestPosition(), position, "the stream's position: nothing was stored")
            },
            Case("text", "a user ID followed by U+0000 reads nothing of the user's and answers no contact request") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                try await fixture.send("hello", from: alice, to: chat)
                _ = try await store.requestContact(from: alice, to: bob)
                _ = try await store.setPasswordHash("a hash", of: alice)
                try await refused("accepting as a longer user") {
                    _ = try await store.acceptContact(longer(bob), from: alice)
                }
                try await refused("declining as a longer user") {
                    try await store.declineContact(longer(bob), from: alice)
                }
                try await refused("removing as a longer user") { try await store.removeContact(longer(bob), alice) }
                try checkEqual(try await store.contacts(of: bob).map(\.state), [.incoming], "bob's request is pending")
                try checkEqual(try await store.contacts(of: longer(bob)), [], "contacts(of:)")
                try checkEqual(try await store.conversations(of: longer(alice)).count, 0, "conversations(of:)")
                try checkEqual(try await store.memberships(of: longer(alice)).count, 0, "memberships(of:)")
                let sharing = try await store.membersSharingPresence(with: longer(alice), maxGroupSize: 100)
                try checkEqual(sharing, [], "membersSharingPresence(with:)")
                let page = try await store.events(for: longer(alice), after: .start, limit: 100)
                try checkEqual(page.events.count, 0, "events(for:)")
                try checkEqual(try await store.credentials(of: longer(alice)) == nil, true, "credentials(of:)")
                let hits = try await store.search("hello", as: longer(alice), in: nil, limit: 10)
                try checkEqual(hits.count, 0, "search")
                let now = Date()
                let session = AuthSession(
                    id: SessionID(rawValue: "s\u{0}x"), userID: alice, refreshTokenHash: "h", createdAt: now,
                    expiresAt: now.addingTimeInterval(60)
                )
                try await checkThrows(.invalidArgument, "a session ID with U+0000") {
                    try await store.createSession(session)
                }
                try checkEqual(try await store.session(SessionID(rawValue: "s")) == nil, true, "the session's prefix")
            },
            Case("text", "text containing U+0000 is refused with invalidArgument and nothing is stored") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let nul = "k\u{0}1"
                try await checkThrows(.invalidArgument, "a client message ID with NUL") {
                    try await fixture.send(
                        "body", from: alice, to: chat, clientMessageID: ClientMessageID(rawValue: nul)
                    )
                }
                try await checkThrows(.invalidArgument, "a body with NUL") {
                    try await fixture.send("hi\u{0}there", from: alice, to: chat)
                }
                try await checkThrows(.invalidArgument, "an attachment ID with NUL") {
                    let attachment = Attachment(
                        id: AttachmentID(rawValue: "blob\u{0}"), fileName: "a.png", contentType: "image/png", byteCount: 1
                    )
                    return try await store.append(
                        NewMessage(conversationID: chat, senderID: alice, body: "", attachments: [attachment])
                    )
                }
                let batch = await store.append(contentsOf: [
                    NewMessage(conversationID: chat, senderID: alice, clientMessageID: .random(), body: "a\u{0}"),
                    NewMessage(conversationID: chat, senderID: alice, clientMessageID: .random(), body: "fine"),
                ])
                try await checkThrows(.invalidArgument, "a body with NUL in a batch") { try batch[0].get() }
                try checkEqual(try batch[1].get().body, "fine", "the batch's other message")
                try checkEqual(
                    try await store.messages(in: chat, .latest(), as: alice).map(\.body), ["fine"], "stored messages"
                )
                let sent = try batch[1].get()
                try await checkThrows(.invalidArgument, "an edit with NUL") {
                    try await store.editMessage(sent.id, body: "x\u{0}y", by: alice)
                }
                try await checkThrows(.invalidArgument, "a reaction with NUL") {
                    try await store.addReaction("👍\u{0}", to: sent.id, by: alice)
                }
                try await checkThrows(.invalidArgument, "a title with NUL") {
                    try await fixture.group(alice, [], title: "Team\u{0}")
                }
                let group = try await fixture.group(alice, [], title: "Team")
                try await checkThrows(.invalidArgument, "a rename with NUL") {
                    try await store.renameConversation(group, to: "New\u{0}", by: alice)
                }
                try await checkThrows(.invalidArgument, "a username with NUL") {
                    try await store.createUser(NewUser(username: "eve\u{0}x"), passwordHash: nil)
                }
                try checkEqual(try await store.user(username: "eve"), nil, "a user cut at the NUL")
                try await checkThrows(.invalidArgument, "a display name with NUL") {
                    try await store.updateProfile(of: alice, ProfileUpdate(displayName: "Al\u{0}ice"))
                }
                try await checkThrows(.invalidArgument, "a status text with NUL") {
                    try await store.updateProfile(of: alice, ProfileUpdate(statusText: "away\u{0}"))
                }
            },
            Case("text", "unicode bodies come back byte for byte from append, history and sync") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                for body in unicodeBodies { try await fixture.send(body, from: alice, to: chat) }
                let history = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(history.map { Array($0.body.utf8) }, unicodeBodies.map { Array($0.utf8) }, "history bytes")
                let synced = try await fixture.allEvents(for: alice).compactMap(\.message?.body)
                try checkEqual(synced.map { Array($0.utf8) }, unicodeBodies.map { Array($0.utf8) }, "sync bytes")
            },
            Case("text", "a 64 KiB body is stored whole and searchable") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let words = (0..<6554).map { $0 == 3000 ? "needle" : "hay\($0 % 10)" }
                var body = words.joined(separator: " ")
                body += String(repeating: "x", count: 65_536 - body.utf8.count)
                try checkEqual(body.utf8.count, 65_536, "size of the test body")
                let sent = try await fixture.send(body, from: alice, to: chat)
                try checkEqual(sent.body, body, "returned body")
                try checkEqual(try await store.message(sent.id, as: alice).body, body, "stored body")
                let hits = try await store.search("needle", as: alice, in: nil, limit: 5)
                try checkEqual(hits.map(\.message.id), [sent.id], "search for a word in the middle of 64 KiB")
            },
            Case("text", "unicode names, titles, status texts and reactions round-trip") { store in
                let fixture = StoreFixture(store)
                let user = try await store.createUser(
                    NewUser(username: "zoë_ñ", displayName: "Zoë 🦊 زوي", statusText: "en vacances 🏖️"),
                    passwordHash: nil
                )
                try checkEqual(try await store.user(username: "zoë_ñ")?.id, user.id, "lookup by a unicode username")
                try checkEqual(try await store.user(user.id)?.displayName, "Zoë 🦊 زوي", "unicode display name")
                try checkEqual(try await store.user(user.id)?.statusText, "en vacances 🏖️", "unicode status")
                let group = try await fixture.group(user.id, [], title: "Équipe ✨ فريق")
                try checkEqual(try await store.conversation(group, as: user.id).title, "Équipe ✨ فريق", "title")
                let message = try await fixture.send("hi", from: user.id, to: group)
                _ = try await store.addReaction("👨‍👩‍👧", to: message.id, by: user.id)
                try checkEqual(
                    try await store.message(message.id, as: user.id).reactions.map(\.emoji), ["👨‍👩‍👧"], "ZWJ reaction"
                )
            },
            Case("text", "usernames that differ only in normalisation or case are different") { store in
                let composed = try await store.createUser(NewUser(username: "jos\u{E9}"), passwordHash: nil)
                let decomposed = try await store.createUser(NewUser(username: "jose\u{301}"), passwordHash: nil)
                let upper = try await store.createUser(NewUser(username: "JOS\u{C9}"), passwordHash: nil)
                try checkEqual(Set([composed.id, decomposed.id, upper.id]).count, 3, "distinct users")
                try checkEqual(try await store.user(username: "jose\u{301}")?.id, decomposed.id, "decomposed lookup")
            },
            Case("text", "search finds words in right-to-left scripts") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("مرحبا بالعالم", from: alice, to: chat)
                try await fixture.send("שלום עולם", from: alice, to: chat)
                let arabic = try await store.search("مرحبا", as: alice, in: nil, limit: 5)
                try checkEqual(arabic.map(\.message.body), ["مرحبا بالعالم"], "Arabic search")
                let hebrew = try await store.search("עולם", as: alice, in: nil, limit: 5)
                try checkEqual(hebrew.map(\.message.body), ["שלום עולם"], "Hebrew search")
            },
        ]
    }
}

/// `id` followed by U+0000 and more: a store that binds IDs as C strings reads it as `id`.
private func longer<ID: ChatIdentifier>(_ id: ID) -> ID { ID(rawValue: id.rawValue + "\u{0}x") }

/// Checks that `call`, given an ID followed by U+0000, is refused (`notFound` or `invalidArgument`).
private func refused(_ what: String, _ call: () async throws -> Void) async throws {
    do {
        try await call()
        throw ConformanceFailure("\(what) with an ID followed by U+0000 was done")
    } catch let error as ChatError {
        try check(error.code == .notFound || error.code == .invalidArgument, "\(what): \(error.code)")
    }
}
