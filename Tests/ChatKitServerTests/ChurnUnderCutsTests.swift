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

import ChatKitClient
import ChatKitCore
import ChatKitServer
import Testing

@testable import ChatKitTesting

/// Sends, edits, deletions and reactions by several members at once over a SQLite server, while every socket is cut
/// now and then: each member's client must end with the messages as the server holds them, having received each of
/// its events once, in order (live or in a catch-up). `DeliveryUnderCutsTests` checks new messages alone.
@Suite("Edits, deletions and reactions while connections are cut")
struct ChurnUnderCutsTests {
    static let members = ["alice", "bob", "carol"]
    static let stepsEach = 40
    /// Every socket open is cut after this many steps, counted over all members.
    static let cutEvery = 15
    static let emoji = ["👍", "🎉", "❤️"]

    /// What the test compares of a message: all a client shows.
    struct Shown: Equatable, CustomStringConvertible {
        let body: String
        let isDeleted: Bool
        let isEdited: Bool
        let reactions: [String]

        init(_ message: Message) {
            body = message.body
            isDeleted = message.deletedAt != nil
            isEdited = message.editedAt != nil
            reactions = message.reactions.map { "\($0.emoji) \($0.userID)" }.sorted()
        }

        var description: String { "\(body)\(isDeleted ? " (deleted)" : "")\(isEdited ? " (edited)" : "") \(reactions)" }
    }

    @Test(
        "three members changing messages while their sockets are cut end with the server's messages, each event once",
        arguments: [1, 2] as [UInt64]
    )
    func everyMemberEndsWithWhatTheServerHolds(seed: UInt64) async throws {
        try await GroupUnderCuts.run(members: Self.members) { setUp in
            let (relay, clients, group) = (setUp.relay, setUp.clients, setUp.group)
            let (progress, stepped) = AsyncStream.makeStream(of: Void.self)
            let cutter = Task {
                var steps = 0
                var cuts = 0
                for await _ in progress {
                    steps += 1
                    if steps % Self.cutEvery == 0 {
                        relay.cutAll()
                        cuts += 1
                    }
                }
                return cuts
            }
            try await withThrowingTaskGroup(of: Void.self) { members in
                for (index, (client, name)) in zip(clients, Self.members).enumerated() {
                    members.addTask {
                        var member = ChurningMember(
                            name: name, client: client, group: group, seed: seed &* 31 &+ UInt64(index)
                        )
                        for step in 1...Self.stepsEach {
                            member = try await withTimeout("\(name)'s step \(step)") { [member] in
                                var stepping = member
                                try await stepping.step(step)
                                return stepping
                            }
                            stepped.yield()
                        }
                    }
                }
                try await members.waitForAll()
            }
            stepped.finish()
            #expect(await cutter.value == Self.members.count * Self.stepsEach / Self.cutEvery, "cuts made")

            let history = try await withTimeout("the history") {
                try await untilAnswered(clients[0].client) { try await $0.history(of: group, limit: 500) }
            }
            let expected = Dictionary(uniqueKeysWithValues: history.map { ($0.id, Shown($0)) })
            #expect(history.map(\.seq) == Array(1...Int64(history.count)), "the history has gaps")
            for (client, name) in zip(clients, Self.members) {
                do {
                    try await client.waitFor("\(name)'s messages to be the server's") { events in
                        Self.shown(in: group, events) == expected
                    }
                } catch {
                    let shown = Self.shown(in: group, client.events)
                    let differing = Set(expected.keys).union(shown.keys).filter { expected[$0] != shown[$0] }
                    let examples = differing.prefix(5).map { id in
                        "\(id): \(shown[id]?.description ?? "missing") against "
                            + (expected[id]?.description ?? "missing")
                    }
                    Issue.record("\(name) shows \(differing.count) messages otherwise than the server: \(examples)")
                }
                // Each event once, in order: the positions received are the user's events, as a sync from the
                // start reads them.
                let received = client.storedEvents.map(\.position)
                #expect(received == received.sorted() && Set(received).count == received.count, "\(name)")
                var synced: [StreamPosition] = []
                var cursor = StreamPosition.start
                while true {
                    let after = cursor
                    let page = try await withTimeout("\(name)'s sync") {
                        try await untilAnswered(client.client) { try await $0.sync(after: after, limit: 500) }
                    }
                    synced += page.events.map(\.position)
                    cursor = page.cursor
                    if !page.hasMore { break }
                }
                // (A client without a cursor starts live: it gets no events from before its first session.)
                let first = received.first ?? .start
                let last = received.last ?? .start
                #expect(
                    synced.filter { $0 >= first && $0 <= last } == received, "\(name)'s events against a sync"
                )
            }
        }
    }

    /// The messages of `conversation` as the stored events show them: each event carries its message as it is
    /// after the change (a deleted one as its tombstone), so the last one of each message is what a client shows.
    static func shown(in conversation: ConversationID, _ events: [ClientEvent]) -> [MessageID: Shown] {
        var messages: [MessageID: Shown] = [:]
        for case .stored(let event) in events where event.conversationID == conversation {
            if let message = event.message { messages[message.id] = Shown(message) }
        }
        return messages
    }
}

