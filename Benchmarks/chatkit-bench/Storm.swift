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

/// C clients in one group drop off, miss M messages, and reconnect at once with their cursors while L more are sent:
/// the time until all are resynced, and whether each got every message exactly once (the live ones reach a client
/// during its catch-up, or in it: the boundary where a reconnect could lose or repeat one).
struct Storm: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "C clients reconnect at once with their cursors; time until all are resynced."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Clients (each its own user, all in one group).")
    var clients = 1000

    @Option(help: "Messages sent to the group while the clients are away.")
    var messages = 10

    @Option(help: "Messages sent to the group while the clients reconnect (each must reach every client once).")
    var live = 10

    @Option(help: "Message body size in bytes.")
    var size = 100

    @Option(help: "Seconds to wait for every client to resync before giving up.")
    var timeout = 60.0

    func run() async throws {
        ProcessStats.raiseOpenFilesLimit()
        guard target.server == .chatkit, !target.baseline else { throw ValidationError("storm runs against chatkit only") }
        let report = try await target.withChatKit { try await runChatKit($0) }
        try target.finish([report])
    }

    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let users = try await server.makeUsers(clients + 1, prefix: "s")
        let acks = AckWindow(window: 64)
        let sender = try await ChatConnection.open(
            url: server.url(0), token: users[0].accessToken, onFrame: { acks.receive($0) }, onClose: { acks.close() }
        )
        let group = try await createGroup(owner: sender, title: "storm", members: users.dropFirst().map(\.user.id))

        // Every client is online once (its cursor is where it was welcomed), then all drop off.
        let firstSessions = try await concurrentMap(clients, limit: 256) { index in
            try await ChatConnection.open(url: server.url(index + 1), token: users[index + 1].accessToken)
        }
        let cursors = firstSessions.map(\.welcomePosition)
        for session in firstSessions { await session.close() }
        // Offline before the messages are sent: not delivered live, and no teardown inside the resync's time.
        for session in firstSessions { await session.closed() }

        try await acks.pipeline(messages, timeout: UInt64(timeout * 1e9)) { index in
            let stamp = MessageStamp(number: index + 1, sentAt: monotonicNanoseconds())
            try await sender.sendMessage(stamp.body(size: size), to: group)
        }

        let trackers = (0..<clients).map { _ in DeliveryTracker() }
        let synced = SharedCounter()
        let lastSynced = SharedLatestTime()
        let meter = ResourceMeter(serverPID: server.serverPID)
        let start = monotonicNanoseconds()
        // Sent while the clients reconnect: each arrives in a client's catch-up or live after it, and must arrive
        // once.
        let liveSends = Task { [messages, live, size, timeout] in
            try await acks.pipeline(live, timeout: UInt64(timeout * 1e9)) { index in
                let stamp = MessageStamp(number: messages + index + 1, sentAt: monotonicNanoseconds())
                try await sender.sendMessage(stamp.body(size: size), to: group)
            }
        }
        let sessions = try await concurrentMap(clients, limit: clients) { index in
            let seenSynced = SharedFlag()
            return try await ChatConnection.open(
                url: server.url(index + 1), token: users[index + 1].accessToken, cursor: cursors[index]
            ) { text in
                if let stamp = MessageStamp.find(in: text) {
                    trackers[index].record(stamp.number)
                } else if FrameScan.type(of: text) == .synced,
                    seenSynced.set()
                {
                    lastSynced.record()
                    synced.add()
                }
            }
        }
        let connectedAt = monotonicNanoseconds()
        let end = start + UInt64(timeout * 1e9)
        while synced.value < clients, monotonicNanoseconds() < end {
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        let usage = meter.finish()
        try await liveSends.value
        let expected = messages + live
        while trackers.contains(where: { $0.unique < expected }), monotonicNanoseconds() < end {
            try await Task.sleep(nanoseconds: 2_000_000)
        }

        var report = ScenarioReport(
            scenario: "storm", target: server.label,
            parameters: [
                "clients": "\(clients)", "missed messages": "\(messages)", "live messages": "\(live)",
                "size": "\(size)",
            ]
        )
        let syncedCount = synced.value
        if syncedCount == clients {
            report.add("time until all resynced", Double(lastSynced.value - start) / 1e6, "ms")
        } else {
            report.problems.append("only \(syncedCount) of \(clients) clients resynced within \(timeout) s")
        }
        report.add("time until all welcomed", Double(connectedAt - start) / 1e6, "ms")
        report.add("reconnects/s", Double(clients) / (Double(connectedAt - start) / 1e9), "conn/s")
        report.delivery = trackers.reduce(DeliveryTally()) { $0 + $1.tally(expected: expected) }
        report.errors = sessions.reduce(sender.unansweredErrors) { $0 + $1.unansweredErrors }
        report.lastError = ([sender] + sessions).lazy.compactMap(\.lastError).first
        report.usage = usage
        await sender.close()
        for session in sessions { await session.close() }
        return report
    }
}
