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
import ChatKitTesting
import Testing

/// How many users one creation or add may name, and what naming many costs. A creation's event lists every member
/// and goes to each of them: one request naming 6,700 users (what a frame holds) made the server send about 5 GB,
/// for one rate-limit token.
@Suite("Members named by one request")
struct MembersPerRequestTests {
    /// `count` users made in the store, for their IDs.
    static func users(_ count: Int, in store: InMemoryChatStore) async throws -> [UserID] {
        var users: [UserID] = []
        for index in 0..<count {
            users.append(try await store.createUser(NewUser(username: "user\(index)"), passwordHash: nil).id)
        }
        return users
    }

    @Test func aCreationOrAnAddNamingMoreThanTheLimitIsRefusedAndChangesNothing() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxMembersPerRequest = 3
        let store = InMemoryChatStore()
        try await LiveServer.run(store: store, configuration: configuration) { live in
            let alice = try await live.signUp("alice")
            let others = try await Self.users(6, in: store)
            let client = try await live.connect(alice.accessToken)
            // Clients are told the limit.
            #expect(try await client.client.connected().limits.maxMembersPerRequest == 3)

            let tooMany = try await #require(throws: ChatError.self) {
                try await client.client.createGroup("Four", members: Array(others.prefix(4)))
            }
            #expect(tooMany.code == .limitExceeded)
            #expect(tooMany.reason?.contains("at most 3 members") == true, "\(tooMany)")
            #expect(try await client.client.conversations().isEmpty)

            // Repeats count: the store would go through each.
            let repeated = try await #require(throws: ChatError.self) {
                try await client.client.createGroup("Repeats", members: [others[0], others[0], others[1], others[1]])
            }
            #expect(repeated.code == .limitExceeded)

            // The creator is not counted, even when listed.
            let aliceID = alice.user.id
            let group = try await client.client.createGroup("Three", members: [aliceID] + Array(others.prefix(3)))
            let addRefused = try await #require(throws: ChatError.self) {
                try await client.client.addMembers(Array(others.suffix(4)), to: group.id)
            }
            #expect(addRefused.code == .limitExceeded)
            #expect(try await store.memberCount(of: group.id) == 4)
            // A group grows past the limit by further adds.
            _ = try await client.client.addMembers(Array(others[3..<6]), to: group.id)
            #expect(try await store.memberCount(of: group.id) == 7)
        }
    }

    /// A creation naming 300 users costs three rate-limit tokens beyond its own: after it, its creator has three
    /// requests fewer left in the burst than a user who created a group of no one.
    @Test func namingManyUsersCostsRateLimitTokens() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.requestsPerSecond = 10
        let store = InMemoryChatStore()
        // A clock that does not move: no token comes back while the test runs.
        try await LiveServer.run(store: store, configuration: configuration, clock: ManualClock()) { live in
            let others = try await Self.users(300, in: store)
            var left: [Int] = []
            for (name, members) in [("alice", others), ("bob", [])] {
                let client = try await live.connect(try await live.signUp(name).accessToken)
                _ = try await client.client.createGroup("Group of \(name)", members: members)
                var served = 0
                while served < 100 {
                    do {
                        _ = try await client.client.conversations()
                        served += 1
                    } catch let error as ChatError where error.code == .limitExceeded {
                        break
                    }
                }
                left.append(served)
            }
            #expect(left[0] == left[1] - 3, "requests left after the creation: \(left)")
        }
    }
}
