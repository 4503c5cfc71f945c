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
import Testing

@testable import ChatKitServer

/// What one user can make the server hold or do (review findings).
@Suite("Per-user bounds")
struct PerUserBoundsTests {
    /// A user could open any number of sessions, each with an outbox of up to 16 MiB: one account could make the
    /// server hold gigabytes. Connections per user are bounded; one closed makes room.
    @Test func aUserMayHoldAtMostTheConfiguredNumberOfConnections() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxConnectionsPerUser = 2
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let first = try await harness.connect("alice")
            // Held until the end: a dropped TestClient ends its session, which would make room for the third.
            let second = try await harness.connect("alice")
            defer { withExtendedLifetime(second) {} }
            let refused = await #expect(throws: ChatError.self) { try await harness.connect("alice") }
            #expect(refused?.code == .limitExceeded)
            #expect(refused?.reason?.contains("2 connections") == true)
            await first.disconnect()
            try await waitUntil("the first connection to go") {
                harness.server.registry.outboxes(of: alice).count == 1
            }
            _ = try await harness.connect("alice")
        }
    }

    /// Concurrent `addMembers` all read the same size and all passed the check: a group grew past maxMembers. Each
    /// conversation's membership changes now run one at a time.
    @Test func concurrentAdditionsCannotGrowAGroupPastItsLimit() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 5
        configuration.limits.requestsPerSecond = 1000
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            var others: [UserID] = []
            for number in 0..<12 { others.append(try await harness.user("user\(number)")) }
            let group = try await harness.store.createConversation(.group("Small", createdBy: alice))
            var sessions: [TestClient] = []
            for _ in 0..<4 { sessions.append(try await harness.connect("alice")) }
            let outcomes = await withTaskGroup(of: Bool.self) { tasks in
                for (index, session) in sessions.enumerated() {
                    let users = Array(others[(3 * index)..<(3 * index + 3)])
                    tasks.addTask { (try? await session.client.addMembers(users, to: group.id)) != nil }
                }
                return await tasks.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1, "\(outcomes)")
            #expect(try await harness.store.memberIDs(of: group.id).count == 4)
        }
    }

    /// `addMembers` counted only the distinct newcomers against maxMembers, and the store went through the whole
    /// list: tens of thousands of repeats of a few IDs, in the SQLite store's one writer. A list longer than the
    /// limit is refused, as a creation's is, before the store sees it.
    @Test func anAdditionListLongerThanTheLimitIsRefusedEvenWithRepeats() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 5
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let group = try await harness.store.createConversation(.group("Small", createdBy: alice))
            let session = try await harness.connect("alice")
            let repeated = [bob, carol, bob, carol, bob, carol]
            let refused = await #expect(throws: ChatError.self) {
                try await session.client.addMembers(repeated, to: group.id)
            }
            #expect(refused?.code == .limitExceeded)
            #expect(try await harness.store.memberIDs(of: group.id) == [alice])
            // Within the limit, repeats are added once.
            let added = try await session.client.addMembers(Array(repeated.prefix(5)), to: group.id)
            #expect(Set(added.map(\.userID)) == [bob, carol])
            #expect(added.count == 2)
        }
    }

    /// `join` counted members before asking whether the caller may know the conversation: a non-member joining a
    /// full private group learned that it exists ("full" instead of "not found").
    @Test func joiningAFullGroupOneIsNotInIsNotFound() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 2
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            let bob = try await harness.user("bob")
            _ = try await harness.user("carol")
            let group = try await harness.store.createConversation(.group("Full", createdBy: alice, members: [bob]))
            let carol = try await harness.connect("carol")
            let refused = await #expect(throws: ChatError.self) { try await carol.client.join(group.id) }
            #expect(refused?.code == .notFound)
        }
    }

    /// A channel at its limit refuses newcomers and lets a member join again (the count comes from the store's
    /// `memberCount`, the member list only when the channel is full).
    @Test func aFullChannelRefusesNewcomersButNotItsMembers() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembers = 2
        try await ServerHarness.run(configuration: configuration) { harness in
            let alice = try await harness.user("alice")
            _ = try await harness.user("bob")
            _ = try await harness.user("carol")
            let channel = try await harness.store.createConversation(
                NewConversation(kind: .channel, title: "Open", createdBy: alice)
            )
            let bob = try await harness.connect("bob")
            let carol = try await harness.connect("carol")
            #expect(try await bob.client.join(channel.id).role == .member)
            let refused = await #expect(throws: ChatError.self) { try await carol.client.join(channel.id) }
            #expect(refused?.code == .limitExceeded)
            #expect(try await bob.client.join(channel.id).role == .member, "a member joining again")
            try await bob.client.leave(channel.id)
            #expect(try await carol.client.join(channel.id).role == .member, "a place freed")
            #expect(try await harness.store.memberCount(of: channel.id) == 2)
        }
    }

    /// The `sync` request read after any cursor it was given: after a restore (a cursor past the store's end) the
    /// client was told nothing. It resumes where the store says, and the page's cursor, below the one sent, says so.
    @Test func aSyncFromACursorPastTheStoresEndResumesWhereTheStoreSays() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let alice = try await harness.connect("alice")
            let latest = try await harness.store.latestPosition()
            let page = try await alice.client.sync(after: StreamPosition(latest.rawValue + 1_000), limit: 10)
            #expect(page.cursor == latest)
            #expect(page.events.isEmpty)
        }
    }
}
