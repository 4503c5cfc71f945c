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
import Foundation
import Testing

@testable import ChatKitServer

/// Pages of large messages over the real WebSocket edge: cut to what a client takes in one frame, and a peer that
/// asks for many without reading is closed once their bytes pile up.
@Suite("Large results")
struct LargeResultsTests {
    /// A group of alice and bob holding `count` messages of 60,000 bytes each, numbered in their first bytes.
    private func largeMessages(_ count: Int, in live: LiveServer) async throws -> (AuthTokens, ConversationID) {
        let alice = try await live.signUp("alice")
        let bob = try await live.signUp("bob")
        let group = try await live.store.createConversation(
            .group("large", createdBy: alice.user.id, members: [bob.user.id])
        ).id
        for number in 1...count {
            let body = "\(number) " + String(repeating: "x", count: 60_000)
            _ = try await live.store.append(NewMessage(conversationID: group, senderID: alice.user.id, body: body))
        }
        return (alice, group)
    }

    /// A page of 30 such messages is 1.8 MB, over ChatClient's 1 MiB frame limit: the client's transport used to
    /// close the connection at it, again at every try.
    @Test func pagesOfLargeMessagesAreCutAndPageOnToTheEnd() async throws {
        try await LiveServer.run { live in
            let (alice, group) = try await largeMessages(30, in: live)
            let session = try await live.connect(alice.accessToken)
            let client = session.client

            var pages: [[Message]] = [try await client.history(of: group, limit: 30)]
            #expect(pages[0].count < 30, "\(pages[0].count) messages in one page")
            #expect(pages[0].last?.seq == 30, "the newest messages come first")
            while let first = pages.last?.first?.seq, first > 1 {
                pages.append(try await client.history(of: group, before: first, limit: 30))
            }
            #expect(pages.reversed().joined().map(\.seq) == Array(1...30))

            let older = try await client.history(of: group, after: 0, limit: 30)
            #expect(older.first?.seq == 1 && older.count < 30, "after a seq, the oldest messages come first")

            var cursor = StreamPosition.start
            var synced: [Int64] = []
            var syncPages = 0
            while true {
                let page = try await client.sync(after: cursor, limit: 100)
                synced += page.events.compactMap(\.message?.seq)
                cursor = page.cursor
                syncPages += 1
                if !page.hasMore { break }
            }
            #expect(synced == Array(1...30))
            #expect(syncPages > 1)

            let hits = try await client.search("x*", limit: 30)
            #expect(!hits.isEmpty && hits.count < 30, "\(hits.count) hits")
            await session.disconnect()
        }
    }

    /// A conversation list was one frame, whatever its size: a user in many conversations whose last messages are
    /// large got megabytes at once (over a client's frame limit). It comes in pages cut to the same budget, and
    /// ChatClient reads them all.
    @Test func aConversationListOfLargeLastMessagesComesInPagesThatHoldEveryConversationOnce() async throws {
        try await LiveServer.run { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            var groups: [ConversationID] = []
            for number in 1...24 {
                let group = try await live.store.createConversation(
                    .group("large \(number)", createdBy: bob.user.id, members: [alice.user.id])
                ).id
                let body = "\(number) " + String(repeating: "x", count: 60_000)
                _ = try await live.store.append(NewMessage(conversationID: group, senderID: bob.user.id, body: body))
                groups.append(group)
            }
            let session = try await live.connect(alice.accessToken)
            let client = session.client

            let first = try await client.conversations(before: nil)
            #expect(first.hasMore, "a first page of \(first.conversations.count)")
            #expect(first.conversations.count < 24 && !first.conversations.isEmpty)
            #expect(first.conversations.first?.conversation.id == groups.last, "the most recently active first")

            let all = try await client.conversations()
            #expect(all.map(\.conversation.id) == groups.reversed())
            #expect(all.allSatisfy { $0.unreadCount == 1 && ($0.lastMessage?.body.count ?? 0) > 60_000 })

            // A limit is a page's size when the messages are small enough; the last page says there is no more.
            let small = try await client.conversations(before: all[20].activity, limit: 2)
            #expect(small.conversations.map(\.conversation.id) == [groups[2], groups[1]])
            #expect(small.hasMore)
            let last = try await client.conversations(before: all[22].activity, limit: 5)
            #expect(last.conversations.map(\.conversation.id) == [groups[0]])
            #expect(!last.hasMore)
            await session.disconnect()
        }
    }

