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

import ChatKitCore
import Testing

@testable import ChatKitClient

/// A view that stops the client and starts it again at once (SwiftUI's `.task` does) must not tell the app that
/// its messages were not sent while they go out moments later.
@Suite(.timeLimit(.minutes(2)))
struct RunRestartTests {
    static let patience = Duration.seconds(60)

    @Test func aSendWaitsForTheRunThatStartsRightAfterTheCancelledOne() async throws {
        let sendSeen = TestGate()
        let oldRunMayEnd = TestGate()
        let transport = ScriptedTransport { connection, frame, peer in
            switch frame.request {
            case .hello:
                peer.open(frame, position: StreamPosition(1))
            case .send where connection == 0:
                // No answer; the connection cannot end (nor the run) until the test lets it.
                sendSeen.open()
                await oldRunMayEnd.waitUntilOpen()
            case .send(let send):
                peer.send(.result(id: frame.id, RequestResult(message: ScriptedPeer.stored(send))))
            default:
                break
            }
        }
        let client = ChatClient(transport: transport, token: "t", configuration: .init(clock: RecordingClock()))
        let run = Task { try await client.run() }
        let chat = ConversationID(rawValue: "c")
        let sending = Task {
            try await client.send("hello", to: chat, clientMessageID: ClientMessageID(rawValue: "k-1"))
        }
        try await withTimeout("the send on the first connection", Self.patience) { await sendSeen.wait() }

        run.cancel()
        let next = Task { try await client.run() }
        defer { next.cancel() }
        try await waitUntil("the new run to wait for the cancelled one", timeout: Self.patience) {
            client.runsWaitingToStart == 1
        }
        oldRunMayEnd.open()

        let message = try await withTimeout("the send", Self.patience) { try await sending.value }
        #expect(message.body == "hello")
        #expect(transport.connectionCount == 2)
        #expect(client.outbox.isEmpty)
        try await withTimeout("the cancelled run to end", Self.patience) { try await run.value }
    }
}
