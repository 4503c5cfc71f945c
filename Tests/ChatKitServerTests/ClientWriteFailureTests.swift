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

/// A connection whose writes fail after the handshake while its inbound side stays open (a half-broken socket).
private struct HalfBrokenTransport: ClientTransport {
    struct WriteFailed: Error {}

    func withConnection<Result: Sendable>(_ body: @Sendable (Connection) async throws -> Result) async throws
        -> Result
    {
        let (toClient, toClientContinuation) = AsyncThrowingStream.makeStream(
            of: String.self, throwing: (any Error).self
        )
        let peer = ScriptedPeer(continuation: toClientContinuation)
        let connection = Connection(
            inbound: toClient,
            outbound: OutboundWriter(
                write: { text in
                    guard case .success(let frame) = WireCodec().decodeClientFrame(text), case .hello = frame.request
                    else { throw WriteFailed() }
                    peer.open(frame, position: StreamPosition(1))
                },
                close: { _ in toClientContinuation.finish() }
            ),
            peer: "half-broken"
        )
        return try await body(connection)
    }
}

@Suite("Client: a connection that cannot be written to")
struct ClientWriteFailureTests {
    @Test("a failed write closes the connection: a waiting request fails at once, not when the peer closes")
    func aFailedWriteEndsTheSession() async throws {
        let client = ChatClient(transport: HalfBrokenTransport(), token: "token", configuration: .singleSession)
        let run = Task { try await client.run() }
        defer { run.cancel() }
        _ = try await withTimeout("the session") { try await client.connected() }
        let error = try await withTimeout("the request to fail") {
            do {
                _ = try await client.conversations()
                return nil as ChatError?
            } catch let error as ChatError {
                return error
            }
        }
        #expect(error?.code == .unavailable)
    }
}
