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
import UnixSignals

/// Runs the benchmark's ChatKit server alone, so that the generator (`--url`, `--server-pid`) runs in another
/// process: the two then have separate CPU, memory and open-file figures.
struct Serve: AsyncParsableCommand, Sendable {
    static let configuration = CommandConfiguration(
        abstract: "Run the benchmark's ChatKit server in this process until SIGINT/SIGTERM or --seconds."
    )

    @Option(help: "The store: memory or sqlite (a temporary file, removed at the end).")
    var store: StoreKind = .memory

    @Option(help: "SQLite's synchronous pragma: normal or full.")
    var synchronous: String = "normal"

    @Option(help: "Listening ports (free ports on 127.0.0.1).")
    var ports = 1

    @Option(help: "Stop after this many seconds.")
    var seconds = 3600.0

    @Option(help: "Write the --url arguments for the generator to this file once listening.")
    var urlFile: String?

    @Flag(help: "Run the raw relay (the baseline) instead of ChatKit, on one port; drive it with --server raw.")
    var raw = false

    func run() async throws {
        let limit = ProcessStats.raiseOpenFilesLimit()
        if raw {
            try await RawTarget.runInProcess { relay in
                try announce(urls: [relay.url], label: "raw relay", limit: limit)
                await waitForStop()
            }
            return
        }
        try await ChatKitHost.run(.init(store: store, ports: ports, synchronousFull: synchronous == "full")) { server in
            try announce(urls: server.webSocketURLs, label: server.label, limit: limit)
            await waitForStop()
        }
    }

    /// Prints (and writes to `--url-file`) the arguments that point the generator at this process.
    private func announce(urls: [String], label: String, limit: (soft: UInt64, hard: UInt64)) throws {
        let arguments = urls.map { "--url \($0)" }.joined(separator: " ")
        print("chatkit-bench serve: pid \(getpid()), \(label), open files limit raised to \(limit.soft) (hard \(limit.hard))")
        print("chatkit-bench serve: \(arguments) --server-pid \(getpid())")
        fflush(nil)  // all streams: the lines above reach a file or pipe at once
        if let urlFile {
            try "\(arguments) --server-pid \(getpid())\n".write(toFile: urlFile, atomically: true, encoding: .utf8)
        }
    }

    /// Returns after `--seconds`, or at SIGINT or SIGTERM.
    private func waitForStop() async {
        let seconds = seconds
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: .seconds(seconds)) }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
            }
            _ = await group.next()
            group.cancelAll()
        }
    }
}
