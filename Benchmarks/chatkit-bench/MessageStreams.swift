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

/// P numbered message streams (one per pair or sender), each with a receiving tracker and a window of credits:
/// a sender may have at most `window` messages sent but not yet received.
final class MessageStreams: Sendable {
    let trackers: [DeliveryTracker]
    private let credits: [AsyncStream<Void>.Continuation]
    private let creditStreams: [AsyncStream<Void>]
    let latency = LatencyRecorder()
    let delivered = Atomic<Int>(0)
    let lastDelivery = Atomic<UInt64>(0)
    /// Open-loop: the most a send went out after its scheduled time, in ns (the sender falling behind).
    let largestSendLag = Atomic<UInt64>(0)
    private let sent: [Counter]

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(count: Int, window: Int) {
        trackers = (0..<count).map { _ in DeliveryTracker() }
        var continuations: [AsyncStream<Void>.Continuation] = []
        var streams: [AsyncStream<Void>] = []
        for _ in 0..<count {
            let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
            for _ in 0..<window { continuation.yield() }
            streams.append(stream)
            continuations.append(continuation)
        }
        credits = continuations
        creditStreams = streams
        sent = (0..<count).map { _ in Counter() }
    }

    /// Handles a frame received on stream `index`: records its stamp and returns a credit to the sender. A message of
    /// another stream (delivered to the wrong receiver) counts as one this receiver was never sent.
    func receive(_ index: Int, _ text: String) {
        guard let stamp = MessageStamp.find(in: text) else { return }
        guard stamp.stream == index else {
            trackers[index].recordForeign()
            return
        }
        if trackers[index].record(stamp.number) {
            let now = monotonicNanoseconds()
            latency.record(since: stamp.sentAt, now: now)
            delivered.add(1, ordering: .relaxed)
            lastDelivery.max(now, ordering: .relaxed)
            credits[index].yield()
        }
    }

    /// Ends every window, so that senders waiting for a credit stop.
    func stopSenders() {
        for credit in credits { credit.finish() }
    }

    /// Sends on stream `index` until `deadline` (monotonic ns) or `limit` messages: flat-out within the window
    /// when `interval` is 0, else open-loop, one message every `interval` ns (stamped with its scheduled time, so
    /// that a stalled server shows in the latency instead of slowing the sender).
    func runSender(
        _ index: Int,
        limit: Int,
        deadline: UInt64,
        interval: UInt64,
        send: @Sendable (MessageStamp) async throws -> Void
    ) async throws {
        var window = creditStreams[index].makeAsyncIterator()
        let start = monotonicNanoseconds() + (interval > 0 ? UInt64.random(in: 0..<interval) : 0)
        var number = 0
        while number < limit {
            let now = monotonicNanoseconds()
            var stamp = now
            if interval > 0 {
                // Every message due before the deadline is sent, also when the sender has fallen behind (those are
                // the ones with the worst latency); how far behind it fell is reported.
                let due = start + UInt64(number) * interval
                guard due < deadline else { break }
                if due > now { try await Task.sleep(nanoseconds: due - now) }
                let sending = monotonicNanoseconds()
                if sending > due { largestSendLag.max(sending - due, ordering: .relaxed) }
                stamp = due
            } else {
                guard now < deadline, await window.next() != nil else { break }
                stamp = monotonicNanoseconds()
            }
            number += 1
            sent[index].value.store(number, ordering: .relaxed)
            try await send(MessageStamp(stream: index, number: number, sentAt: stamp))
        }
    }

    var totalSent: Int { sent.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }

    /// Waits until every sent message arrived at `receivers` receivers, or `timeout` ns passed.
    func drain(receivers: Int = 1, timeout: UInt64) async {
        let end = monotonicNanoseconds() + timeout
        while delivered.load(ordering: .relaxed) < totalSent * receivers, monotonicNanoseconds() < end {
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    /// Delivery counts over every stream (each sent message expected once per tracker).
    func tally() -> DeliveryTally {
        trackers.indices.reduce(DeliveryTally()) { $0 + trackers[$1].tally(expected: sent[$1].value.load(ordering: .relaxed)) }
    }
}
