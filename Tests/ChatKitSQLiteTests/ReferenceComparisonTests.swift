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

@Suite("SQLiteChatStore against the in-memory reference")
struct SQLiteReferenceComparisonTests {
    @Test("random calls on a database file answer as the reference does", arguments: 1...12 as ClosedRange<UInt64>)
    func fileDatabase(seed: UInt64) async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("chat.sqlite").path
            try await ReferenceComparison.run(seed: seed, steps: 500) { now in
                try SQLiteChatStore(configuration: .init(location: .file(path), now: now))
            }
        }
    }
}
