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
        try await churn(members: ["alice", "bob", "carol"], seed: seed, ownerManagesMembers: false)
    }

    @Test(
        "the same while the owner removes members and adds them back: each gets its events once, none of its absence",
        arguments: [1, 2] as [UInt64]
    )
    func membersComingAndGoingGetTheirEventsOnce(seed: UInt64) async throws {
        try await churn(members: ["alice", "bob", "carol", "dave"], seed: seed, ownerManagesMembers: true)
    }

    /// Runs every member's steps at once while the relay cuts every socket every ``cutEvery`` steps, then checks each
    /// client against the server: its events against a sync, and (for those never removed) its messages against
    /// the history. With `ownerManagesMembers`, the owner (the first member) also removes members and adds them back
    /// among its steps, and adds back every member removed at the end.
    private func churn(members: [String], seed: UInt64, ownerManagesMembers: Bool) async throws {
        try await GroupUnderCuts.run(members: members) { setUp in
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
            // The members the owner removed at some point: they missed events while away.
            let everRemoved = try await withThrowingTaskGroup(of: Set<UserID>.self) { tasks in
                for (index, (client, name)) in zip(clients, members).enumerated() {
                    tasks.addTask {
                        var member = ChurningMember(
                            name: name, client: client, group: group, seed: seed &* 31 &+ UInt64(index),
                            manages: index == 0 && ownerManagesMembers ? Array(setUp.userIDs.dropFirst()) : []
                        )
                        for step in 1...Self.stepsEach {
                            member = try await withTimeout("\(name)'s step \(step)") { [member] in
                                var stepping = member
                                try await stepping.step(step)
                                return stepping
                            }
                            stepped.yield()
                        }
                        try await withTimeout("\(name) adding back whom it removed") { [member] in
                            var adding = member
                            try await adding.addBackAll()
                        }
                        return member.everRemoved
                    }
                }
                return try await tasks.reduce(into: Set<UserID>()) { $0.formUnion($1) }
            }
            stepped.finish()
            #expect(await cutter.value == members.count * Self.stepsEach / Self.cutEvery, "cuts made")

            let history = try await withTimeout("the history") {
                try await untilAnswered(clients[0].client) { try await $0.history(of: group, limit: 500) }
            }
            let expected = Dictionary(uniqueKeysWithValues: history.map { ($0.id, Shown($0)) })
            #expect(history.map(\.seq) == Array(1...Int64(history.count)), "the history has gaps")
            for (index, (client, name)) in zip(clients, members).enumerated() {
                if !everRemoved.contains(setUp.userIDs[index]) {
                    try await Self.expectShown(expected, by: client, name, in: group)
                }
                try await Self.expectEachEventOnce(at: client, name)
            }
        }
    }

    /// Expects `client` to come to show the messages of `group` as `expected`.
    private static func expectShown(
        _ expected: [MessageID: Shown], by client: TestClient, _ name: String, in group: ConversationID
    ) async throws {
        do {
            try await client.waitFor("\(name)'s messages to be the server's") { events in
                shown(in: group, events) == expected
            }
        } catch {
            let shown = shown(in: group, client.events)
            let differing = Set(expected.keys).union(shown.keys).filter { expected[$0] != shown[$0] }
            let examples = differing.prefix(5).map { id in
                "\(id): \(shown[id]?.description ?? "missing") against " + (expected[id]?.description ?? "missing")
            }
            Issue.record("\(name) shows \(differing.count) messages otherwise than the server: \(examples)")
        }
    }

    /// Expects the events `client` received to be its user's, each once, in order, as a sync from the start reads
    /// them.
    private static func expectEachEventOnce(at client: TestClient, _ name: String) async throws {
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
        #expect(synced.filter { $0 >= first && $0 <= last } == received, "\(name)'s events against a sync")
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

/// One member's random steps: sends, edits and deletions of its own messages, reactions to anyone's, and for the
/// owner, removing members and adding them back. (The seed decides the choices; which messages a step can choose
/// among depends on what has arrived by then.)
private struct ChurningMember {
    let name: String
    let client: TestClient
    let group: ConversationID
    /// The members this one removes and adds back (the owner's others), or none.
    let manages: [UserID]
    var random: SeededRandomNumbers
    var own: [MessageID] = []
    var deleted: Set<MessageID> = []
    var removed: Set<UserID> = []
    var everRemoved: Set<UserID> = []

    init(name: String, client: TestClient, group: ConversationID, seed: UInt64, manages: [UserID]) {
        self.name = name
        self.client = client
        self.group = group
        self.manages = manages
        random = SeededRandomNumbers(seed: seed)
    }

    /// Adds back every member this one removed.
    mutating func addBackAll() async throws {
        guard !removed.isEmpty else { return }
        let users = Array(removed)
        try await retried { try await $0.addMembers(users, to: group) }
        removed = []
    }

    mutating func step(_ number: Int) async throws {
        let live = own.filter { !deleted.contains($0) }
        // Messages anyone sent, as this client has received them.
        let seen = ChurnUnderCutsTests.shown(in: group, client.events).keys.sorted { $0.rawValue < $1.rawValue }
        var choice = Int.random(in: 0..<(manages.isEmpty ? 10 : 13), using: &random)
        // Nothing to edit or delete yet, or to react to: a send instead.
        if (4...6).contains(choice) && live.isEmpty || (7...9).contains(choice) && seen.isEmpty { choice = 0 }
        switch choice {
        case 0...3:
            // `send` waits for the server across cuts, resending with the same client message ID; a member removed
            // meanwhile is refused.
            do {
                own.append(try await client.client.send("\(name) \(number)", to: group).id)
            } catch is ChatError {
                // Not a member now.
            }
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
        case 9:
            let message = seen.randomElement(using: &random)!
            let emoji = ChurnUnderCutsTests.emoji.randomElement(using: &random)!
            try await retried { try await $0.unreact(emoji, from: message) }
        default:
            // The owner: removes a member, or adds one back (none left to remove: adds back; none removed: removes).
            let present = manages.filter { !removed.contains($0) }
            if !present.isEmpty && (removed.isEmpty || choice < 12) {
                let user = present.randomElement(using: &random)!
                try await retried { try await $0.removeMember(user, from: group) }
                removed.insert(user)
                everRemoved.insert(user)
            } else {
                let user = removed.randomElement(using: &random)!
                try await retried { try await $0.addMembers([user], to: group) }
                removed.remove(user)
            }
        }
    }

    /// Runs a request until the server answers it; a refusal (a reaction to a message deleted meanwhile, one
    /// removed twice) is an answer too: the test compares what the server holds in the end, whatever the steps did.
    private func retried<Value>(_ request: (ChatClient) async throws -> Value) async throws {
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
