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

/// A server that does not answer a request while its connection stays open: the request throws after
/// `ChatClient.Configuration.requestTimeout` instead of waiting forever, the client reconnects (later requests
/// would wait behind the stuck one), and a message the outbox sent is sent again and stored once.
@Suite("Request timeouts")
struct RequestTimeoutTests {
    /// The in-memory store, whose searches wait until the test lets them go (a store stuck on a lock).
    final class StalledSearchStore: ChatStoreDecorator {
        let base: any ChatStore
        private let released: AsyncStream<Void>
        let release: AsyncStream<Void>.Continuation

        init(_ base: any ChatStore) {
            self.base = base
            (released, release) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        func search(_ query: String, as user: UserID, in conversation: ConversationID?, limit: Int) async throws
            -> [SearchHit]
        {
            for await _ in released { break }
            return try await base.search(query, as: user, in: conversation, limit: limit)
        }
    }

    @Test func aRequestTheServerDoesNotAnswerThrowsAndTheClientReconnects() async throws {
        let inMemory = InMemoryChatStore()
        let stalled = StalledSearchStore(inMemory)
        defer { stalled.release.finish() }
        try await LiveServer.run(store: inMemory, serverStore: stalled) { live in
            let alice = try await live.signUp("alice")
            let client = try await live.connect(
                alice.accessToken, configuration: ChatClient.Configuration(requestTimeout: .seconds(1))
            )
            let states = Recorder(client.client.connectionStateUpdates())

            let error = try await #require(throws: ChatError.self) {
                try await withTimeout("the search to time out") { try await client.client.search("hello") }
            }
            #expect(error.code == .unavailable)
            #expect(error.reason?.contains("did not answer within") == true, "\(error)")
            #expect(!(error.underlying is ChatClient.ServerAnswer))
            // The server answers a connection's requests in order: the client gave that one up and opened another,
            // which the server serves while the search still hangs on the first.
            try await states.waitFor("the client to reconnect") { states in
                states.contains(where: \.isWaitingToReconnect) && states.last == .connected
            }
            let page = try await withTimeout("a request on the new connection") {
                while true {
                    do {
                        return try await client.client.conversations(before: nil)
                    } catch let error as ChatError where error.code == .unavailable {
                        // A machine so busy that this one timed out too: the client reconnects again.
                        _ = try await client.client.connected()
                    }
                }
            }
            #expect(page.conversations.isEmpty)
            stalled.release.finish()
        }
    }

    @Test func aSendTheServerDoesNotAnswerIsSentAgainInTheNextSession() async throws {
        let sends = Locked<[(connection: Int, id: ClientMessageID)]>([])
        let transport = ScriptedTransport { connection, frame, peer in
            switch frame.request {
            case .hello:
                peer.open(frame, position: StreamPosition(1))
            case .send(let send):
                let count = sends.withLock { sends in
                    sends.append((connection, send.clientMessageID))
                    return sends.count
                }
                // The first is lost in a stuck server; every later one is answered with the stored message.
                if count > 1 { peer.send(.result(id: frame.id, RequestResult(message: ScriptedPeer.stored(send)))) }
            default:
                break
            }
        }
        let (message, client) = try await Self.sendHello(
            over: transport, ChatClient.Configuration(requestTimeout: .seconds(1), clock: RecordingClock())
        )
        #expect(message.body == "hello")
        let sent = sends.value
        #expect(sent.count >= 2)
        #expect(Set(sent.map(\.id)) == [message.clientMessageID], "every attempt carries the message's client ID")
        // Each time on a new connection, never twice on one: after a timeout the client reconnects. (On a loaded
        // machine a send may also time out before the script read it, unrecorded, on a connection of its own.)
        #expect(zip(sent, sent.dropFirst()).allSatisfy { $0.connection < $1.connection }, "\(sent)")
        #expect(client.outbox.isEmpty)
    }

