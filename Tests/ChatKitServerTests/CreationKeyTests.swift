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

/// A creation asked again with its key, as a client does when the connection dropped before the answer: over the
/// real WebSocket edge, it answers the conversation the first request made, and the members hear of it once.
@Suite("Creation keys")
struct CreationKeyTests {
    @Test("a group created again with its key on a new connection is the first; its members hear of it once")
    func aCreationAskedAgainAnswersTheFirstGroup() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let bob = bobTokens.user.id
            let bobSession = try await live.connect(bobTokens.accessToken)
            let firstSession = try await live.connect(aliceTokens.accessToken)
            let first = try await firstSession.client.createGroup("Team", members: [bob], creationKey: "team-1")
            await firstSession.disconnect()

            let secondSession = try await live.connect(aliceTokens.accessToken)
            let alice = secondSession.client
            let again = try await alice.createGroup("Team", members: [bob], creationKey: "team-1")
            #expect(again.id == first.id)
            let other = try await alice.createGroup("Team", members: [bob])
            let another = try await alice.createGroup("Team", members: [bob])
            #expect(Set([first.id, other.id, another.id]).count == 3, "calls without a key make a group each")

            // Events reach bob in the order they were stored: once the last group's creation is there, a second
            // creation event of the first would be too.
            try await bobSession.waitFor("the last group's creation") { events in
                events.contains { event in
                    guard case .stored(let stored) = event else { return false }
                    return stored.kind == .conversationCreated && stored.conversationID == another.id
                }
            }
            let creations = bobSession.storedEvents.filter { $0.kind == .conversationCreated }
            #expect(creations.map(\.conversationID) == [first.id, other.id, another.id])

            let tooLong = String(repeating: "k", count: NewConversation.maxCreationKeyBytes + 1)
            #expect(await code { _ = try await alice.createGroup("Team", creationKey: tooLong) } == .limitExceeded)
            #expect(await code { _ = try await alice.createChannel("News", creationKey: "") } == .invalidArgument)
            #expect(try await alice.conversations().count == 3)
        }
    }
}
