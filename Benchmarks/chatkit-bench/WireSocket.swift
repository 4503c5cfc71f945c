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

import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket

/// One client WebSocket, as cheap as the stack allows: text frames in (handed to a closure on the reading task),
/// text frames out. No protocol logic.
///
/// `open(url:firstFrame:onText:onClose:)` returns once the server's first frame arrived (ChatKit's `welcome`, the raw
/// relay's `ready`), so the connection is known to be registered before anything is sent.
final class WireSocket: Sendable {
    /// The server's first frame.
    let firstFrame: String
    private let outbound: WebSocketOutboundWriter
    private let task: Task<Void, Never>

    private init(firstFrame: String, outbound: WebSocketOutboundWriter, task: Task<Void, Never>) {
        self.firstFrame = firstFrame
        self.outbound = outbound
        self.task = task
    }

    /// The connection closed before the server's first frame.
    struct ClosedEarly: Error, CustomStringConvertible {
        var underlying: (any Error)?
        var description: String { "The WebSocket closed before the server's first frame (\(underlying.map { "\($0)" } ?? "no error"))." }
    }

    static let logger = Logger(label: "chatkit-bench.client", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Connects, sends `firstFrame` (if any), and returns once the server's first frame arrived. Every later text
    /// frame goes to `onText`; `onClose` runs once the socket has closed.
    static func open(
        url: String,
        firstFrame: String?,
        onText: @escaping @Sendable (String) -> Void,
        onClose: @escaping @Sendable () -> Void = {}
    ) async throws -> WireSocket {
        let (opened, openedContinuation) = AsyncThrowingStream.makeStream(of: (WebSocketOutboundWriter, String).self)
        let task = Task {
            do {
                try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: 1 << 22),
                    logger: logger
                ) { inbound, outbound, _ in
                    if let firstFrame { try await outbound.write(.text(firstFrame)) }
                    var iterator = inbound.messages(maxSize: 1 << 24).makeAsyncIterator()
                    guard case .text(let first) = try await iterator.next() else {
                        throw ClosedEarly()
                    }
                    openedContinuation.yield((outbound, first))
                    while let message = try await iterator.next() {
                        if case .text(let text) = message { onText(text) }
                    }
                }
                openedContinuation.finish(throwing: ClosedEarly())
            } catch {
                openedContinuation.finish(throwing: ClosedEarly(underlying: error))
            }
            onClose()
        }
        do {
            for try await (outbound, first) in opened {
                return WireSocket(firstFrame: first, outbound: outbound, task: task)
            }
        } catch {
            task.cancel()
            throw error
        }
        task.cancel()
        throw ClosedEarly()
    }

    /// Sends one text frame.
    func write(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// Sends a close frame; the socket ends when the server answers it.
    func close() async {
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// Waits until the socket has ended.
    func closed() async {
        await task.value
    }

    /// Drops the connection without a close handshake.
    func cancel() {
        task.cancel()
    }
}
