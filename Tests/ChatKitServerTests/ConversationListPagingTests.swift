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

/// `ChatClient.conversations()` reading the list a page at a time over the real WebSocket edge while it changes.
@Suite("A conversation list read in pages")
struct ConversationListPagingTests {
    /// The in-memory store, where a user leaves a conversation (``leave``) just before the first page after the
    /// first is read, as another of their devices would.
    final class LeavingStore: ChatStoreDecorator {
        let base: any ChatStore
        /// Who leaves what, once; `nil` when done or not set.
        let leave = Mutex<(user: UserID, conversation: ConversationID)?>(nil)

        init(_ base: any ChatStore) { self.base = base }

        func conversations(of user: UserID, before: StreamPosition?, limit: Int) async throws
            -> [ConversationSummary]
        {
            if before != nil, let leave = leave.withLock({ leave in defer { leave = nil }; return leave }) {
                try await base.removeMember(leave.user, from: leave.conversation, by: leave.user)
            }
            return try await base.conversations(of: user, before: before, limit: limit)
        }
    }

    /// The list read the first page again at the end, but kept what the earlier pages held beside it: a
    /// conversation left while later pages were read stayed listed (answering `notFound` when opened).
    @Test func aConversationLeftWhileLaterPagesAreReadIsNotListed() async throws {
        let store = InMemoryChatStore()
        let leaving = LeavingStore(store)
        var configuration = ChatServerConfiguration()
        configuration.limits.maxPageSize = 2
        try await LiveServer.run(store: store, configuration: configuration, serverStore: leaving) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            var groups: [ConversationID] = []
            for number in 1...5 {
                groups.append(
                    try await store.createConversation(
                        .group("g\(number)", createdBy: bob.user.id, members: [alice.user.id])
                    ).id
                )
            }
            let session = try await live.connect(alice.accessToken)
            leaving.leave.withLock { $0 = (alice.user.id, groups[4]) }
            let listed = try await session.client.conversations()
            #expect(leaving.leave.withLock { $0 == nil }, "alice left while the list was read")
            #expect(listed.map(\.conversation.id) == Array(groups[0..<4].reversed()))
            await session.disconnect()
        }
    }
}
