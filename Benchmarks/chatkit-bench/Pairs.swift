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

/// P pairs of users, each streaming 1:1 messages from one to the other: delivered messages/s, send-to-receive
/// latency, losses and duplicates.
struct Pairs: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "P pairs streaming 1:1 messages, flat-out (window) or open-loop (--rate)."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Pairs of users (one sender, one receiver each).")
    var pairs = 16

    @Option(help: "Seconds of sending.")
    var seconds = 5.0

    @Option(help: "At most this many messages per pair.")
    var messages = 10_000_000

    @Option(help: "Open-loop: total messages/s over all pairs; 0 sends flat-out.")
    var rate = 0.0

    @Option(help: "Flat-out: messages in flight (sent, not yet received) per pair.")
    var window = 32

    @Option(help: "Message body size in bytes.")
    var size = 100

    @Option(help: "Seconds to wait for messages still in flight after sending stops.")
    var drain = 5.0

    func run() async throws {
        ProcessStats.raiseOpenFilesLimit()
        try target.finish(try await target.runScenario(raw: runRaw, chatKit: runChatKit))
    }

    private var parameters: [String: String] {
        [
            "pairs": "\(pairs)", "seconds": "\(seconds)", "mode": rate > 0 ? "open-loop \(Int(rate))/s" : "flat-out",
            "window": rate > 0 ? "-" : "\(window)", "size": "\(size)",
        ]
    }

    /// The pairs scenario over the raw relay.
    func runRaw(_ relay: RawTarget) async throws -> ScenarioReport {
        let streams = MessageStreams(count: pairs, window: window)
        let receivers = try await concurrentMap(pairs) { index in
            try await WireSocket.open(url: relay.url("pair=\(index)&side=b"), firstFrame: nil) { streams.receive(index, $0) }
        }
        let senders = try await concurrentMap(pairs) { index in
            try await WireSocket.open(url: relay.url("pair=\(index)&side=a"), firstFrame: nil) { _ in }
        }
        let size = size
        var report = try await measure(streams, target: relay.label, serverPID: relay.serverPID) { index, stamp in
            try await senders[index].write(stamp.rawFrame(size: size))
        }
        for socket in senders + receivers { await socket.close() }
        report.notes.append("raw relay: no auth, no storage, no JSON; the sender gets no acknowledgement")
        return report
    }

    /// The pairs scenario over ChatKit.
    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let users = try await server.makeUsers(2 * pairs, prefix: "p")
        let streams = MessageStreams(count: pairs, window: window)
        let receivers = try await concurrentMap(pairs) { index in
            try await ChatConnection.open(url: server.url(2 * index + 1), token: users[2 * index + 1].accessToken) {
                streams.receive(index, $0)
            }
        }
        let senders = try await concurrentMap(pairs) { index in
            try await ChatConnection.open(url: server.url(2 * index), token: users[2 * index].accessToken)
        }
        let conversations = try await concurrentMap(pairs) { index in
            let result = try await senders[index].request(
                .createConversation(.init(kind: .direct, memberIDs: [users[2 * index + 1].user.id]))
            )
            guard let conversation = result.conversation else { throw BenchError("createConversation gave none") }
            return conversation.id
        }
        let size = size
        var report = try await measure(streams, target: server.label, serverPID: server.serverPID) { index, stamp in
            try await senders[index].sendMessage(stamp.body(size: size), to: conversations[index])
        }
        report.errors = (senders + receivers).reduce(0) { $0 + $1.unansweredErrors }
        report.lastError = (senders + receivers).lazy.compactMap(\.lastError).first
        report.notes.append("each message is also echoed to its sender's connection, and answered with a result")
        for connection in senders + receivers { await connection.close() }
        return report
    }

    /// Runs the senders, drains, and reports.
    private func measure(
        _ streams: MessageStreams,
        target: String,
        serverPID: Int32,
        send: @escaping @Sendable (Int, MessageStamp) async throws -> Void
    ) async throws -> ScenarioReport {
        let meter = ResourceMeter(serverPID: serverPID)
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        let interval = rate > 0 ? UInt64(Double(pairs) / rate * 1e9) : 0
        let limit = messages
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Wake senders blocked on a full window at the deadline.
                let now = monotonicNanoseconds()
                if deadline > now { try? await Task.sleep(nanoseconds: deadline - now) }
                streams.stopSenders()
            }
            for index in 0..<pairs {
                group.addTask {
                    try await streams.runSender(index, limit: limit, deadline: deadline, interval: interval) {
                        try await send(index, $0)
                    }
                }
            }
            try await group.waitForAll()
        }
        await streams.drain(timeout: UInt64(drain * 1e9))
        let usage = meter.finish()
        var report = ScenarioReport(scenario: "pairs", target: target, parameters: parameters)
        let end = max(streams.lastDelivery.load(ordering: .relaxed), start + 1)
        let delivered = streams.delivered.load(ordering: .relaxed)
        report.add("delivered msgs/s", Double(delivered) / (Double(end - start) / 1e9), "msg/s")
        report.latency = streams.latency.summary
        report.latencyMeaning = rate > 0 ? "send-to-receive (from scheduled send)" : "send-to-receive"
        if rate > 0 {
            let lag = Double(streams.largestSendLag.load(ordering: .relaxed)) / 1e6
            report.notes.append(
                String(
                    format: "open-loop: %d messages sent as scheduled; the sender was at most %.2f ms late",
                    streams.totalSent, lag
                )
            )
        }
        report.delivery = streams.tally()
        report.usage = usage
        return report
    }
}
