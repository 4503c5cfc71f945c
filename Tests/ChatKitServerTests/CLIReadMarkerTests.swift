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
import Foundation
import Testing

/// chatkit-cli's read markers: messages shown in the chat are marked read on the server, even when the connection
/// drops with the marker's request or the chat quits right after showing them (both were dropped, and the messages
/// stayed unread on the user's other devices until another one came).
@Suite("chatkit-cli: read markers survive disconnections and quitting")
struct CLIReadMarkerTests {
    /// Alice's read marker of `conversation` as stored.
    static func readSeq(of alice: UserID, in conversation: ConversationID, _ store: InMemoryChatStore) async throws
        -> Int64?
    {
        try await store.markers(of: conversation, as: alice).first { $0.userID == alice }?.readSeq
    }

    /// Alice, signed up with the CLI at `baseURL` (her chat's home is `home`), Bob connected to `live`, and their
    /// direct conversation.
    static func aliceAndBob(_ live: LiveServer, at baseURL: String, home: URL) async throws
        -> (alice: UserID, bob: TestClient, direct: Conversation)
    {
        try await TerminalClientTests.signUp("alice", at: baseURL, home: home)
        let alice = try #require(try await live.store.user(username: "alice")).id
        let bob = try await live.connect(try await live.signUp("bob").accessToken)
        return (alice, bob, try await bob.client.createDirectConversation(with: alice))
    }

    @Test func aMarkerLostWithItsConnectionIsSentAgainAfterTheReconnect() async throws {
        let home = CLIReviewFixesTests.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            try await TCPRelay.run(to: live.port) { relay in
                let baseURL = "http://127.0.0.1:\(relay.port)"
                let (alice, bob, direct) = try await Self.aliceAndBob(live, at: baseURL, home: home)
                // The marker's request reaches the server, which loses it (stores nothing) as the connection drops.
                let (markEntered, markProceeds) = (TestGate(), TestGate())
                defer { markProceeds.open() }
                gated.holdNextMarkRead(entered: markEntered, proceed: markProceeds, fails: true)

                let chat = try CLIReviewFixesTests.chat(["bob"], at: baseURL, home: home, device: "alice")
                defer { chat.terminate() }
                try await chat.waitFor("== bob ==")
                let message = try await bob.client.send("read me", to: direct.id)
                try await chat.waitFor("bob: read me")
                try await withTimeout("alice's marker to reach the store") { await markEntered.wait() }
                relay.cutAll()
                markProceeds.open()
                try await waitUntilAsync("alice's marker to be sent again and stored") {
                    try await Self.readSeq(of: alice, in: direct.id, store) == message.seq
                }
                try await chat.quit()
                await bob.disconnect()
            }
        }
    }

    @Test func quittingSendsTheMarkersOfMessagesShownJustBefore() async throws {
        let home = CLIReviewFixesTests.temporaryHome()
        defer { try? FileManager.default.removeItem(at: home) }
        let store = InMemoryChatStore()
        let gated = CLIGatedStore(store)
        try await LiveServer.run(store: store, serverStore: gated) { live in
            let (alice, bob, direct) = try await Self.aliceAndBob(live, at: live.baseURL, home: home)
            // The first marker is held at the store, so that the second message is shown while it is under way:
            // the chat notes the second marker, to be sent once the first is answered.
            let (markEntered, markProceeds) = (TestGate(), TestGate())
            defer { markProceeds.open() }
            gated.holdNextMarkRead(entered: markEntered, proceed: markProceeds, fails: false)

            let chat = try CLIReviewFixesTests.chat(["bob"], at: live.baseURL, home: home, device: "alice")
            defer { chat.terminate() }
            try await chat.waitFor("== bob ==")
            _ = try await bob.client.send("one", to: direct.id)
            try await chat.waitFor("bob: one")
            try await withTimeout("alice's first marker to reach the store") { await markEntered.wait() }
            let two = try await bob.client.send("two", to: direct.id)
            try await chat.waitFor("bob: two")
            chat.type("/quit")
            markProceeds.open()
            try await chat.waitFor("Bye.")
            #expect(try await Self.readSeq(of: alice, in: direct.id, store) == two.seq)
            await bob.disconnect()
        }
    }
}