    /// The members of a full channel (10,000) are about 1.3 MB in one frame: over the 1 MiB ChatClient took, so it
    /// could not list them (its connection closed at the answer, at every try).
    @Test func theMembersOfAFullChannelReachAChatClient() async throws {
        try await LiveServer.run { live in
            let owner = try await live.signUp("owner")
            var members: [UserID] = []
            for number in 1..<ChatServerConfiguration.Limits().maxMembers {
                members.append(try await live.store.createUser(NewUser(username: "m\(number)"), passwordHash: nil).id)
            }
            let channel = try await live.store.createConversation(
                .channel("full", createdBy: owner.user.id, members: members)
            ).id
            let session = try await live.connect(owner.accessToken)
            let listed = try await session.client.members(of: channel)
            #expect(listed.count == ChatServerConfiguration.Limits().maxMembers)
            await session.disconnect()
        }
    }

    /// Events other than messages can be large too: a group created with 2,000 members is an event of about 260 KB.
    /// A sync page counted them at a fixed size, so 20 of them went out as one 5 MB page.
    @Test func syncPagesOfLargeMembershipEventsAreCut() async throws {
        try await LiveServer.run { live in
            let owner = try await live.signUp("owner")
            var members: [UserID] = []
            for number in 1...2000 {
                members.append(try await live.store.createUser(NewUser(username: "m\(number)"), passwordHash: nil).id)
            }
            for number in 1...20 {
                _ = try await live.store.createConversation(
                    .group("group \(number)", createdBy: owner.user.id, members: members)
                )
            }
            let session = try await live.connect(owner.accessToken)
            let first = try await session.client.sync(after: .start, limit: 100)
            #expect(first.hasMore && first.events.count < 20, "\(first.events.count) events")
            var created = first.events.filter { $0.kind == .conversationCreated }.count
            var cursor = first.cursor
            while true {
                let page = try await session.client.sync(after: cursor, limit: 100)
                created += page.events.filter { $0.kind == .conversationCreated }.count
                cursor = page.cursor
                if !page.hasMore { break }
            }
            #expect(created == 20)
            await session.disconnect()
        }
    }

    /// The outbox counted frames only: 40 half-megabyte pages were 40 frames, far under 4,096, so a peer that
    /// asked for them and read nothing made the server hold 20 MB. Bytes count now too.
    @Test func aPeerThatAsksForLargePagesAndReadsNothingIsClosedAsASlowConsumer() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.outboundQueueBytes = 2 * 1024 * 1024
        configuration.limits.requestsPerSecond = 1000
        // The peer reads the megabytes already sent before the close frame; on a busy machine that may take
        // longer than the default 5 s the server waits for the peer's answer to its close.
        let transport = WebSocketServerTransport.Configuration(closeTimeout: .seconds(60))
        try await LiveServer.run(configuration: configuration, transportConfiguration: transport) { live in
            let (alice, group) = try await largeMessages(30, in: live)
            let codec = WireCodec()
            let hello = Array(try codec.encode(ClientFrame(id: "h", .hello(.init(token: alice.accessToken)))).utf8)
            let history = try (0..<40).map { number in
                Array(
                    try codec.encode(
                        ClientFrame(id: "p\(number)", .history(.init(conversationID: group, limit: 30)))
                    ).utf8
                )
            }
            let port = live.port
            let server = live.server
            let close = try await withTimeout("the close") {
                try await onDedicatedThread { () throws -> RawWebSocketPeer.Frame? in
                    // Open the session (read up to `synced`), then ask for the pages and read nothing.
                    let peer = try RawWebSocketPeer(port: port, receiveBufferSize: 4096)
                    _ = try peer.upgrade()
                    try peer.write(opcode: RawWebSocketPeer.text, hello)
                    while let frame = try peer.readFrame(opcode: RawWebSocketPeer.text),
                        !frame.text.contains(#""type":"synced""#)
                    {}
                    for request in history { try peer.write(opcode: RawWebSocketPeer.text, request) }
                    // The session ends once its outbox overflows; before, the server kept every page.
                    let deadline = ContinuousClock.now + .seconds(60)
                    while server.connectionCount > 0 {
                        guard ContinuousClock.now < deadline else { return nil }
                        Thread.sleep(forTimeInterval: 0.005)
                    }
                    return try peer.readFrame(opcode: RawWebSocketPeer.close)
                }
            }
            let frame = try #require(close, "the socket was not closed")
            #expect(frame.closeReason.hasPrefix("slowConsumer"), "\(frame.closeCode ?? 0) \(frame.closeReason)")
        }
    }
}
