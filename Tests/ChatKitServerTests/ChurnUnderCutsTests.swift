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
/// now and then: each member's client must have received each of its user's events once, in order (live or in a
/// catch-up), and end showing the messages as the server holds them (a member never removed from the group).
/// `DeliveryUnderCutsTests` checks new messages alone.
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
    /// the history. With `ownerManagesMembers`, the owner (the first member) also removes members (all but the last,
    /// whose view is then checked as well) and adds them back among its steps, and adds back every member removed at
    /// the end.
    private func churn(members: [String], seed: UInt64, ownerManagesMembers: Bool) async throws {
        try await GroupUnderCuts.run(members: members) { setUp in
            let (relay, clients, group) = (setUp.relay, setUp.clients, setUp.group)
            let (progress, stepped) = AsyncStream.makeStream(of: Void.self)
            let cutter = Task {
                var steps = 0
                var (cuts, socketsClosed) = (0, 0)
                for await _ in progress {
                    steps += 1
                    if steps % Self.cutEvery == 0 {
                        socketsClosed += relay.cutAll()
                        cuts += 1
                    }
                }
                return (cuts, socketsClosed)
            }
            // The members the owner removed at some point: they missed events while away.
            let everRemoved = try await withThrowingTaskGroup(of: Set<UserID>.self) { tasks in
                for (index, (client, name)) in zip(clients, members).enumerated() {
                    tasks.addTask {
                        var member = ChurningMember(
                            name: name, client: client, group: group, seed: seed &* 31 &+ UInt64(index),
                            manages: index == 0 && ownerManagesMembers
                                ? Array(setUp.userIDs.dropFirst().dropLast()) : [],
                            expectsRemovals: ownerManagesMembers
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
            // Each cut closed sockets (two per connection relayed), not only was asked for.
            let (cuts, socketsClosed) = await cutter.value
            #expect(cuts == members.count * Self.stepsEach / Self.cutEvery && socketsClosed >= 2 * cuts, "\(cuts) cuts")

            let history = try await withTimeout("the history") {
                try await untilAnswered(clients[0].client) { try await $0.history(of: group, limit: 500) }
            }
            let expected = Dictionary(uniqueKeysWithValues: history.map { ($0.id, Shown($0)) })
            #expect(history.map(\.seq) == Array(1...Int64(history.count)), "the history has gaps")
            for (index, (client, name)) in zip(clients, members).enumerated() {
                if !everRemoved.contains(setUp.userIDs[index]) {
                    try await Self.expectShown(expected, by: client, name, in: group)
                }
                try await Self.expectEachEventOnce(at: client, name, after: setUp.openedAt[index])
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

    /// Expects `client`, whose first session opened at `start`, to come to have received every event of its user
    /// after it, each once, in order, as a sync from the start reads them.
    private static func expectEachEventOnce(at client: TestClient, _ name: String, after start: StreamPosition)
        async throws
    {
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
        let expected = synced.filter { $0 > start }
        if let last = expected.last {
            try? await client.waitFor("\(name)'s events through \(last)") { events in
                events.contains { if case .stored(let event) = $0 { event.position >= last } else { false } }
            }
        }
        #expect(client.storedEvents.map(\.position) == expected, "\(name)'s events against a sync")
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
    /// Whether the owner removes members: their requests are then refused with `notFound` while they are away.
    let expectsRemovals: Bool
    var random: SeededRandomNumbers
    var own: [MessageID] = []
    var deleted: Set<MessageID> = []
    var removed: Set<UserID> = []
    var everRemoved: Set<UserID> = []

    init(
        name: String, client: TestClient, group: ConversationID, seed: UInt64, manages: [UserID], expectsRemovals: Bool
    ) {
        self.name = name
        self.client = client
        self.group = group
        self.manages = manages
        self.expectsRemovals = expectsRemovals
        random = SeededRandomNumbers(seed: seed)
    }

    /// Adds back every member this one removed.
    mutating func addBackAll() async throws {
        guard !removed.isEmpty else { return }
        let users = Array(removed)
        try await retried(refusals: [.conflict, .notFound]) { try await $0.addMembers(users, to: group) }
        removed = []
    }

    mutating func step(_ number: Int) async throws {
        let live = own.filter { !deleted.contains($0) }
        // Messages anyone sent, as this client has received them.
        let seen = ChurnUnderCutsTests.shown(in: group, client.events).keys.sorted { $0.rawValue < $1.rawValue }
        var choice = Int.random(in: 0..<(manages.isEmpty ? 10 : 13), using: &random)
        // Nothing to edit or delete yet, or to react to: a send instead.
        if (4...6).contains(choice) && live.isEmpty || (7...9).contains(choice) && seen.isEmpty { choice = 0 }
        // A member the owner removed is refused everything with `notFound` while away; a reaction to a message
        // deleted meanwhile is refused with `conflict`. Any other refusal is a failure.
        let away: Set<ChatError.Code> = expectsRemovals ? [.notFound] : []
        switch choice {
        case 0...3:
            // `send` waits for the server across cuts, resending with the same client message ID (a resend of a
            // message stored before a removal is answered with it).
            do {
                own.append(try await client.client.send("\(name) \(number)", to: group).id)
            } catch let error as ChatError where away.contains(error.code) {
                // Not a member now.
            } catch let error as ChatError {
                Issue.record("\(name)'s send \(number) was refused: \(error)")
            }
        case 4...5:
            let message = live.randomElement(using: &random)!
            try await retried(refusals: away) { try await $0.edit(message, body: "\(name) \(number), edited") }
        case 6:
            let message = live.randomElement(using: &random)!
            try await retried(refusals: away) { try await $0.delete(message) }
            deleted.insert(message)
        case 7...8:
            let message = seen.randomElement(using: &random)!
            let emoji = ChurnUnderCutsTests.emoji.randomElement(using: &random)!
            try await retried(refusals: away.union([.conflict])) { try await $0.react(emoji, to: message) }
        case 9:
            let message = seen.randomElement(using: &random)!
            let emoji = ChurnUnderCutsTests.emoji.randomElement(using: &random)!
            try await retried(refusals: away.union([.conflict])) { try await $0.unreact(emoji, from: message) }
        default:
            // The owner: removes a member, or adds one back (none left to remove: adds back; none removed: removes).
            let present = manages.filter { !removed.contains($0) }
            if !present.isEmpty && (removed.isEmpty || choice < 12) {
                let user = present.randomElement(using: &random)!
                // Made again after a lost answer, a removal is refused with `notFound`: the user is not a member.
                try await retried(refusals: [.notFound]) { try await $0.removeMember(user, from: group) }
                removed.insert(user)
                everRemoved.insert(user)
            } else {
                let user = removed.randomElement(using: &random)!
                try await retried(refusals: [.conflict, .notFound]) { try await $0.addMembers([user], to: group) }
                removed.remove(user)
            }
        }
    }

    /// Runs a request until the server answers it. A refusal with one of `refusals` is an answer too (the test
    /// compares what the server holds in the end, whatever the steps did); another is recorded as a failure.
    private func retried<Value>(
        refusals: Set<ChatError.Code>, _ request: (ChatClient) async throws -> Value
    ) async throws {
        do {
            _ = try await untilAnswered(client.client, request)
        } catch let error as ChatError where refusals.contains(error.code) {
            // Refused, as it may be.
        } catch let error as ChatError {
            Issue.record("\(name)'s request was refused: \(error)")
        }
    }
}

/// Runs a request until the server answers it: one cut with the connection (`unavailable` from the client, its
/// outcome unknown) is made again once the client is connected, one over the rate limit after its retry-after.
/// Throws any other refusal, the server's own `unavailable` included.
private func untilAnswered<Value>(_ client: ChatClient, _ request: (ChatClient) async throws -> Value) async throws
    -> Value
{
    while true {
        do {
            return try await request(client)
        } catch let error as ChatError
            where error.code == .unavailable && !(error.underlying is ChatClient.ServerAnswer)
        {
            try await client.connected()
        } catch let error as ChatError where error.code == .limitExceeded && error.retryAfter != nil {
            try await Task.sleep(for: error.retryAfter!)
        }
    }
}
