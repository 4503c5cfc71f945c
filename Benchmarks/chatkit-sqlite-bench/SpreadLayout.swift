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
import ChatKitSQLite
import Foundation

/// The read benchmarks' second database: a server's worth of users and conversations, as the usual user of a large
/// server sees it (`--layout spread`), where the first (`big`) is one conversation of nearly all the messages.
///
/// 1,000 users and 2,000 conversations: 20 large groups (50 to 200 members), 480 groups of 3 to 20 and 1,500 direct
/// conversations. Messages go to conversation *k* (largest first) with a weight of 1 / (*k* + 1): the largest
/// holds about 12 % of them, the 100th about 0.1 %, the last a few dozen; each is sent by a member of its
/// conversation, with the `big` layout's bodies. The first ten users are also in 100 more conversations each: past
/// the 64 conversations up to which a search narrows FTS5's walk to the user's conversations (`ScopeFilter`).
/// Everything is drawn from a fixed seed, so a reloaded database has the same shape.
enum SpreadLayout {
    static let userCount = 1_000
    static let heavyUsers = 10
    static let extraConversationsOfHeavyUsers = 100

    /// One conversation of the layout: its ID, its members, and its messages (its last seq).
    struct Conversation {
        var id: ConversationID
        var members: [UserID]
        var messages: Int64
    }

    /// A conversation while loading: its ID, its members, and its share of the messages.
    private struct Planned {
        var id: ConversationID
        var members: [UserID]
        var weight: Double
    }

    /// The sizes of the conversations' member lists, largest conversation first (and so with the most messages).
    static func memberCounts(_ generator: inout SplitMix64) -> [Int] {
        (0..<20).map { _ in Int.random(in: 50...200, using: &generator) }
            + (0..<480).map { _ in Int.random(in: 3...20, using: &generator) }
            + Array(repeating: 2, count: 1_500)
    }

    /// Opens the layout's database at `path`, loading `messages` messages into it first if it has none.
    static func open(path: String, messages: Int) async throws -> (SQLiteChatStore, [UserID], [Conversation]) {
        let openStart = ContinuousClock.now
        let store = try openStore(path: path)
        say(String(format: "opened %@ in %.2f s", path, seconds(ContinuousClock.now - openStart)))
        var generator = SplitMix64(seed: 20_261_202)
        if try await store.user(username: "spread0") == nil {
            try await load(store, messages: messages, &generator)
        }
        var users: [UserID] = []
        for index in 0..<userCount {
            guard let user = try await store.user(username: "spread\(index)") else {
                throw LayoutError(description: "\(path) holds no user spread\(index): not a spread layout")
            }
            users.append(user.id)
        }
        // The conversations, with their members, as the store has them.
        var byID: [ConversationID: Conversation] = [:]
        for user in users {
            for summary in try await store.conversations(of: user) {
                let conversation = summary.conversation
                let empty = Conversation(id: conversation.id, members: [], messages: conversation.lastSeq)
                byID[conversation.id, default: empty].members.append(user)
            }
        }
        return (store, users, Array(byID.values))
    }

    private static func load(_ store: SQLiteChatStore, messages: Int, _ generator: inout SplitMix64) async throws {
        var users: [UserID] = []
        for index in 0..<userCount {
            users.append(try await store.createUser(NewUser(username: "spread\(index)"), passwordHash: nil).id)
        }
        var conversations: [Planned] = []
        var directPairs: Set<[Int]> = []
        for (number, count) in memberCounts(&generator).enumerated() {
            let weight = 1 / Double(number + 1)
            if count == 2 {
                var pair: [Int]
                repeat {
                    let first = Int.random(in: 0..<userCount, using: &generator)
                    let second = Int.random(in: 0..<userCount, using: &generator)
                    pair = [first, second].sorted()
                } while pair[0] == pair[1] || directPairs.contains(pair)
                directPairs.insert(pair)
                let created = try await store.createConversation(.direct(between: users[pair[0]], and: users[pair[1]]))
                conversations.append(Planned(id: created.id, members: pair.map { users[$0] }, weight: weight))
            } else {
                let members = Array(users.shuffled(using: &generator).prefix(count))
                let created = try await store.createConversation(
                    .group("spread \(number)", createdBy: members[0], members: Array(members.dropFirst()))
                )
                conversations.append(Planned(id: created.id, members: members, weight: weight))
            }
        }
        for heavy in users.prefix(heavyUsers) {
            var added = 0
            for index in (20..<500).shuffled(using: &generator) where added < extraConversationsOfHeavyUsers {
                guard !conversations[index].members.contains(heavy) else { continue }
                _ = try await store.addMembers(
                    [heavy], to: conversations[index].id, role: .member, by: conversations[index].members[0]
                )
                conversations[index].members.append(heavy)
                added += 1
            }
        }
        let loadStart = ContinuousClock.now
        let seeds = (0..<writers).map { _ in generator.next() }
        let appended = try await append(
            messages, to: conversations.map { ($0.id, $0.members, $0.weight) }, store, seeds: seeds, withNeedles: true
        )
        say(
            String(
                format: "loaded %d messages into %d conversations of %d users in %.1f s", appended,
                conversations.count, userCount, seconds(ContinuousClock.now - loadStart)
            )
        )
    }

    /// Appends `count` messages to `conversations`, each drawn with a weight of its messages so far.
    static func grow(_ store: SQLiteChatStore, _ conversations: inout [Conversation], by count: Int) async throws {
        let start = ContinuousClock.now
        let seeds = (0..<UInt64(writers)).map { $0 &* 0x9E37_79B9_7F4A_7C15 &+ 7 }
        let appended = try await append(
            count, to: conversations.map { ($0.id, $0.members, Double(max(1, $0.messages))) }, store, seeds: seeds,
            withNeedles: false
        )
        for index in conversations.indices {
            conversations[index].messages = try await store.conversation(
                conversations[index].id, as: conversations[index].members[0]
            ).lastSeq
        }
        say(
            String(
                format: "appended %d messages in %.1f s (the index's catch-ups ran meanwhile)", appended,
                seconds(ContinuousClock.now - start)
            )
        )
    }

