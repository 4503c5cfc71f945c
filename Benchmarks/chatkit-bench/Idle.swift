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

#if canImport(Glibc)
import Glibc
#endif

/// C authenticated connections held open: the server's memory per connection and the connect rate.
struct Idle: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "C authenticated connections held: server RSS per connection and connects/s."
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Connections to open and hold.")
    var connections = 1000

    @Option(help: "Distinct users (connections share their tokens round-robin, as a user's devices would).")
    var users = 1000

    @Option(help: "Connects in progress at once.")
    var concurrency = 128

    @Option(help: "Seconds to hold the connections once all are open.")
    var hold = 2.0

    func run() async throws {
        let limit = ProcessStats.raiseOpenFilesLimit()
        // In process, each connection costs two descriptors (both ends); with --baseline, both servers' sockets
        // are open one after the other, not together.
        let perConnection: UInt64 = target.url.isEmpty ? 2 : 1
        if UInt64(connections) * perConnection + 200 > limit.soft {
            throw ValidationError(
                "\(connections) connections need about \(UInt64(connections) * perConnection + 200) open files; the limit is \(limit.soft). "
                    + "Run the server in its own process (chatkit-bench serve [--raw]) and pass --url and --server-pid."
            )
        }
        var reports = try await target.runScenario(raw: runRaw, chatKit: runChatKit)
        for index in reports.indices {
            reports[index].notes.append("open files: soft limit raised to the hard limit, \(limit.soft) (hard \(limit.hard))")
        }
        try target.finish(reports)
    }

    /// The idle scenario over the raw relay: the same connections, each registered as a group member, with no
    /// `hello`, token or session.
    func runRaw(_ relay: RawTarget) async throws -> ScenarioReport {
        try await hold(label: relay.label, serverPID: relay.serverPID, parameters: ["ports": "1"]) { _, onClose in
            let socket = try await WireSocket.open(
                url: relay.url("group=idle&role=member"), firstFrame: nil, onText: { _ in }, onClose: onClose
            )
            return ({ 0 }, { await socket.close() })
        }
    }

    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let tokens = try await server.makeUsers(min(users, connections), prefix: "i").map(\.accessToken)
        let parameters = ["users": "\(tokens.count)", "ports": "\(server.webSocketURLs.count)"]
        return try await hold(label: server.label, serverPID: server.serverPID, parameters: parameters) {
            index, onClose in
            let session = try await ChatConnection.open(
                url: server.url(index), token: tokens[index % tokens.count], onClose: onClose
            )
            return ({ session.unansweredErrors }, { await session.close() })
        }
    }

    /// Opens the connections (`concurrency` at a time), holds them, measures, and closes them. `open` opens
    /// connection `index`, calling `onClose` once it closes, and returns its count of unanswered error frames and how
    /// to close it. A connection the server closed during the hold makes the run fail: the RSS per connection would
    /// then be understated.
    private func hold(
        label: String,
        serverPID: Int32,
        parameters: [String: String],
        open: @escaping @Sendable (_ index: Int, _ onClose: @escaping @Sendable () -> Void) async throws
            -> (errors: @Sendable () -> Int, close: @Sendable () async -> Void)
    ) async throws -> ScenarioReport {
        let closedEarly = SharedCounter()
        try await Task.sleep(for: .milliseconds(500))
        let rssBefore = ProcessStats.residentKiB(of: serverPID)
        let meter = ResourceMeter(serverPID: serverPID)
        let start = monotonicNanoseconds()
        let opened = try await concurrentMap(connections, limit: concurrency) { index in
            try await open(index) { closedEarly.add() }
        }
        let connectSeconds = Double(monotonicNanoseconds() - start) / 1e9
        let connectUsage = meter.finish()
        try await Task.sleep(for: .seconds(max(hold, 0.5)))
        let rssAfter = ProcessStats.residentKiB(of: serverPID)
        let closedDuringHold = closedEarly.value

        var report = ScenarioReport(
            scenario: "idle", target: label,
            parameters: parameters.merging(["connections": "\(connections)", "concurrency": "\(concurrency)"]) { $1 }
        )
        report.add("connects/s", Double(connections) / connectSeconds, "conn/s")
        if let rssBefore, let rssAfter {
            report.add("server RSS before", Double(rssBefore) / 1024, "MiB")
            report.add("server RSS holding", Double(rssAfter) / 1024, "MiB")
            report.add("RSS per connection", Double(rssAfter - rssBefore) * 1024 / Double(connections), "bytes")
            if serverPID == getpid() {
                report.notes.append(
                    "in process: the RSS is server and generator together (both ends of each socket), and a second "
                        + "run reuses memory the first freed; compare servers in their own processes (serve [--raw])"
                )
            }
        }
        if closedDuringHold > 0 {
            report.problems.append(
                "\(closedDuringHold) of \(connections) connections closed before the end of the hold"
            )
        }
        report.errors = opened.reduce(0) { $0 + $1.errors() }
        report.usage = connectUsage
        report.notes.append("CPU figures cover the connect phase; ChatKit's connects are authenticated (hello, token, welcome)")
        for connection in opened { await connection.close() }
        return report
    }
}