/// One member's random steps: sends, edits and deletions of its own messages, reactions to anyone's. (The seed
/// decides the choices; which messages a step can choose among depends on what has arrived by then.)
private struct ChurningMember {
    let name: String
    let client: TestClient
    let group: ConversationID
    var random: SeededRandomNumbers
    var own: [MessageID] = []
    var deleted: Set<MessageID> = []

    init(name: String, client: TestClient, group: ConversationID, seed: UInt64) {
        self.name = name
        self.client = client
        self.group = group
        random = SeededRandomNumbers(seed: seed)
    }

    mutating func step(_ number: Int) async throws {
        let live = own.filter { !deleted.contains($0) }
        // Messages anyone sent, as this client has received them.
        let seen = ChurnUnderCutsTests.shown(in: group, client.events).keys.sorted { $0.rawValue < $1.rawValue }
        var choice = Int.random(in: 0..<10, using: &random)
        // Nothing to edit or delete yet, or to react to: a send instead.
        if (4...6).contains(choice) && live.isEmpty || choice >= 7 && seen.isEmpty { choice = 0 }
        switch choice {
        case 0...3:
            // `send` waits for the server across cuts, resending with the same client message ID.
            own.append(try await client.client.send("\(name) \(number)", to: group).id)
        case 4...5:
            let message = live.randomElement(using: &random)!
            try await retried { try await $0.edit(message, body: "\(name) \(number), edited") }
        case 6:
            let message = live.randomElement(using: &random)!
            try await retried { try await $0.delete(message) }
            deleted.insert(message)
        case 7...8:
            let message = seen.randomElement(using: &random)!
            let emoji = ChurnUnderCutsTests.emoji.randomElement(using: &random)!
            try await retried { try await $0.react(emoji, to: message) }
        default:
            let message = seen.randomElement(using: &random)!
            let emoji = ChurnUnderCutsTests.emoji.randomElement(using: &random)!
            try await retried { try await $0.unreact(emoji, from: message) }
        }
    }

    /// Runs a request until the server answers it; a refusal (a reaction to a message deleted meanwhile, one
    /// removed twice) is an answer too: the test compares what the server holds in the end, whatever the steps did.
    private func retried(_ request: (ChatClient) async throws -> Message) async throws {
        do {
            _ = try await untilAnswered(client.client, request)
        } catch is ChatError {
            // Refused.
        }
    }
}

/// Runs a request until the server answers it: one cut with the connection (`unavailable`, its outcome unknown) is
/// made again once the client is connected, one over the rate limit after its retry-after. Throws a refusal.
private func untilAnswered<Value>(_ client: ChatClient, _ request: (ChatClient) async throws -> Value) async throws
    -> Value
{
    while true {
        do {
            return try await request(client)
        } catch let error as ChatError where error.code == .unavailable {
            try await client.connected()
        } catch let error as ChatError where error.code == .limitExceeded {
            try await Task.sleep(for: error.retryAfter ?? .milliseconds(100))
        }
    }
}
