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
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Synchronization

/// One server-side WebSocket adapted to a ``ChatKitCore/Connection``: inbound messages become text frames of the
/// connection's inbound stream, and the connection's writer writes text frames and closes the socket with a reason.
struct WebSocketConnection: Sendable {
    /// The connection the engine serves.
    let connection: Connection
    private let continuation: AsyncThrowingStream<String, any Error>.Continuation
    /// The error that ended the inbound side, if any; the socket is then closed with the error's code.
    private let failure: FailureBox

    init(outbound: WebSocketOutboundWriter, peer: String) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self, throwing: (any Error).self)
        let failure = FailureBox()
        self.continuation = continuation
        self.failure = failure
        connection = Connection(
            inbound: stream,
            outbound: OutboundWriter(
                write: { text in try await outbound.write(.text(text)) },
                close: { reason in
                    continuation.finish()
                    // After an inbound failure, the WebSocket handler closes with the failure's code.
                    guard !failure.isSet else { return }
                    try? await outbound.close(WebSocketCloseCodes.code(for: reason), reason: WebSocketCloseCodes.text(for: reason))
                }
            ),
            peer: peer
        )
    }

    /// Feeds inbound messages to the connection while `handler` serves it; returns when `handler` returns.
    ///
    /// - Throws: The inbound error (such as a message over `maxMessageSize`), so the WebSocket handler closes the
    ///   socket with its code.
    func run(
        inbound: WebSocketInboundStream,
        maxMessageSize: Int,
        handler: @escaping @Sendable (Connection) async -> Void
    ) async throws {
        let continuation = continuation
        let failure = failure
        await withDiscardingTaskGroup { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: maxMessageSize) {
                        switch message {
                        case .text(let text): continuation.yield(text)
                        // Binary frames are read as UTF-8 text; anything else fails to decode and is answered.
                        case .binary(let buffer): continuation.yield(String(buffer: buffer))
                        }
                    }
                    continuation.finish()
                } catch {
                    // Cancelled because the handler returned: nothing went wrong.
                    if Task.isCancelled { return continuation.finish() }
                    failure.set(error)
                    continuation.finish(throwing: error)
                }
            }
            await handler(connection)
            group.cancelAll()
        }
        await connection.outbound.close(.normal)
        if let error = failure.error { throw error }
    }
}

/// The WebSocket close codes and reason texts that stand for ``ChatKitCore/CloseReason``s.
enum WebSocketCloseCodes {
    /// `normal` is 1000, `shutdown` 1001 (going away), anything else 1008 (policy violation); the reason text says
    /// which.
    static func code(for reason: CloseReason) -> WebSocketErrorCode {
        switch reason.code {
        case CloseReason.normal.code: .normalClosure
        case "shutdown": .goingAway
        default: .policyViolation
        }
    }

    /// `code: message`, cut to the 123 bytes a close frame can carry.
    static func text(for reason: CloseReason) -> String {
        var text = "\(reason.code): \(reason.message)"
        while text.utf8.count > 123 { text.removeLast() }
        return text
    }
}

/// An error set once by one task and read by others.
final class FailureBox: Sendable {
    private let value = Mutex<(any Error)?>(nil)
    func set(_ error: any Error) { value.withLock { $0 = $0 ?? error } }
    var error: (any Error)? { value.withLock { $0 } }
    var isSet: Bool { error != nil }
}
