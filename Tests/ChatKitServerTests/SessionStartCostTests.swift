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
import Synchronization
import Testing

@testable import ChatKitServer

/// What the server reads from the store when a session starts, over the real WebSocket edge.
@Suite("The cost of a session's start")
struct SessionStartCostTests {
    /// The in-memory store, counting reads of conversation lists (whole or a page).
    final class ListCountingStore: ChatStoreDecorator {
        let base: any ChatStore
        let listReads = Mutex(0)

        init(_ base: any ChatStore) { self.base = base }

        func conversations(of user: UserID) async throws -> [ConversationSummary] {
            listReads.withLock { $0 += 1 }
            return try await base.conversations(of: user)
        }

        func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
            -> [ConversationSummary]
        {
            listReads.withLock { $0 += 1 }
            return try await base.conversations(of: user, before: before, limit: limit)
        }
    }

    /// The in-memory store, counting reads of one conversation's current members.
    final class MemberReadCountingStore: ChatStoreDecorator {
        let base: any ChatStore
        let currentMemberReads = Mutex(0)

        init(_ base: any ChatStore) { self.base = base }

        func memberIDs(of id: ConversationID, at position: StreamPosition?) async throws -> [UserID] {
            if position == nil { currentMemberReads.withLock { $0 += 1 } }
            return try await base.memberIDs(of: id, at: position)
        }
    }

    /// Who shares presence with a user was read one conversation at a time (the members of each direct
    /// conversation and small group): thousands of reads at every connect of a user in thousands of groups. It
    /// is one read of the store now (`membersSharingPresence`).
    @Test func openingASessionReadsWhoSharesPresenceAtOnceNotPerConversation() async throws {
        let store = InMemoryChatStore()
        let counting = MemberReadCountingStore(store)
        try await LiveServer.run(store: store, serverStore: counting) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            _ = try await store.createConversation(.direct(between: alice.user.id, and: bob.user.id))
            for number in 1...5 {
                _ = try await store.createConversation(
                    .group("team \(number)", createdBy: bob.user.id, members: [alice.user.id])
                )
            }
            let bobSession = try await live.connect(bob.accessToken)
            let aliceSession = try await live.connect(alice.accessToken)
            try await aliceSession.waitFor("bob online") { events in
                events.contains { if case .presence(let update) = $0 { update.userID == bob.user.id } else { false } }
            }
            try await bobSession.waitFor("alice online") { events in
                events.contains { if case .presence(let update) = $0 { update.userID == alice.user.id } else { false } }
            }
            #expect(counting.currentMemberReads.withLock { $0 } == 0, "members read one conversation at a time")
            for session in [aliceSession, bobSession] { await session.disconnect() }
        }
    }

    /// Finding who shares presence read the user's whole conversation list, each conversation's last message and
    /// unread count included, at every `hello` (and every presence change): for a user in many conversations, a
    /// reconnect storm's cost. It asks the store who shares presence now (`membersSharingPresence`); presence still
    /// reaches the same users.
    @Test func openingASessionReadsMembershipsNotTheConversationList() async throws {
        let store = InMemoryChatStore()
        let counting = ListCountingStore(store)
        try await LiveServer.run(store: store, serverStore: counting) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let carol = try await live.signUp("carol")
            _ = try await store.createConversation(.direct(between: alice.user.id, and: bob.user.id))
            _ = try await store.createConversation(.group("team", createdBy: carol.user.id, members: [alice.user.id]))
            let bobSession = try await live.connect(bob.accessToken)
            let carolSession = try await live.connect(carol.accessToken)
            let aliceSession = try await live.connect(alice.accessToken)
            // Alice is introduced to both, and both hear that she came online.
            for (session, peer) in [(aliceSession, bob.user.id), (aliceSession, carol.user.id)] {
                try await session.waitFor("\(peer) online") { events in
                    events.contains { if case .presence(let update) = $0 { update.userID == peer } else { false } }
                }
            }
            for session in [bobSession, carolSession] {
                try await session.waitFor("alice online") { events in
                    events.contains {
                        if case .presence(let update) = $0 { update.userID == alice.user.id } else { false }
                    }
                }
            }
            #expect(counting.listReads.withLock { $0 } == 0, "a session's start read a conversation list")
            for session in [aliceSession, bobSession, carolSession] { await session.disconnect() }
        }
    }
}
