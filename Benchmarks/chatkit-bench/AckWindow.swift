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

/// Paces a pipelined sender by the server's answers: at most `window` requests unanswered. Feed it every frame
/// the sender's connection receives.
final class AckWindow: Sendable {
    private let slots: AsyncStream<Void>
    private let freed: AsyncStream<Void>.Continuation
    let answers = Atomic<Int>(0)

    init(window: Int) {
        (slots, freed) = AsyncStream.makeStream(of: Void.self)
        for _ in 0..<window { freed.yield() }
    }

    /// Counts a `result` or `error` frame as an answer.
    func receive(_ text: String) {
        if [.result, .error].contains(FrameScan.type(of: text)) {
            answers.add(1, ordering: .relaxed)
            freed.yield()
        }
    }

    /// Stops the pacing: the sender's connection closed, so no answer will free a slot.
    func close() {
        freed.finish()
    }

    /// Sends `count` requests, each once a slot is free, then waits for every answer (up to `timeout` ns). Throws
    /// when no answer comes for `timeout` ns while a slot is awaited, or the connection closed (``close()``), rather
    /// than wait for ever.
    func pipeline(_ count: Int, timeout: UInt64, _ send: (Int) async throws -> Void) async throws {
        var iterator = slots.makeAsyncIterator()
        let start = answers.load(ordering: .relaxed)
        // Answers that stop coming end the slots' stream (its buffered slots are still handed out first).
        let watchdog = Task { [self] in
            var seen = answers.load(ordering: .relaxed)
            var since = monotonicNanoseconds()
            while true {
                try await Task.sleep(nanoseconds: 250_000_000)
                let now = answers.load(ordering: .relaxed)
                if now != seen {
                    (seen, since) = (now, monotonicNanoseconds())
                } else if monotonicNanoseconds() - since > timeout {
                    freed.finish()
                    return
                }
            }
        }
        defer { watchdog.cancel() }
        for index in 0..<count {
            guard await iterator.next() != nil else {
                let answered = answers.load(ordering: .relaxed) - start
                throw BenchError(
                    "The server stopped answering (or closed the sender's connection) after \(answered) of \(count) "
                        + "sends."
                )
            }
            try await send(index)
        }
        // Only while slots are awaited: ended during the wait below, the slots would be gone for a later call.
        watchdog.cancel()
        let end = monotonicNanoseconds() + timeout
        while answers.load(ordering: .relaxed) - start < count, monotonicNanoseconds() < end {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }
}
