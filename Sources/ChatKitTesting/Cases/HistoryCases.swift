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
    static var historyCases: [Case] {
        [
            Case("history", "an empty conversation has empty pages") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 0)
                try checkEqual(try await store.messages(in: chat, .latest(), as: alice), [], "latest page")
                try checkEqual(try await store.messages(in: chat, .after(0), as: alice), [], "page after 0")
                try checkEqual(try await store.messages(in: chat, .before(1), as: alice), [], "page before 1")
            },
            Case("history", "the latest page holds the newest messages in ascending order") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 30)
                let page = try await store.messages(in: chat, .latest(limit: 10), as: alice)
                try checkEqual(page.map(\.seq), Array(21...30), "seqs of the latest 10 of 30")
                try checkEqual(page.first?.body, "message 21", "body of the first message on the page")
            },
            Case("history", "paging back with before walks every message once down to the first") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 23)
                var seen: [Int64] = []
                var page = try await store.messages(in: chat, .latest(limit: 5), as: alice)
                while let oldest = page.first {
                    try check(page.count <= 5, "a page held \(page.count) messages, limit 5")
                    seen = page.map(\.seq) + seen
                    page = try await store.messages(in: chat, .before(oldest.seq, limit: 5), as: alice)
                }
                try checkEqual(seen, Array(1...23), "seqs seen paging back")
            },
            Case("history", "paging forward with after walks every message once up to the last") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 23)
                var seen: [Int64] = []
                var cursor: Int64 = 0
                while true {
                    let page = try await store.messages(in: chat, .after(cursor, limit: 7), as: alice)
                    guard let newest = page.last else { break }
                    seen += page.map(\.seq)
                    cursor = newest.seq
                }
                try checkEqual(seen, Array(1...23), "seqs seen paging forward")
            },
            Case("history", "a history of exactly one page fits and the next page is empty") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 10)
                let page = try await store.messages(in: chat, .latest(limit: 10), as: alice)
                try checkEqual(page.map(\.seq), Array(1...10), "the single full page")
                try checkEqual(try await store.messages(in: chat, .before(1, limit: 10), as: alice), [], "page before 1")
                try checkEqual(try await store.messages(in: chat, .after(10, limit: 10), as: alice), [], "page after 10")
            },
            Case("history", "the last page going back is partial") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 12)
                let page = try await store.messages(in: chat, .before(3, limit: 10), as: alice)
                try checkEqual(page.map(\.seq), [1, 2], "the partial last page")
                let forward = try await store.messages(in: chat, .after(9, limit: 10), as: alice)
                try checkEqual(forward.map(\.seq), [10, 11, 12], "the partial last page forward")
            },
            Case("history", "limit 0 returns nothing and a negative limit is invalid") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 3)
                try checkEqual(try await store.messages(in: chat, .latest(limit: 0), as: alice), [], "limit 0")
                try checkEqual(try await store.messages(in: chat, .after(0, limit: 0), as: alice), [], "after, limit 0")
                try await checkThrows(.invalidArgument, "a negative limit") {
                    try await store.messages(in: chat, .latest(limit: -1), as: alice)
                }
            },
            Case("history", "a huge limit returns the whole history") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 15)
                let latest = try await store.messages(in: chat, .latest(limit: .max), as: alice)
                try checkEqual(latest.map(\.seq), Array(1...15), "latest with limit Int.max")
                let after = try await store.messages(in: chat, .after(0, limit: .max), as: alice)
                try checkEqual(after.map(\.seq), Array(1...15), "after 0 with limit Int.max")
                let before = try await store.messages(in: chat, .before(.max, limit: .max), as: alice)
                try checkEqual(before.map(\.seq), Array(1...15), "before Int64.max with limit Int.max")
            },
            Case("history", "anchors outside the history give empty or whole pages") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 5)
                try checkEqual(try await store.messages(in: chat, .after(5), as: alice), [], "after the last seq")
                try checkEqual(try await store.messages(in: chat, .after(.max), as: alice), [], "after Int64.max")
                try checkEqual(try await store.messages(in: chat, .before(0), as: alice), [], "before 0")
                try checkEqual(try await store.messages(in: chat, .before(-5), as: alice), [], "before -5")
                let all = try await store.messages(in: chat, .after(-5), as: alice)
                try checkEqual(all.map(\.seq), Array(1...5), "after -5")
                let fromFar = try await store.messages(in: chat, .before(1000, limit: 2), as: alice)
                try checkEqual(fromFar.map(\.seq), [4, 5], "before a seq past the end")
            },
            Case("history", "history is not found for non-members and unknown conversations") { store in
                let (fixture, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 2)
                let mallory = try await fixture.user("mallory")
                try await checkThrows(.notFound, "history as a non-member") {
                    try await store.messages(in: chat, .latest(), as: mallory)
                }
                try await checkThrows(.notFound, "history of an unknown conversation") {
                    try await store.messages(in: "no-such-conversation", .latest(), as: alice)
                }
            },
            Case("history", "history pages include tombstones, edits and reactions as they are now") { store in
                let (_, alice, chat) = try await StoreFixture.conversationWithMessages(store, count: 4)
                let page = try await store.messages(in: chat, .latest(), as: alice)
                _ = try await store.deleteMessage(page[1].id, by: alice)
                _ = try await store.editMessage(page[2].id, body: "edited", by: alice)
                _ = try await store.addReaction("🔥", to: page[3].id, by: alice)
                let after = try await store.messages(in: chat, .latest(), as: alice)
                try checkEqual(after.map(\.seq), [1, 2, 3, 4], "seqs")
                try check(after[1].isDeleted, "message 2 should be a tombstone")
                try checkEqual(after[2].body, "edited", "body of the edited message")
                try checkEqual(after[3].reactions.map(\.emoji), ["🔥"], "reactions of message 4")
            },
        ]
    }
}

extension StoreFixture {
    /// A group owned by a new user `alice` holding `count` messages from her.
    static func conversationWithMessages(_ store: any ChatStore, count: Int) async throws
        -> (StoreFixture, UserID, ConversationID)
    {
        let fixture = StoreFixture(store)
        let alice = try await fixture.user("alice")
        let group = try await fixture.group(alice, [])
        try await fixture.send(count: count, from: alice, to: group)
        return (fixture, alice, group)
    }
}
