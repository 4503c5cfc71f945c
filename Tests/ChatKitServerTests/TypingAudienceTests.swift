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
@testable import ChatKitServer
import ChatKitTesting
import Testing

/// Where typing is shown, over the WebSocket edge: in direct conversations and groups up to
/// `typingMaxGroupSize`, not in channels or larger groups (where every typer's start, once a second, reached every
/// member).
@Suite("Typing's audience over WebSocket")
struct TypingAudienceTests {
    @Test func typingIsShownInSmallGroupsButNotInChannelsOrLargerGroups() async throws {
        var configuration = ChatServerConfiguration()
        configuration.typingMaxGroupSize = 3
        // A manual clock: no timer (the connections' hello deadlines) comes due while the test counts them.
        try await LiveServer.run(configuration: configuration, clock: ManualClock()) { live in
            let alice = try await live.signUp("alice")
            let bob = try await live.signUp("bob")
            let carol = try await live.signUp("carol")
            let dave = try await live.signUp("dave")
            let alicePhone = try await live.connect(alice.accessToken)
            let bobPhone = try await live.connect(bob.accessToken)
            let davePhone = try await live.connect(dave.accessToken)
            let small = try await alicePhone.client.createGroup("Small", members: [bob.user.id, carol.user.id])
            let large = try await alicePhone.client.createGroup(
                "Large", members: [bob.user.id, carol.user.id, dave.user.id]
            )
            let channel = try await alicePhone.client.createChannel("News", members: [bob.user.id])
            let timersBefore = live.server.timers.pendingCount

            // Accepted where it is not shown, and nothing kept for it: no record, no expiry timer.
            for conversation in [large.id, channel.id] {
                try await alicePhone.client.setTyping(true, in: conversation)
                try await alicePhone.client.setTyping(true, in: conversation)
                try await alicePhone.client.setTyping(false, in: conversation)
            }
            #expect(live.server.typing.keyCount == 0)
            #expect(live.server.timers.pendingCount == timersBefore)
            // A non-member of the channel is still refused, as anywhere else.
            let refusal = try await #require(throws: ChatError.self) {
                try await davePhone.client.setTyping(true, in: channel.id)
            }
            #expect(refusal.code == .notFound)

            // Shown in a group at the limit. Frames leave each connection in order: Bob has this one after any
            // typing of the large group or the channel.
            try await alicePhone.client.setTyping(true, in: small.id)
            try await bobPhone.waitFor("alice typing in the small group") { events in
                events.contains {
                    if case .typing(let update) = $0 { update.conversationID == small.id } else { false }
                }
            }
            let typingSeen = bobPhone.events.compactMap { if case .typing(let update) = $0 { update } else { nil } }
            #expect(typingSeen.map(\.conversationID) == [small.id])
        }
    }

    /// A removal from one conversation made every typing start in flight anywhere read its members again (one count
    /// for the whole server): on a busy server, starts were dropped after three reads. Removals are counted per
    /// conversation; past `maximumRemovalCounts` conversations the counts are forgotten, and every start in flight
    /// reads again.
    @Test func removalsAreCountedPerConversation() {
        let tracker = TypingTracker(refreshInterval: .seconds(3))
        let (team, news) = (ConversationID(rawValue: "team"), ConversationID(rawValue: "news"))
        let before = tracker.removals(from: team)
        tracker.removed(UserID(rawValue: "carol"), from: news) { _ in }
        #expect(tracker.removals(from: team) == before, "a removal elsewhere")
        tracker.removed(UserID(rawValue: "carol"), from: team) { _ in }
        #expect(tracker.removals(from: team) != before)
        let counted = tracker.removals(from: team)
        for index in 0..<TypingTracker.maximumRemovalCounts {
            tracker.removed(UserID(rawValue: "dave"), from: ConversationID(rawValue: "c\(index)")) { _ in }
        }
        #expect(tracker.removals(from: team) != counted, "counts forgotten: a start in flight reads again")
    }
}
