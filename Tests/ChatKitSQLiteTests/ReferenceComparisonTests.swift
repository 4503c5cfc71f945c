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
@Suite("SQLiteChatStore against the in-memory reference", .serialized)
struct SQLiteReferenceComparisonTests {
    @Test("random calls on a database file answer as the reference does", arguments: 1...8 as ClosedRange<UInt64>)
    func fileDatabase(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await ReferenceComparison.run(seed: seed, steps: 400) { now in
                try SQLiteChatStore(configuration: .init(location: .file(path), now: now))
            }
        }
    }
}
