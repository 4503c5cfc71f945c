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

import ArgumentParser
import ChatKitCore
import ChatKitServer
import Foundation
import Synchronization

/// One group of G members and one sender: deliveries/s and the time for a broadcast to reach the last member.
struct Fanout: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "One sender broadcasting into a group of G members."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Group members (each one connection), besides the sender.")
    var members = 1000

    @Option(help: "Broadcasts to send (at most).")
    var messages = 200

    @Option(help: "Seconds of sending (at most).")
    var seconds = 10.0

    @Option(help: "Broadcasts in flight (sent, not yet at every member).")
    var window = 2

    @Option(help: "Message body size in bytes.")
    var size = 100

    @Option(help: "Seconds to wait for deliveries still in flight after sending stops.")
    var drain = 10.0

    func run() async throws {
        ProcessStats.raiseOpenFilesLimit()
        try target.finish(try await target.runScenario(raw: runRaw, chatKit: runChatKit))
    }

    /// Counts, per broadcast, the members it reached; the last one's arrival gives the fan-out latency.
    private final class Arrivals: Sendable {
        let members: Int
        let counts = Mutex<[Int]>([])
        let toLast = LatencyRecorder()
        let completions: AsyncStream<Void>
        let completed: AsyncStream<Void>.Continuation

        init(members: Int, window: Int) {
            self.members = members
            (completions, completed) = AsyncStream.makeStream(of: Void.self)
            for _ in 0..<window { completed.yield() }
        }

        func arrived(_ stamp: MessageStamp, now: UInt64) {
            let complete = counts.withLock { counts in
                if stamp.number >= counts.count { counts.append(contentsOf: repeatElement(0, count: stamp.number + 1 - counts.count)) }
                counts[stamp.number] += 1
                return counts[stamp.number] == members
            }
            if complete {
                toLast.record(since: stamp.sentAt, now: now)
                completed.yield()
            }
        }
    }

    fileprivate static let warmUpMarker = Array("fanout-warm-up".utf8)

    /// Sends one unmeasured broadcast and waits until every member has it. Creating the group routes its membership
    /// events (up to 500 member entries each) to every member already added; the server is still writing those
    /// when `createGroup` returns, and a connection's frames arrive in order, so once the warm-up broadcast has
    /// reached everyone the measurement starts on an idle server.
    private func warmUp(sender: ChatConnection, group: ConversationID, warmedUp: SharedCounter) async throws {
        try await sender.sendMessage("fanout-warm-up", to: group)
        let deadline = monotonicNanoseconds() + UInt64(max(drain, 60) * 1e9)
        while warmedUp.value < members {
            guard monotonicNanoseconds() < deadline else {
                throw BenchError("only \(warmedUp.value) of \(members) members got the warm-up broadcast in time")
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    /// What the members received: per-member trackers, latencies, and the warm-up count.
    private final class Receipts: Sendable {
        let arrivals: Arrivals
        let trackers: [DeliveryTracker]
        let every = LatencyRecorder()
        let delivered = SharedCounter()
        let lastDelivery = SharedLatestTime()
        let warmedUp = SharedCounter()
        let warmedMembers: [SharedFlag]

        init(members: Int, window: Int) {
            arrivals = Arrivals(members: members, window: window)
            trackers = (0..<members).map { _ in DeliveryTracker() }
            warmedMembers = (0..<members).map { _ in SharedFlag() }
        }

        /// A frame that member `index` received.
        func received(_ text: String, member index: Int) {
            guard let stamp = MessageStamp.find(in: text) else {
                if FrameScan.contains(text, Fanout.warmUpMarker), warmedMembers[index].set() { warmedUp.add() }
                return
            }
            if trackers[index].record(stamp.number) {
                let now = monotonicNanoseconds()
                every.record(since: stamp.sentAt, now: now)
                delivered.add()
                lastDelivery.record(now)
                arrivals.arrived(stamp, now: now)
            }
        }
    }

    /// The fan-out scenario over the raw relay: the same members and broadcasts, no accounts and no group set-up.
    func runRaw(_ relay: RawTarget) async throws -> ScenarioReport {
        let receipts = Receipts(members: members, window: window)
        let sender = try await WireSocket.open(url: relay.url("group=fanout&role=sender"), firstFrame: nil) { _ in }
        let receivers = try await concurrentMap(members, limit: 256) { index in
            try await WireSocket.open(url: relay.url("group=fanout&role=member"), firstFrame: nil) {
                receipts.received($0, member: index)
            }
        }
        let size = size
        var report = try await measure(receipts, label: relay.label, serverPID: relay.serverPID) { stamp in
            try await sender.write(stamp.rawFrame(size: size))
        }
        report.notes.append(
            "raw relay: no auth, no storage, no JSON; each read's frames written to each member with one flush"
        )
        await sender.close()
        for receiver in receivers { await receiver.close() }
        return report
    }

    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let users = try await server.makeUsers(members + 1, prefix: "f")
        let receipts = Receipts(members: members, window: window)
        let sender = try await ChatConnection.open(url: server.url(0), token: users[0].accessToken)
        let receivers = try await concurrentMap(members, limit: 256) { index in
            try await ChatConnection.open(url: server.url(index + 1), token: users[index + 1].accessToken) { text in
                receipts.received(text, member: index)
            }
        }
        let group = try await createGroup(owner: sender, title: "fanout", members: users.dropFirst().map(\.user.id))
        try await warmUp(sender: sender, group: group, warmedUp: receipts.warmedUp)
        let size = size
        var report = try await measure(receipts, label: server.label, serverPID: server.serverPID) { stamp in
            try await sender.sendMessage(stamp.body(size: size), to: group)
        }
        report.errors = receivers.reduce(sender.unansweredErrors) { $0 + $1.unansweredErrors }
        report.lastError = ([sender] + receivers).lazy.compactMap(\.lastError).first
        await sender.close()
        for receiver in receivers { await receiver.close() }
        return report
    }

    /// Sends broadcasts (at most `window` in flight) until `messages` or `seconds`, waits for them to arrive, and
    /// reports.
    private func measure(
        _ receipts: Receipts,
        label: String,
        serverPID: Int32,
        send: (MessageStamp) async throws -> Void
    ) async throws -> ScenarioReport {
        let meter = ResourceMeter(serverPID: serverPID)
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        var slots = receipts.arrivals.completions.makeAsyncIterator()
        // A broadcast that never reaches every member never frees its slot: at the deadline the wait for a slot
        // ends anyway, and the drain below counts what is missing as lost.
        let stopper = Task {
            let now = monotonicNanoseconds()
            if deadline > now { try? await Task.sleep(nanoseconds: deadline - now) }
            receipts.arrivals.completed.finish()
        }
        defer { stopper.cancel() }
        var sent = 0
        while sent < messages, monotonicNanoseconds() < deadline {
            guard await slots.next() != nil else { break }
            sent += 1
            try await send(MessageStamp(number: sent, sentAt: monotonicNanoseconds()))
        }
        let drainEnd = monotonicNanoseconds() + UInt64(drain * 1e9)
        while receipts.delivered.value < sent * members, monotonicNanoseconds() < drainEnd {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        let usage = meter.finish()

        var report = ScenarioReport(
            scenario: "fanout", target: label,
            parameters: ["members": "\(members)", "window": "\(window)", "size": "\(size)", "broadcasts": "\(sent)"]
        )
        let end = max(receipts.lastDelivery.value, start + 1)
        let seconds = Double(end - start) / 1e9
        report.add("deliveries/s", Double(receipts.delivered.value) / seconds, "msg/s")
        report.add("broadcasts/s", Double(sent) / seconds, "msg/s")
        if let all = receipts.every.summary {
            report.notes.append(String(format: "latency of every delivery ms: p50 %.2f  p99 %.2f  max %.2f", all.p50, all.p99, all.max))
        }
        report.latency = receipts.arrivals.toLast.summary
        report.latencyMeaning = "send-to-last-member"
        report.delivery = receipts.trackers.reduce(DeliveryTally()) { $0 + $1.tally(expected: sent) }
        report.usage = usage
        return report
    }
}
