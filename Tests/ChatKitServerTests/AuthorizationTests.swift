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

@Suite("Authorization through ChatServer")
struct AuthorizationTests {
    @Test func everyUnauthorizedRequestIsDenied() async throws {
        try await ServerHarness.run { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let carol = try await harness.user("carol")
            let alice = try await harness.connect("alice")
            let bobClient = try await harness.connect("bob")
            let mallory = try await harness.connect("carol")
            let group = try await alice.client.createGroup("Private", members: [bob])
            let message = try await alice.client.send("mine", to: group.id)
            let stranger = mallory.client

            // A non-member cannot learn that the group exists.
            #expect(await code { _ = try await stranger.send("hi", to: group.id) } == .notFound)
            #expect(await code { _ = try await stranger.history(of: group.id) } == .notFound)
            #expect(await code { _ = try await stranger.conversation(group.id) } == .notFound)
            #expect(await code { _ = try await stranger.members(of: group.id) } == .notFound)
            #expect(await code { _ = try await stranger.join(group.id) } == .notFound)
            #expect(await code { try await stranger.setTyping(true, in: group.id) } == .notFound)
            #expect(await code { _ = try await stranger.react("👀", to: message.id) } == .notFound)
            #expect(await code { _ = try await stranger.markRead(group.id, upTo: 1) } == .notFound)
            #expect(try await stranger.search("mine").isEmpty)
            // A plain member lacks the owner's powers.
            #expect(await code { _ = try await bobClient.client.rename(group.id, to: "Mine now") } == .forbidden)
            #expect(await code { _ = try await bobClient.client.addMembers([carol], to: group.id) } == .forbidden)
            #expect(await code { try await bobClient.client.removeMember(bob, from: group.id) } == nil)
            #expect(await code { _ = try await bobClient.client.edit(message.id, body: "x") } == .notFound)
            #expect(await code { _ = try await alice.client.setRole(.owner, of: bob, in: group.id) } == .notFound)
        }
    }

    @Test func aSessionWithABadTokenIsRefused() async throws {
        try await ServerHarness.run { harness in
            let client = ChatClient(transport: harness.transport, token: "forged")
            await #expect {
                try await client.run()
            } throws: { error in
                (error as? ChatError)?.code == .unauthenticated
            }
            await #expect(throws: ChatError.self) { try await client.connected() }
        }
    }

    @Test func oversizedAndMalformedFramesGetErrorsAndTheSessionGoesOn() async throws {
        var configuration = ChatServerConfiguration()
        configuration.limits.maxBodyBytes = 100
        configuration.limits.maxFrameBytes = 1000
        try await ServerHarness.run(configuration: configuration) { harness in
            _ = try await harness.user("alice")
            let bob = try await harness.user("bob")
            let alice = try await harness.connect("alice")
            let chat = try await alice.client.createDirectConversation(with: bob)
            #expect(await code { _ = try await alice.client.send(String(repeating: "a", count: 101), to: chat.id) } == .limitExceeded)
            #expect(await code { _ = try await alice.client.send(String(repeating: "a", count: 2000), to: chat.id) } == .limitExceeded)

            // Raw frames: garbage, unknown types, missing fields.
            let raw = harness.transport.connect()
            try await raw.outbound.write(#"{"type":"hello","id":"h","versions":[1],"token":"token-alice"}"#)
            var frames = raw.inbound.makeAsyncIterator()
            let codec = WireCodec()
            func next() async throws -> ServerFrame {
                while let text = try await frames.next() {
                    let frame = try codec.decodeServerFrame(text)
                    if case .event = frame { continue }
                    if case .presence = frame { continue }
                    return frame
                }
                throw TimeoutError(what: "a frame", events: 0)
            }
            guard case .welcome = try await next() else { Issue.record("no welcome"); return }
            guard case .synced = try await next() else { Issue.record("no synced"); return }
            for garbage in ["not json", #"{"type":"teleport","id":"1"}"#, #"{"type":"send","id":"2"}"#, "[1,2]", "{}"] {
                try await raw.outbound.write(garbage)
                guard case .error(let error) = try await next() else { Issue.record("no error for \(garbage)"); return }
                #expect(error.code == "invalidArgument", "\(garbage): \(error)")
            }
            try await raw.outbound.write(#"{"type":"ping","id":"big","padding":""# + String(repeating: "x", count: 2000) + #""}"#)
            guard case .error(let tooBig) = try await next() else { Issue.record("no error for a big frame"); return }
            #expect(tooBig.code == "limitExceeded")
            #expect(tooBig.id == "big")
            try await raw.outbound.write(#"{"type":"ping","id":"p"}"#)
            guard case .result(let id, _) = try await next() else { Issue.record("no pong"); return }
            #expect(id == "p")
            // The first client is still served.
            #expect(try await alice.client.send("still here", to: chat.id).seq == 1)
            await raw.outbound.close(.normal)
        }
    }
}