    /// How many tasks append at once, each awaiting its own append before the next.
    static let writers = 32

    /// Appends `count` messages (rounded down to a multiple of ``writers``), each to a conversation of `targets`
    /// drawn in proportion to its weight, from one of its members; the writers' generators start from `seeds`.
    /// With `withNeedles`, every 1,000th message of a writer ends with "needle". Returns how many it appended.
    private static func append(
        _ count: Int, to targets: [(id: ConversationID, members: [UserID], weight: Double)], _ store: SQLiteChatStore,
        seeds: [UInt64], withNeedles: Bool
    ) async throws -> Int {
        // Cumulative weights, to draw a conversation per message.
        var cumulative: [Double] = []
        var total = 0.0
        for target in targets {
            total += target.weight
            cumulative.append(total)
        }
        let perWriter = count / writers
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for writer in 0..<writers {
                tasks.addTask { [cumulative, total] in
                    var generator = SplitMix64(seed: seeds[writer])
                    for number in 0..<perWriter {
                        let drawn = Double.random(in: 0..<total, using: &generator)
                        let target = targets[min(targets.count - 1, cumulative.partitioningIndex { $0 > drawn })]
                        _ = try await store.append(
                            NewMessage(
                                conversationID: target.id,
                                senderID: target.members.randomElement(using: &generator)!,
                                body: randomBody(&generator) + (withNeedles && number % 1000 == 0 ? " needle" : "")
                            )
                        )
                    }
                }
            }
            try await tasks.waitForAll()
        }
        return perWriter * writers
    }

    struct LayoutError: Error, CustomStringConvertible {
        var description: String
    }
}

extension Array {
    /// The first index whose element satisfies `belongs`, which must hold for a suffix of the array (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// Eight words of ``vocabulary``, low word numbers common and high ones rare (Zipf-like).
func randomBody(_ generator: inout some RandomNumberGenerator) -> String {
    (0..<8).map { _ in
        vocabulary[Int(pow(Double.random(in: 0..<1, using: &generator), 3) * Double(vocabulary.count))]
    }.joined(separator: " ")
}

/// The read benchmarks on the spread layout: searches and history pages of users drawn at random, every sample
/// another user (or conversation).
func spreadBenchmarks() async throws {
    let path = options.database ?? directory.appendingPathComponent("spread.sqlite").path
    let (store, users, loaded) = try await SpreadLayout.open(path: path, messages: options.messages)
    var conversations = loaded
    if options.grow > 0 {
        try await SpreadLayout.grow(store, &conversations, by: options.grow)
    }
    var generator = SystemRandomNumberGenerator()
    var scopeSizes: [UserID: Int] = [:]
    for conversation in conversations {
        for member in conversation.members { scopeSizes[member, default: 0] += 1 }
    }
    let usual = users.dropFirst(SpreadLayout.heavyUsers)
    let heavy = users.prefix(SpreadLayout.heavyUsers)
    let conversationCounts = usual.map { scopeSizes[$0] ?? 0 }.sorted()
    say(
        "users' conversations: median \(conversationCounts[conversationCounts.count / 2]), "
            + "max \(conversationCounts.last ?? 0); "
            + "the \(heavy.count) heavy users' \(heavy.map { scopeSizes[$0] ?? 0 })"
    )
    // The first search after opening (the store mapped each row to its conversation as it opened).
    let firstStart = ContinuousClock.now
    _ = try await store.search("word20", as: heavy.first!, in: nil, limit: 20)
    say(
        String(
            format: "spread: first search after opening, a heavy user's: %.1f ms",
            seconds(ContinuousClock.now - firstStart) * 1000
        )
    )
    let byMember = Dictionary(grouping: conversations.flatMap { conversation in
        conversation.members.map { (member: $0, conversation: conversation.id) }
    }, by: \.member).mapValues { $0.map(\.conversation) }

    for (label, group) in [("a usual user", Array(usual)), ("a heavy user (110+ conversations)", Array(heavy))] {
        for (query, what) in [
            ("word0", "common word (~38 % of messages)"), ("word5", "word5 (~5 %)"), ("word20", "word20 (~2 %)"),
            ("word100", "word100 (~0.7 %)"), ("needle", "rare word (0.1 %)"), ("word12*", "prefix word12*"),
            ("word3 word40", "two words"),
        ] {
            try await measure("spread: search, \(what), as \(label)", count: 200) {
                _ = try await store.search(query, as: group.randomElement(using: &generator)!, in: nil, limit: 20)
            }
        }
    }
    try await measure("spread: search, common word in one of the user's conversations", count: 200) {
        let user = usual.randomElement(using: &generator)!
        let conversation = byMember[user]!.randomElement(using: &generator)!
        _ = try await store.search("word0", as: user, in: conversation, limit: 20)
    }
    let largest = conversations.max { $0.messages < $1.messages }!
    try await measure("spread: search, word5 in the largest conversation (~12 % of messages)", count: 200) {
        _ = try await store.search("word5", as: largest.members[0], in: largest.id, limit: 20)
    }
    try await measure("spread: history page of 50, latest, a random conversation", count: 2000) {
        let conversation = conversations.randomElement(using: &generator)!
        _ = try await store.messages(in: conversation.id, .latest(limit: 50), as: conversation.members[0])
    }
    try store.close()
}
