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


@testable import ChatKitCore
import Testing

/// What the in-memory store keeps of a deleted message.
@Suite("In-memory deletions")
struct InMemoryDeletionTests {
    /// Reads redacted a deleted message's text, but the events of its creation, edits and reactions kept it in
    /// memory for the process's life (the SQLite store scrubs its rows).
    @Test(arguments: [false, true])
    func aDeletedMessagesTextIsGoneFromEveryEvent(changedFirst: Bool) async throws {
        let store = InMemoryChatStore()
        let alice = try await store.createUser(NewUser(username: "alice"), passwordHash: nil).id
        let bob = try await store.createUser(NewUser(username: "bob"), passwordHash: nil).id
        let chat = try await store.createConversation(.direct(between: alice, and: bob)).id
        let secret = try await store.append(
            NewMessage(conversationID: chat, senderID: alice, clientMessageID: "1", body: "the first secret")
        )
        let kept = try await store.append(
            NewMessage(conversationID: chat, senderID: alice, clientMessageID: "2", body: "kept")
        )
        if changedFirst {
            _ = try await store.editMessage(secret.id, body: "the second secret", by: alice)
            _ = try await store.addReaction("👍", to: secret.id, by: bob)
            _ = try await store.editMessage(kept.id, body: "kept, edited", by: alice)
        }
        _ = try await store.deleteMessage(secret.id, by: alice)

        let bodies = try store.withState { state in state.log.map { $0.event.message?.body ?? "" } }
        #expect(!bodies.contains { $0.contains("secret") }, "\(bodies)")
        #expect(bodies.contains(changedFirst ? "kept, edited" : "kept"))
        if changedFirst { #expect(bodies.contains("kept"), "the other message's creation still shows it as created") }
        let events = try await store.allEvents(after: .start, limit: 100)
        #expect(events.filter { $0.message?.id == secret.id }.allSatisfy { $0.message?.isDeleted == true })
    }
}
