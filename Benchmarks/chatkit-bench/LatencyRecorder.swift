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

import Histogram
import Synchronization

/// Latencies in microseconds, in an HdrHistogram (3 significant digits, up to 10 minutes), safe to record into
/// from any thread.
final class LatencyRecorder: Sendable {
    private let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three))

    /// Records the time from `sentAt` (monotonic nanoseconds) to now.
    func record(since sentAt: UInt64, now: UInt64 = monotonicNanoseconds()) {
        let microseconds = now > sentAt ? (now - sentAt) / 1000 : 0
        recordMicroseconds(microseconds)
    }

    func recordMicroseconds(_ microseconds: UInt64) {
        _ = histogram.withLock { $0.record(min(microseconds, 600_000_000)) }
    }

    /// p50, p90, p99, p99.9 and max in milliseconds, or `nil` with no samples.
    var summary: LatencySummary? {
        histogram.withLock { histogram in
            guard histogram.totalCount > 0 else { return nil }
            func ms(_ value: UInt64) -> Double { Double(value) / 1000 }
            return LatencySummary(
                count: Int(histogram.totalCount),
                p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
                p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)),
                max: ms(histogram.max)
            )
        }
    }
}

/// Latency percentiles in milliseconds.
struct LatencySummary: Sendable, Codable {
    var count: Int
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
}
