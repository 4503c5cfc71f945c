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
@testable import ChatKitCore
@testable import ChatKitServer
import ChatKitTesting
import Foundation
import Testing

/// SQLite compares bound text only up to its first NUL: an identifier such as `"alice\u{0}x"` named the user
/// `alice` there, so a user could become their own contact, or join a channel under an ID that does not exist.
/// Identifiers holding U+0000 are refused wherever a client gives one.
@Suite("Identifiers holding U+0000")
struct NULIdentifierTests {
    @Test func theWireRefusesThem() {
        let codec = WireCodec()
        let frames = [
            #"{"type":"send","id":"1","conversationID":"c\u0000x","clientMessageID":"k","body":"hi"}"#,
            #"{"type":"send","id":"1","conversationID":"c","clientMessageID":"k","body":"hi","mentions":["u\u0000"]}"#,
            #"{"type":"markRead","id":"1","conversationID":"c\u0000","seq":1}"#,
            #"{"type":"typing","id":"1","conversationID":"\u0000","isTyping":true}"#,
            #"{"type":"requestContact","id":"1","userID":"u\u0000x"}"#,
        ]
        for frame in frames {
            #expect(ClientFrame.parseCommon(frame) == nil, "\(frame)")
            guard case .failure(let failure) = codec.decodeClientFrame(frame) else {
                Issue.record("read: \(frame)")
                continue
            }
            #expect(failure.error.code == .invalidArgument)
            #expect(failure.error.reason?.contains("U+0000") == true, "\(failure.error)")
        }
        // The same frames without the NUL are read.
        for frame in frames {
            let fixed = frame.replacingOccurrences(of: #"\u0000"#, with: "-")
            if case .failure(let failure) = codec.decodeClientFrame(fixed) { Issue.record("\(fixed): \(failure.error)") }
        }
    }

    /// Only what clients send is refused: stored data (an attachment ID stored before attachments were checked, an
    /// outbox file) decodes as it is, or one such value would make every page holding it unreadable.
    @Test func storedDataDecodesWhateverItHolds() throws {
        let id = try JSONDecoder().decode(AttachmentID.self, from: Data(#""blob\u0000""#.utf8))
        #expect(id.rawValue == "blob\u{0}")
        let frame = try WireCodec().decodeServerFrame(#"{"type":"presence","userID":"u\u0000","isOnline":true}"#)
        guard case .presence(let update) = frame else { throw ChatError(.invalidArgument, "not presence: \(frame)") }
        #expect(update.userID.rawValue == "u\u{0}")
    }

    @Test func theServerRefusesThemOverTheWebSocketAndHTTP() async throws {
        try await LiveServer.run { live in
            let aliceTokens = try await live.signUp("alice")
            let bobTokens = try await live.signUp("bob")
            let alice = aliceTokens.user.id
            let client = try await live.connect(aliceTokens.accessToken)
            let channel = try await client.client.createChannel("Open")

            let selfContact = await #expect(throws: ChatError.self) {
                try await client.client.requestContact(UserID(rawValue: alice.rawValue + "\u{0}x"))
            }
            #expect(selfContact?.code == .invalidArgument)
            #expect(try await client.client.contacts().isEmpty)
            let bob = try await live.connect(bobTokens.accessToken)
            let join = await #expect(throws: ChatError.self) {
                try await bob.client.join(ConversationID(rawValue: channel.id.rawValue + "\u{0}"))
            }
            #expect(join?.code == .invalidArgument)
            #expect(try await live.store.memberIDs(of: channel.id) == [alice])

            // The client refuses to queue such a message: no server takes it.
            let send = await #expect(throws: ChatError.self) {
                try await client.client.send("hi", to: ConversationID(rawValue: channel.id.rawValue + "\u{0}"))
            }
            #expect(send?.code == .invalidArgument)
            #expect(client.client.outbox.isEmpty)

            let history = try await live.http(
                "GET", "/v1/conversations/\(channel.id.rawValue)%00x/messages", bearer: aliceTokens.accessToken
            )
            // A path's escapes are decoded, as a query's are: the ID holds U+0000 and is refused.
            #expect(history.status == 400)
            let search = try await live.http(
                "GET", "/v1/search?q=hi&conversationID=\(channel.id.rawValue)%00", bearer: aliceTokens.accessToken
            )
            #expect(search.status == 400)
        }
    }
}
