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

/// Each part of what a client asks to store or look up has a bound of its own, under the frame's: over the real
/// WebSocket edge, a request past one is refused with `limitExceeded` and nothing is stored.
@Suite("Content limits")
struct ContentLimitsTests {
    private func bytes(_ count: Int) -> String { String(repeating: "x", count: count) }

    private func attachment(id: String = "a1", fileName: String = "photo.png", contentType: String = "image/png")
        -> ChatKitCore.Attachment
    {
        ChatKitCore.Attachment(id: AttachmentID(rawValue: id), fileName: fileName, contentType: contentType, byteCount: 10)
    }

    @Test func messagesAreBoundedFieldByField() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let session = try await live.connect(aliceTokens.accessToken)
            let alice = session.client
            let chat = try await alice.createDirectConversation(with: bobTokens.user.id).id
            let limits = ChatServerConfiguration.Limits()
            let someone = bobTokens.user.id

            // At each bound: accepted.
            let atBounds = try await alice.send(
                "at the bounds", to: chat, clientMessageID: ClientMessageID(rawValue: bytes(128)),
                mentions: Array(repeating: someone, count: limits.maxMentions),
                attachments: (0..<limits.maxAttachments).map { _ in
                    attachment(id: bytes(255), fileName: bytes(255), contentType: bytes(255))
                }
            )
            #expect(atBounds.seq == 1)

            // One past each: refused.
            #expect(
                await code {
                    _ = try await alice.send("long key", to: chat, clientMessageID: ClientMessageID(rawValue: bytes(129)))
                } == .limitExceeded
            )
            #expect(
                await code {
                    _ = try await alice.send(
                        "many mentions", to: chat, mentions: Array(repeating: someone, count: limits.maxMentions + 1)
                    )
                } == .limitExceeded
            )
            #expect(
                await code {
                    let many = Array(repeating: attachment(), count: limits.maxAttachments + 1)
                    _ = try await alice.send("many attachments", to: chat, attachments: many)
                } == .limitExceeded
            )
            #expect(
                await code {
                    _ = try await alice.send("long mention", to: chat, mentions: [UserID(rawValue: bytes(129))])
                } == .limitExceeded
            )
            #expect(
                await code {
                    _ = try await alice.send("long reply", to: chat, replyTo: MessageID(rawValue: bytes(129)))
                } == .limitExceeded
            )
            for tooLong in [
                attachment(id: bytes(256)), attachment(fileName: bytes(256)), attachment(contentType: bytes(256)),
            ] {
                #expect(
                    await code { _ = try await alice.send("long name", to: chat, attachments: [tooLong]) }
                        == .limitExceeded
                )
            }
            #expect(try await alice.history(of: chat).map(\.body) == ["at the bounds"])

            // A reaction: 64 bytes at most, refused past them like every other bound (not as a bad argument).
            let reacted = try await alice.react(bytes(64), to: atBounds.id)
            #expect(reacted.reactions.map(\.emoji) == [bytes(64)])
            #expect(await code { _ = try await alice.react(bytes(65), to: atBounds.id) } == .limitExceeded)
            #expect(await code { _ = try await alice.unreact(bytes(65), from: atBounds.id) } == .limitExceeded)
            await session.disconnect()
        }
    }

    @Test func titlesProfilesAndSignUpsAreBounded() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let session = try await live.connect(aliceTokens.accessToken)
            let alice = session.client
            let group = try await alice.createGroup(bytes(256))
            #expect(await code { _ = try await alice.createGroup(bytes(257)) } == .limitExceeded)
            #expect(await code { _ = try await alice.rename(group.id, to: bytes(257)) } == .limitExceeded)
            #expect(try await alice.conversation(group.id).title == bytes(256))

            _ = try await alice.updateProfile(ProfileUpdate(displayName: bytes(128), statusText: bytes(512)))
            #expect(await code { _ = try await alice.updateProfile(ProfileUpdate(displayName: bytes(129))) } == .limitExceeded)
            #expect(await code { _ = try await alice.updateProfile(ProfileUpdate(statusText: bytes(513))) } == .limitExceeded)
            #expect(try await alice.profiles().first?.displayName == bytes(128))

            let refused = try await live.http(
                "POST", "/v1/auth/signup",
                json: ["username": "carol", "password": "correct horse battery", "displayName": bytes(129)]
            )
            #expect(refused.code == "limitExceeded", "\(refused.status) \(refused.json)")
            await session.disconnect()
        }
    }

    @Test func searchQueriesAreBoundedInBytesAndWords() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let session = try await live.connect(aliceTokens.accessToken)
            let alice = session.client
            let limits = ChatServerConfiguration.Limits()
            let words = (0..<limits.maxSearchTerms).map { "word\($0)" }
            _ = try await alice.search(words.joined(separator: " "))
            #expect(await code { _ = try await alice.search((words + ["onemore"]).joined(separator: " ")) } == .limitExceeded)
            // Repeated words count once.
            _ = try await alice.search(Array(repeating: "same", count: 100).joined(separator: " "))
            #expect(await code { _ = try await alice.search(bytes(limits.maxSearchQueryBytes + 1)) } == .limitExceeded)
            await session.disconnect()
        }
    }
}
