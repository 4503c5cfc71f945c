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
import Foundation

/// Which server a scenario drives, and how results are printed.
struct TargetOptions: ParsableArguments, Sendable {
    enum ServerKind: String, ExpressibleByArgument, CaseIterable {
        case chatkit, raw
    }

    @Option(help: "Which server: chatkit, or raw (the minimal relay baseline; not for backlog and storm).")
    var server: ServerKind = .chatkit

    @Flag(help: "Also run the raw relay with the same scenario and print each ChatKit figure as a ratio to it.")
    var baseline = false

    @Option(help: "The store of the in-process ChatKit server: memory or sqlite (a temporary file).")
    var store: StoreKind = .memory

    @Option(help: "SQLite's synchronous pragma for --store sqlite: normal (the store's default) or full.")
    var synchronous: String = "normal"

    @Option(help: "Drive a running server at this WebSocket URL instead: ChatKit (ws://127.0.0.1:PORT/v1/ws; repeat for several ports), or with --server raw a raw relay (ws://127.0.0.1:PORT/raw, from chatkit-bench serve --raw).")
    var url: [String] = []

    @Option(help: "With --url: the server's process ID, to report its CPU time and RSS.")
    var serverPID: Int32?

    @Option(help: "Listening ports of the in-process server (connections are spread over them).")
    var ports = 1

    @Flag(help: "Print JSON instead of the table.")
    var json = false

    /// Runs `body` against the ChatKit server these options name.
    func withChatKit<T: Sendable>(_ body: @Sendable (ChatKitTarget) async throws -> T) async throws -> T {
        if !url.isEmpty { return try await body(.remote(urls: url, pid: serverPID)) }
        return try await ChatKitHost.run(
            .init(store: store, ports: ports, synchronousFull: synchronous == "full"), body
        )
    }

    /// Runs `body` against the raw relay: the one at `--url` with `--server raw`, else one started in this process.
    private func withRaw<T: Sendable>(_ body: @escaping @Sendable (RawTarget) async throws -> T) async throws -> T {
        if server == .raw, let first = url.first {
            return try await body(RawTarget(url: first, serverPID: serverPID ?? 0, label: "raw-url"))
        }
        return try await RawTarget.runInProcess(body)
    }

    /// Runs the scenario on the raw relay (`--server raw`, or first with `--baseline`) and on ChatKit, giving each
    /// ChatKit figure its ratio to the relay's.
    func runScenario(
        raw: @escaping @Sendable (RawTarget) async throws -> ScenarioReport,
        chatKit: @escaping @Sendable (ChatKitTarget) async throws -> ScenarioReport
    ) async throws -> [ScenarioReport] {
        if baseline && !url.isEmpty {
            throw ValidationError(
                "--baseline runs both servers in this process; against a server in another process, run the relay with chatkit-bench serve --raw and --server raw"
            )
        }
        var reports: [ScenarioReport] = []
        var baselineReport: ScenarioReport?
        if server == .raw || baseline {
            let report = try await withRaw(raw)
            baselineReport = report
            reports.append(report)
        }
        if server == .chatkit {
            var report = try await withChatKit(chatKit)
            if let baselineReport { report.compare(to: baselineReport) }
            reports.append(report)
        }
        return reports
    }

    /// Prints the reports and fails if any lost or duplicated a message.
    func finish(_ reports: [ScenarioReport]) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            for report in reports { print(report.text) }
        }
        if reports.contains(where: { !$0.isClean }) {
            FileHandle.standardError.write(
                Data("chatkit-bench: messages were lost or duplicated, or a scenario did not complete\n".utf8)
            )
            throw ExitCode(1)
        }
    }
}

extension StoreKind: ExpressibleByArgument {}
