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
        guard target.server == .chatkit, !target.baseline else { throw ValidationError("idle runs against chatkit only") }
        // In process, each connection costs two descriptors (both ends).
        let perConnection: UInt64 = target.url.isEmpty ? 2 : 1
        if UInt64(connections) * perConnection + 200 > limit.soft {
            throw ValidationError(
                "\(connections) connections need about \(UInt64(connections) * perConnection + 200) open files; the limit is \(limit.soft). "
                    + "Run the server in its own process (chatkit-bench serve) and pass --url and --server-pid."
            )
        }
        var report = try await target.withChatKit { try await runChatKit($0) }
        report.notes.append("open files: soft limit raised to the hard limit, \(limit.soft) (hard \(limit.hard))")
        try target.finish([report])
    }

    func runChatKit(_ server: ChatKitTarget) async throws -> ScenarioReport {
        let tokens = try await server.makeUsers(min(users, connections), prefix: "i").map(\.accessToken)
        try await Task.sleep(for: .milliseconds(500))
        let rssBefore = ProcessStats.residentKiB(of: server.serverPID)
        let meter = ResourceMeter(serverPID: server.serverPID)
        let start = monotonicNanoseconds()
        let sessions = try await concurrentMap(connections, limit: concurrency) { index in
            try await ChatConnection.open(url: server.url(index), token: tokens[index % tokens.count])
        }
        let connectSeconds = Double(monotonicNanoseconds() - start) / 1e9
        let connectUsage = meter.finish()
        try await Task.sleep(for: .seconds(max(hold, 0.5)))
        let rssAfter = ProcessStats.residentKiB(of: server.serverPID)

        var report = ScenarioReport(
            scenario: "idle", target: server.label,
            parameters: [
                "connections": "\(connections)", "users": "\(tokens.count)", "concurrency": "\(concurrency)",
                "ports": "\(server.webSocketURLs.count)",
            ]
        )
        report.add("authenticated connects/s", Double(connections) / connectSeconds, "conn/s")
        if let rssBefore, let rssAfter {
            report.add("server RSS before", Double(rssBefore) / 1024, "MiB")
            report.add("server RSS holding", Double(rssAfter) / 1024, "MiB")
            report.add("RSS per connection", Double(rssAfter - rssBefore) * 1024 / Double(connections), "bytes")
            if server.serverPID == getpid() {
                report.notes.append("in process: the RSS is server and generator together (both ends of each socket)")
            }
        }
        report.errors = sessions.reduce(0) { $0 + $1.unansweredErrors }
        report.usage = connectUsage
        report.notes.append("CPU figures cover the connect phase")
        for session in sessions { await session.close() }
        return report
    }
}
