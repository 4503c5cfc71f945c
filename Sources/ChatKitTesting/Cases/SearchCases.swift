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
    static var searchCases: [Case] {
        [
            Case("search", "search finds messages containing every word of the query") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("the quick brown fox", from: alice, to: chat)
                try await fixture.send("a quick lunch", from: alice, to: chat)
                try await fixture.send("brown bread", from: alice, to: chat)
                try checkEqual(try await bodies(store, "quick", alice), ["a quick lunch", "the quick brown fox"], "quick")
                try checkEqual(try await bodies(store, "quick brown", alice), ["the quick brown fox"], "quick brown")
                try checkEqual(try await bodies(store, "quick bread", alice), [], "words in different messages")
                try checkEqual(try await bodies(store, "qui", alice), [], "a partial word without *")
            },
            Case("search", "search ignores case and diacritics") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("Meet at the Café Müller", from: alice, to: chat)
                try await fixture.send("NAÏVE question", from: alice, to: chat)
                try checkEqual(try await bodies(store, "cafe", alice), ["Meet at the Café Müller"], "cafe")
                try checkEqual(try await bodies(store, "MULLER", alice), ["Meet at the Café Müller"], "MULLER")
                try checkEqual(try await bodies(store, "naïve", alice), ["NAÏVE question"], "naïve")
                try checkEqual(try await bodies(store, "Naive", alice), ["NAÏVE question"], "Naive")
            },
            Case("search", "diacritics are ignored in every script: Greek, Cyrillic, Vietnamese") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let athens = "Πάμε Αθήνα αύριο"
                let tree = "Купи ёлку"
                let vietnam = "Chào Việt Nam"
                let feat = "Ένας άθλος"
                for body in [athens, tree, vietnam, feat] { try await fixture.send(body, from: alice, to: chat) }
                let expected = [
                    "αθηνα": [athens], "ΑΘΗΝΑ": [athens], "Αθήνα": [athens], "αθη*": [athens], "αθήν*": [athens],
                    "елку": [tree], "ЁЛКУ": [tree], "ёлку": [tree], "ел*": [tree], "viet": [vietnam],
                    "VIỆT": [vietnam], "αυριο πάμε": [athens], "αθ*": [feat, athens], "ενας": [feat],
                ]
                for (query, found) in expected.sorted(by: { $0.key < $1.key }) {
                    try checkEqual(try await bodies(store, query, alice), found, "a search for \(query)")
                }
                // A plain ASCII word finds a spelling the folding makes of it.
                try await fixture.send("at Straße today", from: alice, to: chat)
                try checkEqual(try await bodies(store, "strasse", alice), ["at Straße today"], "strasse")
                try checkEqual(try await bodies(store, "stras*", alice), ["at Straße today"], "stras*")
            },
            Case("search", "vowel signs are part of their words; emoji and their selectors end words") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                // Hindi and Bengali words that differ in their vowel signs only, Thai, vowelled Arabic, a Persian
                // word written with a zero-width non-joiner, and emoji of several Unicode versions against words.
                let hindi = "मेरी किताब की कहानी"
                let other = "मेरा घर का रास्ता"
                let bengali = "গুন গুন"
                let thai = "สวัสดี ครับ"
                let arabic = "اسمي مُحَمَّد"
                let persian = "من می‌خواهم بروم"
                let emoji = "ok🙂 lol🤣 love❤️you 👍🏽great 🫠melt"
                for body in [hindi, other, bengali, thai, arabic, persian, emoji] {
                    try await fixture.send(body, from: alice, to: chat)
                }
                let expected = [
                    "की": [hindi], "का": [other], "मेरी": [hindi], "मेरा": [other], "कि*": [hindi], "गुन": [],
                    "গুন": [bengali], "গান": [], "สวัสดี": [thai], "สด": [], "مُحَمَّد": [arabic], "م": [],
                    "می‌خواهم": [persian], "ok": [emoji], "lol": [emoji], "love": [emoji], "you": [emoji],
                    "great": [emoji], "melt": [emoji], "ok lol": [emoji],
                ]
                for (query, found) in expected.sorted(by: { $0.key < $1.key }) {
                    try checkEqual(try await bodies(store, query, alice), found, "a search for \(query)")
                }
            },
            Case("search", "every word finds the message it is in: sharp s, ligatures, dotted capitals") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let words = ["Straße", "ﬁne", "İstanbul", "ǅemal"]
                for word in words { try await fixture.send("at \(word) today", from: alice, to: chat) }
                for word in words {
                    try checkEqual(try await bodies(store, word, alice), ["at \(word) today"], "a search for \(word)")
                }
                try checkEqual(try await bodies(store, "straß*", alice), ["at Straße today"], "a search for straß*")
                // The word as written, and as folded ("strasse"): both spellings are found, in either query order.
                try await fixture.send("STRASSE closed", from: alice, to: chat)
                for query in ["Straße", "Straße strasse", "strasse Straße"] {
                    try checkEqual(
                        Set(try await bodies(store, query, alice)), ["at Straße today", "STRASSE closed"],
                        "a search for \(query)"
                    )
                }
            },
            Case("search", "a query word ending with * matches words it begins") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("deployment finished", from: alice, to: chat)
                try await fixture.send("deploying now", from: alice, to: chat)
                try await fixture.send("redeploy later", from: alice, to: chat)
                try checkEqual(
                    try await bodies(store, "deploy*", alice), ["deploying now", "deployment finished"], "deploy*"
                )
            },
            Case("search", "search sees only conversations the user is a member of") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let carol = try await fixture.user("carol")
                let ours = try await fixture.group(alice, [bob])
                let theirs = try await fixture.group(carol, [bob])
                try await fixture.send("budget for ours", from: alice, to: ours)
                try await fixture.send("budget for theirs", from: carol, to: theirs)
                try checkEqual(try await bodies(store, "budget", alice), ["budget for ours"], "alice's search")
                try checkEqual(try await bodies(store, "budget", carol), ["budget for theirs"], "carol's search")
                try checkEqual(try await bodies(store, "budget", bob).count, 2, "bob's search (member of both)")
                try await checkThrows(.notFound, "search in a conversation the user is not in") {
                    try await store.search("budget", as: alice, in: theirs, limit: 10)
                }
            },
            Case("search", "a removed member no longer finds the conversation's messages") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                try await fixture.send("roadmap draft", from: alice, to: group)
                try checkEqual(try await bodies(store, "roadmap", bob).count, 1, "bob's search as a member")
                try await store.removeMember(bob, from: group, by: alice)
                try checkEqual(try await bodies(store, "roadmap", bob), [], "bob's search after removal")
            },
            Case("search", "a conversation's search: its members find its whole history, anyone else is refused") {
                store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let (carol, dave) = (try await fixture.user("carol"), try await fixture.user("dave"))
                let group = try await fixture.group(alice, [bob])
                let channel = try await fixture.channel(alice)
                try await fixture.send("quarterly plan", from: alice, to: group)
                try await fixture.send("quarterly notes", from: alice, to: channel)
                // A member who joins later searches the history from before they joined, as they read it.
                _ = try await store.addMembers([carol], to: group, role: .member, by: alice)
                let late = try await store.search("quarterly", as: carol, in: group, limit: 10)
                try checkEqual(late.map(\.message.body), ["quarterly plan"], "a late member's search")
                try await store.removeMember(bob, from: group, by: alice)
                // Refused before anything else is looked at: no query, no limit tells a non-member otherwise.
                for (user, conversation, who) in [
                    (bob, group, "a removed member"), (dave, group, "a non-member"),
                    (dave, channel, "a non-member of a channel"),
                ] {
                    for query in ["quarterly", "quart*", ""] {
                        try await checkThrows(.notFound, "\(who)'s search for '\(query)'") {
                            try await store.search(query, as: user, in: conversation, limit: 10)
                        }
                    }
                    try await checkThrows(.notFound, "\(who)'s search with limit 0") {
                        try await store.search("quarterly", as: user, in: conversation, limit: 0)
                    }
                }
                try checkEqual(try await bodies(store, "quarterly", dave), [], "a non-member's search everywhere")
                let missing = ConversationID(rawValue: "no-such-conversation")
                try await checkThrows(.notFound, "a search in a conversation that does not exist") {
                    try await store.search("quarterly", as: alice, in: missing, limit: 10)
                }
            },
            Case("search", "a message found once, then edited or deleted, is found by its new text only") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let deleted = try await fixture.send("password reminder", from: alice, to: chat)
                let edited = try await fixture.send("first wording", from: alice, to: chat)
                // Found first: a store that indexes as it searches now holds both.
                try checkEqual(try await bodies(store, "password", alice), ["password reminder"], "before the delete")
                try checkEqual(try await bodies(store, "first", alice), ["first wording"], "before the edit")
                _ = try await store.deleteMessage(deleted.id, by: alice)
                _ = try await store.editMessage(edited.id, body: "second wording", by: alice)
                for query in ["password", "passw*", "reminder", "first", "fir*"] {
                    try checkEqual(try await bodies(store, query, alice), [], "a search for '\(query)'")
                    let inChat = try await store.search(query, as: alice, in: chat, limit: 10)
                    try checkEqual(inChat.map(\.message.body), [], "a search for '\(query)' in the conversation")
                }
                try checkEqual(try await bodies(store, "second", alice), ["second wording"], "the new text")
            },
            Case("search", "deleted messages are never found and edited ones by their new text") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                let deleted = try await fixture.send("password hint", from: alice, to: chat)
                let edited = try await fixture.send("old wording", from: alice, to: chat)
                _ = try await store.deleteMessage(deleted.id, by: alice)
                _ = try await store.editMessage(edited.id, body: "new wording", by: alice)
                try checkEqual(try await bodies(store, "password", alice), [], "search for a deleted message")
                try checkEqual(try await bodies(store, "old", alice), [], "search for an edited message's old text")
                try checkEqual(try await bodies(store, "new", alice), ["new wording"], "search for its new text")
            },
            Case("search", "search can be restricted to one conversation") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let group = try await fixture.group(alice, [bob])
                try await fixture.send("lunch here", from: alice, to: chat)
                try await fixture.send("lunch there", from: alice, to: group)
                let hits = try await store.search("lunch", as: bob, in: group, limit: 10)
                try checkEqual(hits.map(\.message.body), ["lunch there"], "search in one conversation")
                try check(hits.allSatisfy { $0.message.conversationID == group }, "a hit from another conversation")
            },
            Case("search", "a query without words, or limit 0, finds nothing; a negative limit is invalid") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("anything at all", from: alice, to: chat)
                try checkEqual(try await bodies(store, "", alice), [], "an empty query")
                try checkEqual(try await bodies(store, "  ?! ", alice), [], "a query of punctuation")
                try checkEqual(try await store.search("anything", as: alice, in: nil, limit: 0), [], "limit 0")
                try await checkThrows(.invalidArgument, "search with a negative limit") {
                    try await store.search("anything", as: alice, in: nil, limit: -1)
                }
            },
            Case("search", "search returns at most limit hits") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send(count: 30, from: alice, to: chat, prefix: "status report")
                let hits = try await store.search("report", as: alice, in: nil, limit: 7)
                try checkEqual(hits.count, 7, "hits with limit 7 of 30 matches")
                try checkEqual(Set(hits.map(\.message.id)).count, 7, "distinct hits")
            },
            Case("search", "the limit bounds the hits of all conversations together, not each one's") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                var conversations = [chat]
                for index in 1...2 { conversations.append(try await fixture.group(alice, [], title: "g\(index)")) }
                for conversation in conversations {
                    try await fixture.send(count: 5, from: alice, to: conversation, prefix: "quarterly figures")
                }
                let hits = try await store.search("quarterly", as: alice, in: nil, limit: 4)
                try checkEqual(hits.count, 4, "hits with limit 4 of 15 matches in 3 conversations")
                try checkEqual(Set(hits.map(\.message.id)).count, 4, "distinct hits")
                let inOne = try await store.search("figures", as: alice, in: conversations[1], limit: 2)
                try checkEqual(inOne.count, 2, "hits with limit 2 of 5 matches in one conversation")
                try check(inOne.allSatisfy { $0.message.conversationID == conversations[1] }, "a hit from elsewhere")
            },
            Case("search", "a hit's snippet marks the matching words with brackets") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try await fixture.send("ship the release on Friday", from: alice, to: chat)
                let hit = try checkNotNil(
                    try await store.search("release", as: alice, in: nil, limit: 1).first, "the search hit"
                )
                let snippet = try checkNotNil(hit.snippet, "the hit's snippet")
                try check(snippet.contains("[release]"), "snippet '\(snippet)' does not mark the match as [release]")
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

            Case("search", "queries with search-engine syntax are taken as words, never as operators") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let chat = try await fixture.direct(alice, bob)
                let message = try await fixture.send("use NEAR and OR and \"quotes\" not a & b", from: alice, to: chat)
                try await fixture.send("something else", from: alice, to: chat)
                for query in ["NEAR", "\"quotes", "OR", "or* AND", "(near)", "quotes\"*", "-use", "NOT", "a & b"] {
                    let hits = try await store.search(query, as: bob, in: nil, limit: 10)
                    try checkEqual(hits.map(\.message.id), [message.id], "the hits of \(query.debugDescription)")
                }
                for query in ["\"\" * ()", "*", "&|!", "\""] {
                    try checkEqual(
                        try await store.search(query, as: bob, in: nil, limit: 10), [],
                        "the hits of \(query.debugDescription), which holds no word"
                    )
                }
            },

            Case("search", "a word of 1,000 messages finds all of them") { store in
                let fixture = StoreFixture(store)
                let (alice, bob) = try await fixture.pair()
                let group = try await fixture.group(alice, [bob])
                _ = await store.append(contentsOf: (1...1_000).map { number in
                    NewMessage(
                        conversationID: group, senderID: alice,
                        clientMessageID: ClientMessageID(rawValue: "c\(number)"), body: "needle \(number)"
                    )
                })
                let hits = try await store.search("needle", as: bob, in: nil, limit: 1_000)
                try checkEqual(hits.count, 1_000, "hits of a word of 1,000 messages (a store ranks at least 1,000)")
                try checkEqual(Set(hits.map(\.message.id)).count, 1_000, "distinct messages among the hits")
            },
        ]
    }

    /// The bodies of `user`'s search hits for `query`, sorted (ranking is the store's choice).
    private static func bodies(_ store: any ChatStore, _ query: String, _ user: UserID) async throws -> [String] {
        try await store.search(query, as: user, in: nil, limit: 100).map(\.message.body).sorted()
    }
}
