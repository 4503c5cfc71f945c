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

/// K messages sent to an offline user; the time for them to connect and be fully synced.
struct Backlog: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "K messages to an offline user, then the time to connect and be fully synced."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Messages waiting for the offline user.")
    var messages = 10_000

    @Option(help: "Message body size in bytes.")
    var size = 100

    @Option(help: "Seconds to wait for the catch-up before giving up.")
    var timeout = 60.0

    func run() async throws {
        ProcessStats.raiseOpenFilesLimit()
        guard target.server == .chatkit, !target.baseline else { throw ValidationError("backlog runs against chatkit only") }
        let report = try await target.withChatKit { try await runChatKit($0) }
        try target.finish([report])
    }

    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let users = try await server.makeUsers(2, prefix: "k")
        // The receiver was online once: its cursor is the position it was welcomed at.
        let first = try await ChatConnection.open(url: server.url(1), token: users[1].accessToken)
        let cursor = first.welcomePosition
        await first.close()
        await first.closed()  // offline before the messages are sent

        let acks = AckWindow(window: 64)
        let sender = try await ChatConnection.open(
            url: server.url(0), token: users[0].accessToken, onFrame: { acks.receive($0) }, onClose: { acks.close() }
        )
        let conversation = try await sender.request(
            .createConversation(.init(kind: .direct, memberIDs: [users[1].user.id]))
        ).conversation!.id
        let sendStart = monotonicNanoseconds()
        try await acks.pipeline(messages, timeout: UInt64(timeout * 1e9)) { index in
            let stamp = MessageStamp(number: index + 1, sentAt: monotonicNanoseconds())
            try await sender.sendMessage(stamp.body(size: size), to: conversation)
        }
        let sendSeconds = Double(monotonicNanoseconds() - sendStart) / 1e9

        let tracker = DeliveryTracker()
        let syncedAt = SharedLatestTime()
        let meter = ResourceMeter(serverPID: server.serverPID)
        let start = monotonicNanoseconds()
        let receiver = try await ChatConnection.open(url: server.url(1), token: users[1].accessToken, cursor: cursor) { text in
            if let stamp = MessageStamp.find(in: text) {
                tracker.record(stamp.number)
            } else if FrameScan.type(of: text) == .synced {
                syncedAt.record()
            }
        }
        let connectedAt = monotonicNanoseconds()
        let end = start + UInt64(timeout * 1e9)
        while syncedAt.value == 0, monotonicNanoseconds() < end {
            try await Task.sleep(nanoseconds: 1_000_000)
        }
        let usage = meter.finish()
        let synced = syncedAt.value

        var report = ScenarioReport(
            scenario: "backlog", target: server.label, parameters: ["messages": "\(messages)", "size": "\(size)"]
        )
        if synced > 0 {
            let seconds = Double(synced - start) / 1e9
            report.add("connect + sync time", seconds * 1000, "ms")
            report.add("catch-up msgs/s", Double(messages) / seconds, "msg/s")
        } else {
            report.problems.append("not synced within \(timeout) s")
        }
        report.add("connect (to welcome)", Double(connectedAt - start) / 1e6, "ms")
        report.add("sending the backlog (acked)", Double(messages) / sendSeconds, "msg/s")
        report.delivery = tracker.tally(expected: messages)
        report.errors = sender.unansweredErrors + receiver.unansweredErrors
        report.lastError = sender.lastError ?? receiver.lastError
        report.usage = usage
        await sender.close()
        await receiver.close()
        return report
    }
}
