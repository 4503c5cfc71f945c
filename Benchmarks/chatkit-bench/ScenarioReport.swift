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

/// The outcome of one scenario against one server: figures, latency, delivery counts and what it cost.
struct ScenarioReport: Sendable, Codable {
    /// A named figure, such as delivered messages per second.
    struct Figure: Sendable, Codable {
        var name: String
        var value: Double
        var unit: String
        /// This figure divided by the raw baseline's same figure, measured in the same run.
        var ratioToBaseline: Double?
    }

    var scenario: String
    var target: String
    var parameters: [String: String]
    var figures: [Figure] = []
    var latency: LatencySummary?
    var latencyMeaning: String?
    var delivery = DeliveryTally()
    /// Error frames received that no request waited for (refused sends, rate limits).
    var errors = 0
    var lastError: String?
    var usage: ResourceUsage?
    var notes: [String] = []
    /// What kept the scenario from completing (a client that never synced, say): the run fails, as for a loss.
    var problems: [String] = []

    /// Whether every message arrived exactly once and the scenario completed.
    var isClean: Bool { delivery.lost == 0 && delivery.duplicates == 0 && problems.isEmpty }

    mutating func add(_ name: String, _ value: Double, _ unit: String) {
        figures.append(Figure(name: name, value: value, unit: unit))
    }

    /// Sets each figure's ratio to the same figure of `baseline`.
    mutating func compare(to baseline: ScenarioReport) {
        for index in figures.indices {
            if let other = baseline.figures.first(where: { $0.name == figures[index].name }), other.value > 0 {
                figures[index].ratioToBaseline = figures[index].value / other.value
            }
        }
        if let latency, let base = baseline.latency {
            notes.append(
                String(format: "latency vs raw: p50 %.1f×, p99 %.1f×", latency.p50 / max(base.p50, 0.001), latency.p99 / max(base.p99, 0.001))
            )
        }
    }

    /// The human-readable form.
    var text: String {
        var lines: [String] = []
        let parameterText = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append("== \(scenario) on \(target)  [\(parameterText)]")
        for figure in figures {
            var line = "  " + figure.name.padding(toLength: 34, withPad: " ", startingAt: 0)
                + String(format: "%14.1f %@", figure.value, figure.unit)
            if let ratio = figure.ratioToBaseline { line += String(format: "   (%.2f × raw)", ratio) }
            lines.append(line)
        }
        if let latency {
            lines.append(
                String(
                    format: "  %@ ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f  (n=%d)",
                    latencyMeaning ?? "latency", latency.p50, latency.p90, latency.p99, latency.p999, latency.max,
                    latency.count
                )
            )
        }
        lines.append(
            "  messages: expected \(delivery.expected), delivered \(delivery.delivered), LOST (not delivered in time) \(delivery.lost), "
                + "DUPLICATED \(delivery.duplicates), out of order \(delivery.outOfOrder), error frames \(errors)"
        )
        if let lastError { lines.append("  last error frame: \(lastError)") }
        if let usage { lines.append("  " + usage.summary) }
        for note in notes { lines.append("  note: " + note) }
        for problem in problems { lines.append("  PROBLEM: " + problem) }
        lines.append(
            isClean
                ? "  OK: no message lost or duplicated"
                : problems.isEmpty ? "  FAIL: messages lost or duplicated" : "  FAIL: the scenario did not complete"
        )
        return lines.joined(separator: "\n")
    }
}
