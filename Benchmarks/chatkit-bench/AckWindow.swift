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

    /// Sends `count` requests, each once a slot is free, then waits for every answer (up to `timeout` ns).
    func pipeline(_ count: Int, timeout: UInt64, _ send: (Int) async throws -> Void) async throws {
        var iterator = slots.makeAsyncIterator()
        let start = answers.load(ordering: .relaxed)
        for index in 0..<count {
            _ = await iterator.next()
            try await send(index)
        }
        let end = monotonicNanoseconds() + timeout
        while answers.load(ordering: .relaxed) - start < count, monotonicNanoseconds() < end {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
    }
}
