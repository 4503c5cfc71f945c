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

import ChatKitCore
import ChatKitSQLite
import ChatKitTesting
import Foundation
import Testing

/// One seed at a time: run together, a dozen comparisons kept both cores busy for two minutes of the whole suite
/// (each commit runs on the appending task's thread), and timing-sensitive tests elsewhere starved.
///
/// The suite runs seeds 1 to 8 of 400 calls each. For a longer search by hand, name other seeds and lengths:
/// `CHATKIT_REFERENCE_SEEDS=9-500 CHATKIT_REFERENCE_STEPS=2000 swift test --filter SQLiteReferenceComparisonTests`.
@Suite("SQLiteChatStore against the in-memory reference", .serialized)
struct SQLiteReferenceComparisonTests {
    /// The seeds `CHATKIT_REFERENCE_SEEDS` names (`FIRST-LAST`, or one number), or 1 to 8.
    static let seeds: ClosedRange<UInt64> = {
        guard let text = ProcessInfo.processInfo.environment["CHATKIT_REFERENCE_SEEDS"] else { return 1...8 }
        let bounds = text.split(separator: "-").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard let first = bounds.first, let last = bounds.last, bounds.count <= 2, first <= last else {
            fatalError("CHATKIT_REFERENCE_SEEDS must be FIRST-LAST or one number, not '\(text)'")
        }
        return first...last
    }()

    /// The calls per seed `CHATKIT_REFERENCE_STEPS` names, or 400.
    static let steps: Int = {
        guard let text = ProcessInfo.processInfo.environment["CHATKIT_REFERENCE_STEPS"] else { return 400 }
        guard let steps = Int(text), steps > 0 else {
            fatalError("CHATKIT_REFERENCE_STEPS must be a positive number, not '\(text)'")
        }
        return steps
    }()

    @Test("random calls on a database file answer as the reference does", arguments: seeds)
    func fileDatabase(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await ReferenceComparison.run(seed: seed, steps: Self.steps) { now in
                try SQLiteChatStore(configuration: .init(location: .file(path), now: now))
            }
        }
    }
}
