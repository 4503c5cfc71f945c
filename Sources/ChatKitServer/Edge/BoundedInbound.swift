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

import Synchronization

/// The hand-over of a socket's inbound messages from the task that reads the socket to the session that answers
/// them, holding at most `capacity`: while that many wait, the reader waits too, and so stops reading the socket
/// (the socket's own back-pressure then slows the peer down).
///
/// An `AsyncThrowingStream` fed by the reader would buffer without bound: a peer could write into the server's
/// memory at line rate while its session waits for the store. ``stream`` is the session's side, with the type a
/// ``ChatKitCore/Connection`` takes; it ends when ``finish(throwing:)`` is called and the messages before it are
/// taken, or when the task reading it is cancelled.
final class BoundedInbound: Sendable {
    private typealias Reader = CheckedContinuation<String?, any Error>
    private typealias Writer = CheckedContinuation<Void, Never>

    /// How the messages end.
    private enum Ending {
        case finished
        case failed(any Error)
    }

    private struct State {
        var messages: [String] = []
        var head = 0
        /// Set once.
        var ending: Ending?
        var reader: Reader?
        var writer: Writer?

        var count: Int { messages.count - head }

        mutating func pop() -> String {
            let message = messages[head]
            head += 1
            if head == messages.count {
                messages.removeAll(keepingCapacity: true)
                head = 0
            }
            return message
        }
    }

    /// The most messages waiting before ``push(_:)`` waits.
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Whether ``push(_:)`` is waiting for room (observed by tests).
    var isPushWaiting: Bool { state.withLock { $0.writer != nil } }

    /// Whether the session is waiting for a message (observed by tests).
    var isReaderWaiting: Bool { state.withLock { $0.reader != nil } }

    /// The session's side: the messages, in order.
    var stream: AsyncThrowingStream<String, any Error> {
        AsyncThrowingStream(unfolding: { try await self.next() })
    }

    /// Hands a message over; when it makes `capacity` messages waiting, waits until the session takes one. Dropped
    /// once finished.
    func push(_ message: String) async {
        await withCheckedContinuation { (continuation: Writer) in
            let (reader, waits) = state.withLock { state -> (Reader?, Bool) in
                guard state.ending == nil else { return (nil, false) }
                if let reader = state.reader {
                    state.reader = nil
                    return (reader, false)
                }
                state.messages.append(message)
                guard state.count >= capacity else { return (nil, false) }
                state.writer = continuation
                return (nil, true)
            }
            reader?.resume(returning: message)
            if !waits { continuation.resume() }
        }
    }

    /// Ends the messages after those waiting, with `error` if given; a waiting ``push(_:)`` returns.
    func finish(throwing error: (any Error)? = nil) {
        let (reader, writer) = state.withLock { state -> (Reader?, Writer?) in
            if state.ending == nil { state.ending = error.map(Ending.failed) ?? .finished }
            let writer = state.writer
            state.writer = nil
            guard state.count == 0 else { return (nil, writer) }
            let reader = state.reader
            state.reader = nil
            return (reader, writer)
        }
        writer?.resume()
        if let reader { Self.end(reader, error.map(Ending.failed) ?? .finished) }
    }

    private static func end(_ reader: Reader, _ ending: Ending) {
        switch ending {
        case .finished: reader.resume(returning: nil)
        case .failed(let error): reader.resume(throwing: error)
        }
    }

    /// The next message, `nil` at the end; throws the error that ended the messages, once they are taken.
    private func next() async throws -> String? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Reader) in
                enum Answer {
                    case message(String, writer: Writer?)
                    case end(Ending)
                    case wait
                }
                let answer = state.withLock { state -> Answer in
                    if state.count > 0 {
                        let message = state.pop()
                        // The writer waits only with `capacity` messages waiting: one fewer now.
                        let writer = state.writer
                        state.writer = nil
                        return .message(message, writer: writer)
                    }
                    if let ending = state.ending { return .end(ending) }
                    if Task.isCancelled { return .end(.finished) }
                    state.reader = continuation
                    return .wait
                }
                switch answer {
                case .message(let message, let writer):
                    writer?.resume()
                    continuation.resume(returning: message)
                case .end(let ending):
                    Self.end(continuation, ending)
                case .wait:
                    break
                }
            }
        } onCancel: {
            let reader = state.withLock { state -> Reader? in
                let reader = state.reader
                state.reader = nil
                return reader
            }
            reader?.resume(returning: nil)
        }
    }
}
