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
    /// How many inbound messages wait for the session at most; the socket is not read while they do.
    static let inboundCapacity = 16

    /// The connection the engine serves.
    let connection: Connection
    private let inbound: BoundedInbound
    /// The error that ended the inbound side, if any; the socket is then closed with the error's code.
    private let failure: FailureBox

    /// - Parameters:
    ///   - outbound: The socket's writer.
    ///   - peer: Who is at the other end, for logs.
    ///   - closeTimeout: How long a close may wait to be written.
    ///   - closeChannel: Closes the socket's channel outright, when the transport can reach it. The writer waits
    ///     while the peer reads nothing, and a close frame waits behind the data before it: a close that is not
    ///     written within `closeTimeout` (a slow consumer's, one at shutdown) closes the channel instead, which
    ///     fails the waiting writes, so that the session ends and its socket is freed.
    init(
        outbound: WebSocketOutboundWriter,
        peer: String,
        closeTimeout: Duration = .seconds(5),
        closeChannel: (@Sendable () -> Void)? = nil
    ) {
        let inbound = BoundedInbound(capacity: Self.inboundCapacity)
        let failure = FailureBox()
        self.inbound = inbound
        self.failure = failure
        connection = Connection(
            inbound: inbound.stream,
            outbound: OutboundWriter(
                write: { text in
                    do {
                        try await outbound.write(.text(text))
                    } catch let error as CancellationError {
                        throw error
                    } catch {
                        // NIO's errors for a socket that closed (`ioOnClosedChannel`, a reset): the engine tells a
                        // peer that left from other failures by this error, and still answers what it sent.
                        throw ConnectionClosedError()
                    }
                },
                close: { reason in
                    inbound.finish()
                    // After an inbound failure, the WebSocket handler closes with the failure's code.
                    guard !failure.isSet else { return }
                    await withTaskGroup(of: Bool.self) { group in
                        group.addTask {
                            // Written, or not: a close that failed or was cancelled (a shutdown that ran out of
                            // time) may have left the socket stuck just the same.
                            do {
                                try await outbound.close(
                                    WebSocketCloseCodes.code(for: reason), reason: WebSocketCloseCodes.text(for: reason)
                                )
                                return true
                            } catch {
                                return false
                            }
                        }
                        group.addTask {
                            try? await Task.sleep(for: closeTimeout)
                            return false
                        }
                        // Closed outright first, so that the close still waiting fails instead of being waited for.
                        if await group.next() == false { closeChannel?() }
                        group.cancelAll()
                    }
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
        let handOver = self.inbound
        let failure = failure
        await withDiscardingTaskGroup { group in
            group.addTask {
                do {
                    // Waits while the session has `inboundCapacity` messages to answer: the socket is not read
                    // meanwhile, so a peer cannot write into the server's memory faster than it is answered.
                    for try await message in inbound.messages(maxSize: maxMessageSize) {
                        switch message {
                        case .text(let text): await handOver.push(text)
                        // Binary frames are read as UTF-8 text; anything else fails to decode and is answered.
                        case .binary(let buffer): await handOver.push(String(buffer: buffer))
                        }
                    }
                    handOver.finish()
                } catch {
                    // Cancelled because the handler returned: nothing went wrong.
                    if Task.isCancelled { return handOver.finish() }
                    failure.set(error)
                    handOver.finish(throwing: error)
                }
            }
            await handler(connection)
            // A reader waiting for room returns, and stops at the cancellation.
            handOver.finish()
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