    /// A caller that retries once its request timed out waits in `connected()` for the next session: the one given
    /// up is still closing then, and a request made on it would fail (or go unanswered) again.
    @Test func afterATimeoutConnectedWaitsForTheNextSession() async throws {
        let requests = Locked<[(connection: Int, type: String)]>([])
        // The given-up connection's close hangs until the test opens the gate: the old session is still there.
        let closing = TestGate()
        defer { closing.open() }
        let transport = ScriptedTransport(closeGate: closing) { connection, frame, peer in
            guard case .hello = frame.request else {
                requests.withLock { $0.append((connection, frame.request.type)) }
                // The first connection answers nothing after its welcome; later ones answer every request.
                if connection > 0 { peer.send(.result(id: frame.id, RequestResult())) }
                return
            }
            // Each connection's welcome names it: connection N opens at position N + 1.
            peer.open(frame, position: StreamPosition(Int64(connection) + 1))
        }
        let client = ChatClient(
            transport: transport, token: "t",
            configuration: ChatClient.Configuration(requestTimeout: .seconds(1), clock: RecordingClock())
        )
        let run = Task { try await client.run() }
        defer { run.cancel() }
        _ = try await withTimeout("the first session") { try await client.connected() }

        let error = try await #require(throws: ChatError.self) {
            try await withTimeout("the request to time out") {
                _ = try await client.request(
                    .typing(.init(conversationID: ConversationID(rawValue: "c"), isTyping: true))
                )
            }
        }
        #expect(error.code == .unavailable)
        // While the first connection is still closing, a request fails at once instead of going out on it, and
        // `connected()` does not answer with its session.
        let refused = await #expect(throws: ChatError.self) {
            // It fails at once; sent on the old connection, it would wait in vain (its watch ended with it).
            try await withTimeout("a request on the session given up", .seconds(10)) {
                _ = try await client.request(
                    .typing(.init(conversationID: ConversationID(rawValue: "c"), isTyping: true))
                )
            }
        }
        #expect(refused?.code == .unavailable && refused?.reason?.contains("not connected") == true, "\(refused)")
        let waiting = Task { try await client.connected() }
        closing.open()
        let welcome = try await withTimeout("the next session") { try await waiting.value }
        #expect(welcome.position == StreamPosition(2), "connected() answered with the session given up")
        _ = try await withTimeout("a request on the next session") {
            try await client.request(.typing(.init(conversationID: ConversationID(rawValue: "c"), isTyping: false)))
        }
        #expect(requests.value.map(\.connection) == [0, 1], "\(requests.value)")
    }

    @Test func theTimeoutIsBounded() async throws {
        #expect(ChatClient.Configuration().requestTimeout == .seconds(60))
        #expect(ChatClient.Configuration(requestTimeout: .zero).requestTimeout == nil)
        #expect(ChatClient.Configuration(requestTimeout: .seconds(-1)).requestTimeout == nil)
        #expect(ChatClient.Configuration(requestTimeout: nil).requestTimeout == nil)
        // "Forever" written as the largest duration: no deadline overflows.
        let transport = ScriptedTransport { _, frame, peer in
            switch frame.request {
            case .hello: peer.open(frame, position: StreamPosition(1))
            case .send(let send):
                peer.send(.result(id: frame.id, RequestResult(message: ScriptedPeer.stored(send))))
            default: break
            }
        }
        var configuration = ChatClient.Configuration(clock: RecordingClock())
        configuration.requestTimeout = .seconds(Int64.max)
        let (message, _) = try await Self.sendHello(over: transport, configuration)
        #expect(message.body == "hello")
    }

    /// Runs a client over `transport` until its outbox sent "hello" and the server stored it.
    private static func sendHello(over transport: ScriptedTransport, _ configuration: ChatClient.Configuration)
        async throws -> (Message, ChatClient)
    {
        let client = ChatClient(transport: transport, token: "t", configuration: configuration)
        let run = Task { try await client.run() }
        defer { run.cancel() }
        let message = try await withTimeout("the send") {
            try await client.send("hello", to: ConversationID(rawValue: "c"))
        }
        return (message, client)
    }
}
