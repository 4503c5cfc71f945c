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

import Foundation

/// One measured figure.
struct Measurement {
    var name: String
    var operations: Int
    var elapsed: Duration
    /// What the operations are, plural, for the table (`ops`, `deliveries`...).
    var unit = "ops"

    var nanosecondsPerOperation: Double {
        Double(elapsed.components.seconds) * 1e9 / Double(operations)
            + Double(elapsed.components.attoseconds) / 1e9 / Double(operations)
    }

    var operationsPerSecond: Double { 1e9 / nanosecondsPerOperation }
}

/// Runs `body` `runs` times after one warm-up run and keeps the fastest run: the figure least disturbed by
/// whatever else the machine was doing.
/// Returns `nil` without running anything when `--only` names other benchmarks.
func measure(
    _ name: String, operations: Int, unit: String = "ops", runs: Int = 5, _ body: () async throws -> Void
) async rethrows -> Measurement? {
    guard isSelected(name) else { return nil }
    try await body()
    var best = Duration.seconds(Int64.max)
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try await body()
        best = min(best, ContinuousClock.now - start)
    }
    return Measurement(name: name, operations: operations, elapsed: best, unit: unit)
}

/// Like `measure` for a body that times its own measured phase (after a set-up
/// that is not to be counted) and returns that time.
func measurePhase(
    _ name: String, operations: Int, unit: String = "ops", runs: Int = 5, _ body: () async throws -> Duration
) async rethrows -> Measurement? {
    guard isSelected(name) else { return nil }
    _ = try await body()
    var best = Duration.seconds(Int64.max)
    for _ in 0..<runs {
        best = min(best, try await body())
    }
    return Measurement(name: name, operations: operations, elapsed: best, unit: unit)
}

/// Whether the benchmark is to run: every one, or those whose names contain the `--only` argument (such as
/// `--only append` to profile the appends alone).
func isSelected(_ name: String) -> Bool {
    let arguments = CommandLine.arguments
    guard let flag = arguments.firstIndex(of: "--only"), flag + 1 < arguments.count else { return true }
    return name.lowercased().contains(arguments[flag + 1].lowercased())
}

/// Prints the table, one row per measurement.
func report(_ measurements: [Measurement?]) {
    let measurements = measurements.compactMap { $0 }
    let width = max(10, measurements.map(\.name.count).max() ?? 0)
    say("\("benchmark".padding(toLength: width, withPad: " ", startingAt: 0))  \("ns per op".leftPadded(12))  \("per second".leftPadded(14))")
    for measurement in measurements {
        let name = measurement.name.padding(toLength: width, withPad: " ", startingAt: 0)
        let perOperation = String(format: "%.0f", measurement.nanosecondsPerOperation).leftPadded(12)
        let perSecond = String(format: "%.0f", measurement.operationsPerSecond).leftPadded(14)
        say("\(name)  \(perOperation)  \(perSecond) \(measurement.unit)/s")
    }
}

/// Prints a line at once, also when the output goes to a file.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
